"""Rebuild the `marts` schema (unsuppressed aggregates) from `core`, atomically.

Each mart table is one model, `schemas/warehouse/models/marts/<table>.sql`, run in the order
of MART_TABLES inside one transaction (`pipelines.warehouse_models`). All aggregation is SQL
in DuckDB with GROUPING SETS over the geography levels; one breakdown dimension at a time (a
cross join with the dimension list, then a CASE picks the category). See
`schemas/warehouse/marts.sql` for grains and `pipelines.disclosure.relations` for why each
count is defined so that its tables add up.
"""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb

from pipelines.catalog import table_exists
from pipelines.disclosure.relations import KEYS
from pipelines.grain import LayerBuild, enforce_grains
from pipelines.warehouse_models import drop_temporary, run_model, source_view

logger = logging.getLogger(__name__)

MARTS_DDL = Path(__file__).resolve().parents[3] / "schemas" / "warehouse" / "marts.sql"
MART_TABLES = (
    "survivor_statistics",
    "service_statistics",
    "referral_statistics",
    "quality_statistics",
    "quarantine_reasons",
    "reintegration_statistics",
    "followup_coverage",
    "geography",
)
# The grain of each count mart is the disclosure problem's cell key; geography's is its code.
# Checked before a rebuild commits (`build_marts`; its results are the marts' asset checks).
MART_GRAIN: dict[str, list[str]] = {**KEYS, "geography": ["geo_code"]}
assert set(MART_GRAIN) == set(MART_TABLES), "every mart declares its grain"

# The published grid (docs/interfaces.md section 4). Finer places get coarser periods:
# monthly counts per district, or anything below a year per local level, would be nearly
# all suppressed, and those suppressions link into the huge groups that make disclosure
# control slow while telling nobody anything.
PERIOD_TYPES_BY_LEVEL = {
    "national": ("month", "quarter", "year", "bs_month", "bs_fiscal_year"),
    "province": ("month", "quarter", "year", "bs_month", "bs_fiscal_year"),
    "district": ("year", "bs_fiscal_year"),
    "local_level": ("year", "bs_fiscal_year"),
}
# Breakdowns by group (sex, age band, ...) are published for the nation and the provinces by
# year and fiscal year; months and quarters carry the totals (dimension `all`) only. A
# breakdown per month and province is nearly all small cells, and its suppressions link
# across time, place and dimension into the large groups that made disclosure control slow.
BREAKDOWN_PERIOD_TYPES = ("year", "bs_fiscal_year")
# Services, referrals, reintegration and follow-up coverage are published for the nation and
# the provinces by year and fiscal year only (their models say why).
# Districts and local levels: dimension `all` only.
LOCAL_LEVEL_DIMENSIONS = ("all",)


def survivor_cell_published(geo_level: str, period_type: str, dimension: str) -> bool:
    """Whether survivor_statistics publishes this combination (the grid its model builds)."""
    if period_type not in PERIOD_TYPES_BY_LEVEL[geo_level]:
        return False
    if geo_level in ("district", "local_level"):
        return dimension in LOCAL_LEVEL_DIMENSIONS
    return dimension == "all" or period_type in BREAKDOWN_PERIOD_TYPES


# Intermediate relations (schemas/warehouse/models/marts/_<name>.sql) run before the model
# that first needs them, and dropped before the build commits.
_INTERMEDIATES_BEFORE = {
    "survivor_statistics": ("period_days", "episode_periods", "counted_units"),
    "reintegration_statistics": ("scored_visits",),
}
# Operations and linkage tables the marts read, as temp views (empty while the table is
# missing: a warehouse before its first batch or linkage run).
_SOURCE_VIEWS = {
    "batch_receipts": (
        "ops",
        "batches",
        {
            "received_at": "TIMESTAMPTZ",
            "source_type": "VARCHAR",
            "status": "VARCHAR",
            "row_count": "INTEGER",
            "rows_loaded": "INTEGER",
            "rows_quarantined": "INTEGER",
        },
    ),
    "quarantined_rows": (
        "ops",
        "quarantine",
        {
            "source_type": "VARCHAR",
            "rule": "VARCHAR",
            "batch_id": "VARCHAR",
            "source_row": "INTEGER",
        },
    ),
    "scored_pairs": (
        "linkage",
        "pairs",
        {"record_token_l": "VARCHAR", "decision": "VARCHAR", "scored_at": "TIMESTAMPTZ"},
    ),
}


def build_marts(con: duckdb.DuckDBPyConnection) -> LayerBuild:
    """Drop and rebuild every mart table in one transaction, each checked on its grain
    before it commits; returns row counts and the grain checks per table."""
    con.execute("BEGIN TRANSACTION")
    try:
        for view, (schema, table, columns) in _SOURCE_VIEWS.items():
            present = table_exists(con, schema, table)
            source_view(con, view, f"{schema}.{table}" if present else None, columns)
        con.execute("DROP SCHEMA IF EXISTS marts CASCADE")
        con.execute(MARTS_DDL.read_text(encoding="utf-8"))
        for table in MART_TABLES:
            for name in _INTERMEDIATES_BEFORE.get(table, ()):
                run_model(con, "marts", f"_{name}")
            run_model(con, "marts", table)
        grains = enforce_grains(con, "marts", MART_GRAIN)
        for name in (*reversed(_all_intermediates()), *_SOURCE_VIEWS):
            drop_temporary(con, name)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    built = LayerBuild(grains)
    logger.info("marts rebuilt: %s", built.counts)
    return built


def _all_intermediates() -> tuple[str, ...]:
    """Every intermediate relation, in the order they are created."""
    return tuple(name for names in _INTERMEDIATES_BEFORE.values() for name in names)
