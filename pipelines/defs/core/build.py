"""Rebuild the `core` schema from staging + linkage, atomically.

Plain functions over a DuckDB connection (no Dagster), so tests and the CLI can call them.
`build_core` drops and recreates every core table inside one transaction: readers of the
warehouse see either the previous core or the new one, never a half-built mix, and a crash
mid-build rolls back to the previous state. Rebuilding from the same inputs gives identical
tables (every tie is broken on a stable key).
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.catalog import table_exists
from pipelines.defs.core.followups import SCORE_COLUMNS, answer_columns_sql, score_visits
from pipelines.defs.ingest.staging_schema import STAGING_COLUMN_TYPES
from pipelines.grain import LayerBuild, enforce_grains
from pipelines.warehouse_models import drop_temporary, run_model, source_view
from schemas.calendar import bs_fiscal_year, bs_fiscal_year_start, bs_month_label, bs_month_start
from schemas.geography import load_geography
from schemas.vocabularies import SERVICES, SOURCE_TYPES

logger = logging.getLogger(__name__)

CORE_DDL = Path(__file__).resolve().parents[3] / "schemas" / "warehouse" / "core.sql"
STAGING_SOURCES = SOURCE_TYPES
# The core tables in build order: each model (schemas/warehouse/models/core/<table>.sql)
# reads only the tables before it and the temp views `build_core` sets up first.
CORE_TABLES = (
    "geography",
    "calendar",
    "survivor_records",
    "agencies",
    "episodes",
    "survivors",
    "episode_services",
    "referrals",
    "followups",
    "id_change_log",
)
# The grain key of each core table: unique and never NULL, checked before a rebuild commits
# (`build_core`; its results are the tables' asset checks). Not a PRIMARY KEY in the DDL:
# DuckDB builds and writes an index for one, which took 8.8 s of a 25.7 s rebuild at 1M
# records (DuckDB's performance guide advises against constraints on bulk loads unless
# they are what ensures integrity; here `enforce_grains` does).
CORE_GRAIN: dict[str, tuple[str, ...]] = {
    "geography": ("geo_code",),
    "calendar": ("calendar_date",),
    "survivor_records": ("record_token",),
    "agencies": ("agency_id",),
    "episodes": ("episode_id",),
    "survivors": ("survivor_id",),
    "episode_services": ("episode_id", "service_code"),
    "referrals": ("episode_id", "direction"),
    "followups": ("record_token",),
    "id_change_log": ("event_id",),
}
assert set(CORE_GRAIN) == set(CORE_TABLES), "every core table declares its grain"
# A survivor is "returning" (the re-trafficking indicator) when seen again at least this long
# after an earlier episode; shorter gaps are one episode of care spread over several agencies.
RETURNING_GAP = "6 months"

# The staging columns core reads (types from the one batch definition).
_STAGING_COLUMN_NAMES = (
    "record_token",
    "source_type",
    "agency_id",
    "batch_id",
    "source_row",
    "record_kind",
    "contact_date",
    "sex",
    "age_band",
    "province_code",
    "district_code",
    "local_level_code",
    "caste_ethnicity",
    "exploitation_type",
    "destination_country",
    "services",
    "referred_from",
    "referred_to",
    "loaded_at",
    "consent_scope",
)
_STAGING_COLUMNS = ", ".join(_STAGING_COLUMN_NAMES)


def _staged_sql(con: duckdb.DuckDBPyConnection) -> str:
    """UNION ALL of the staging tables that exist (names from a fixed allowlist)."""
    parts = [
        f"SELECT {_STAGING_COLUMNS} FROM staging.{source}"  # noqa: S608 - allowlisted names
        for source in STAGING_SOURCES
        if table_exists(con, "staging", source)
    ]
    if not parts:
        typed_nulls = ", ".join(
            f"NULL::{STAGING_COLUMN_TYPES[name]} AS {name}" for name in _STAGING_COLUMN_NAMES
        )
        return f"SELECT {typed_nulls} WHERE false"
    return " UNION ALL ".join(parts)


def _answers_sql(con: duckdb.DuckDBPyConnection) -> str:
    """Follow-up answers of every staged row (record_token, batch_id, source_row, ri_*)."""
    parts = [
        # Allowlisted table names; indicator columns from the versioned config.
        f"SELECT record_token, batch_id, source_row, {answer_columns_sql(con, 'staging', s)} "  # noqa: S608
        f"FROM staging.{s} WHERE record_kind = 'followup'"
        for s in STAGING_SOURCES
        if table_exists(con, "staging", s)
    ]
    return " UNION ALL ".join(parts) if parts else ""


def _followup_scores(con: duckdb.DuckDBPyConnection, answers_sql: str) -> pd.DataFrame:
    """Scores of the current version of each follow-up record (after survivor_records)."""
    if not answers_sql:
        return pd.DataFrame(columns=SCORE_COLUMNS)
    answers = con.execute(
        f"SELECT a.* EXCLUDE (batch_id, source_row) FROM ({answers_sql}) AS a "  # noqa: S608
        "JOIN core.survivor_records AS r USING (record_token, batch_id, source_row) "
        "WHERE r.record_kind = 'followup' ORDER BY a.record_token"
    ).df()
    return score_visits(answers)


def geography_frame() -> pd.DataFrame:
    """Reference geography as rows of core.geography (nation first, then by code)."""
    geo = load_geography()
    rows = [("national", "NP", None, "Nepal", "नेपाल", None, None)]
    rows += [("province", p.code, "NP", p.name_en, p.name_ne, None, None) for p in geo.provinces]
    rows += [
        ("district", d.code, d.province_code, d.name_en, d.name_ne, None, None)
        for d in geo.districts
    ]
    rows += [
        ("local_level", ll.code, ll.district_code, ll.name_en, ll.name_ne, ll.level_type, None)
        for ll in geo.local_levels
    ]
    columns = [
        "geo_level",
        "geo_code",
        "parent_code",
        "name_en",
        "name_ne",
        "level_type",
        "population",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    frame["population"] = frame["population"].astype("Int64")
    return frame


def calendar_frame(first: dt.date | None, last: dt.date | None) -> pd.DataFrame:
    """One row per day from `first` to `last` with AD and Bikram Sambat period labels."""
    columns = [
        "calendar_date",
        "month",
        "month_start",
        "quarter",
        "quarter_start",
        "year",
        "year_start",
        "bs_month",
        "bs_month_start",
        "bs_fiscal_year",
        "bs_fiscal_year_start",
    ]
    if first is None or last is None:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    rows = []
    bs_starts: dict[str, dt.date] = {}
    fy_starts: dict[str, dt.date] = {}
    day = first
    while day <= last:
        q = (day.month - 1) // 3
        bs_month = bs_month_label(day)
        fiscal = bs_fiscal_year(day)
        if bs_month not in bs_starts:
            bs_starts[bs_month] = bs_month_start(bs_month)
        if fiscal not in fy_starts:
            fy_starts[fiscal] = bs_fiscal_year_start(fiscal)
        rows.append(
            (
                day,
                f"{day.year:04d}-{day.month:02d}",
                day.replace(day=1),
                f"{day.year:04d}-Q{q + 1}",
                dt.date(day.year, 3 * q + 1, 1),
                f"{day.year:04d}",
                dt.date(day.year, 1, 1),
                bs_month,
                bs_starts[bs_month],
                fiscal,
                fy_starts[fiscal],
            )
        )
        day += dt.timedelta(days=1)
    return pd.DataFrame(rows, columns=columns)


_ID_CHANGES_COLUMNS = {
    "event_id": "BIGINT",
    "event_at": "TIMESTAMPTZ",
    "event": "VARCHAR",
    "survivor_id": "VARCHAR",
    "other_survivor_id": "VARCHAR",
    "record_count": "INTEGER",
    "run_id": "VARCHAR",
}
_INPUT_VIEWS = ("staged", "memberships", "id_changes")
_INPUT_FRAMES = ("geography_source", "calendar_source", "service_tiers")


def build_core(con: duckdb.DuckDBPyConnection) -> LayerBuild:
    """Drop and rebuild every core table in one transaction, each checked on its grain
    before it commits; returns row counts and the grain checks per table."""
    staged = _staged_sql(con)
    answers_sql = _answers_sql(con)
    _register_reference_frames(con, staged)
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            _create_input_views(con, staged)
            con.execute("DROP SCHEMA IF EXISTS core CASCADE")
            con.execute(CORE_DDL.read_text(encoding="utf-8"))
            _run_core_models(con, answers_sql)
            grains = enforce_grains(con, "core", CORE_GRAIN)
            for view in _INPUT_VIEWS:
                drop_temporary(con, view)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        for name in _INPUT_FRAMES:
            con.unregister(name)
    built = LayerBuild(grains)
    _log_rebuilt(con, built.counts)
    return built


def _register_reference_frames(con: duckdb.DuckDBPyConnection, staged: str) -> None:
    """Register the Python-made inputs: geography, the calendar over the staged dates and
    the service tiers (unregistered by `build_core` when it ends)."""
    bounds = con.execute(f"SELECT min(contact_date), max(contact_date) FROM ({staged})").fetchone()  # noqa: S608
    tiers = pd.DataFrame(
        [(code, s.tier) for code, s in sorted(SERVICES.items())],
        columns=["service_code", "service_tier"],
    )
    con.register("geography_source", geography_frame())
    con.register("calendar_source", calendar_frame(*(bounds or (None, None))))
    con.register("service_tiers", tiers)


def _create_input_views(con: duckdb.DuckDBPyConnection, staged: str) -> None:
    """The temp views the core models read besides core itself: `staged` (every staging
    table), `memberships` (one survivor per record) and `id_changes` (empty before the
    first linkage run)."""
    con.execute(f"CREATE OR REPLACE TEMP VIEW staged AS {staged}")
    con.execute(
        "CREATE OR REPLACE TEMP VIEW memberships AS "
        + (
            "SELECT record_token, any_value(survivor_id) AS survivor_id "
            "FROM linkage.memberships GROUP BY record_token"
            if table_exists(con, "linkage", "memberships")
            else "SELECT NULL::VARCHAR AS record_token, NULL::VARCHAR AS survivor_id WHERE false"
        )
    )
    has_id_changes = table_exists(con, "linkage", "id_changes")
    source_view(
        con, "id_changes", "linkage.id_changes" if has_id_changes else None, _ID_CHANGES_COLUMNS
    )


def _run_core_models(con: duckdb.DuckDBPyConnection, answers_sql: str) -> None:
    """Run the core models in order; follow-up visits are scored in Python once
    `core.survivor_records` is built, before the `followups` model reads the scores."""
    parameters = {"returning_gap": RETURNING_GAP}
    for table in CORE_TABLES:
        if table != "followups":
            run_model(con, "core", table, parameters)
            continue
        con.register("followup_scores", _followup_scores(con, answers_sql))
        try:
            run_model(con, "core", table, parameters)
        finally:
            con.unregister("followup_scores")


def _log_rebuilt(con: duckdb.DuckDBPyConnection, counts: dict[str, int]) -> None:
    """Log the rows per core table, with a warning when records are not linked yet."""
    unlinked = con.execute(
        "SELECT count(*) FROM core.survivor_records WHERE survivor_id IS NULL"
    ).fetchone()[0]
    if unlinked:
        logger.warning("%d records have no survivor_id yet (linkage not run on them)", unlinked)
    logger.info("core rebuilt: %s", counts)
