"""Mart assets: unsuppressed aggregates by period x place x one breakdown dimension.

Each mart is an asset whose upstream assets are the tables its SQL reads
(pipelines/defs/marts/build.py and reintegration.py): the UI's lineage is the data flow.
They are rebuilt by one computation in one transaction, hence one multi-asset.
"""

from __future__ import annotations

import dagster as dg

from pipelines.defs.core.assets import STAGING_DEPS, core_key
from pipelines.defs.marts.build import MART_TABLES, build_marts
from pipelines.disclosure.relations import KEYS
from pipelines.grain import check_grain
from pipelines.resources import WarehouseResource

_CALENDAR_EPISODES = [core_key("calendar"), core_key("episodes"), core_key("survivors")]
# Mart -> upstream assets it reads. ops.batches and ops.quarantine are written by the
# staging assets, linkage.pairs by the linkage stage.
MART_DEPS: dict[str, list[dg.AssetKey]] = {
    "survivor_statistics": [*_CALENDAR_EPISODES, core_key("geography")],
    "service_statistics": [
        *_CALENDAR_EPISODES,
        core_key("episode_services"),
        core_key("geography"),
    ],
    "referral_statistics": [
        core_key("calendar"),
        core_key("referrals"),
        core_key("survivors"),
        core_key("geography"),
    ],
    "quality_statistics": [
        *STAGING_DEPS,
        dg.AssetKey(["linkage", "pairs"]),
        core_key("survivor_records"),
    ],
    "quarantine_reasons": STAGING_DEPS,
    "reintegration_statistics": [
        *_CALENDAR_EPISODES,
        core_key("followups"),
        core_key("episode_services"),
        core_key("geography"),
    ],
    "followup_coverage": [*_CALENDAR_EPISODES, core_key("followups"), core_key("geography")],
    "geography": [core_key("geography")],
}
assert set(MART_DEPS) == set(MART_TABLES), "every mart declares what it reads"
# The grain of each count mart is the disclosure problem's cell key; geography's is its code.
MART_GRAIN: dict[str, list[str]] = {**KEYS, "geography": ["geo_code"]}


def mart_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["marts", table])


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            mart_key(table),
            group_name="marts",
            deps=MART_DEPS[table],
            kinds={"duckdb"},
            description=f"marts.{table} (unsuppressed; restricted). Grain: one row per "
            f"{' x '.join(MART_GRAIN[table])}. See docs/data-dictionary.md.",
        )
        for table in MART_TABLES
    ],
    can_subset=False,
)
def mart_tables(warehouse: WarehouseResource):
    """Rebuild every mart table from core in one transaction."""
    with warehouse.connect() as con:
        counts = build_marts(con)
    for table in MART_TABLES:
        yield dg.MaterializeResult(
            asset_key=mart_key(table), metadata={"dagster/row_count": counts[table]}
        )


def _grain_check(table: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=mart_key(table),
        name="grain_is_unique_and_not_null",
        description=f"marts.{table} has one row per {' x '.join(MART_GRAIN[table])} "
        "and no NULL key.",
        blocking=True,
    )
    def grain_check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect() as con:
            result = check_grain(con, "marts", table, MART_GRAIN[table])
        return dg.AssetCheckResult(
            passed=result.passed,
            metadata={
                "rows": result.rows,
                "duplicate_keys": result.duplicate_keys,
                "rows_with_null_key": result.rows_with_null_key,
            },
        )

    return grain_check


MART_GRAIN_CHECKS = [_grain_check(table) for table in MART_TABLES]
