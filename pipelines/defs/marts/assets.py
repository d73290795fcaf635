"""Mart assets: unsuppressed aggregates by period x place x one breakdown dimension.

Each mart is an asset whose upstream assets are the tables its SQL reads
(pipelines/defs/marts/build.py and reintegration.py): the UI's lineage is the data flow.
They are rebuilt by one computation in one transaction, hence one multi-asset.
"""

from __future__ import annotations

import dagster as dg

from pipelines.defs.core.assets import STAGING_DEPS, core_key
from pipelines.defs.grain_checks import grain_check_results, grain_check_specs
from pipelines.defs.marts.build import MART_GRAIN, MART_TABLES, build_marts
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


def mart_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["marts", table])


_MART_KEYS = {table: mart_key(table) for table in MART_TABLES}


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
    check_specs=grain_check_specs("marts", _MART_KEYS, MART_GRAIN),
    can_subset=False,
)
def mart_tables(warehouse: WarehouseResource):
    """Rebuild every mart table from core in one transaction (a crash, or a table off its
    grain, keeps the previous marts)."""
    with warehouse.connect() as con:
        built = build_marts(con)
    for table in MART_TABLES:
        yield dg.MaterializeResult(
            asset_key=mart_key(table), metadata={"dagster/row_count": built.counts[table]}
        )
    yield from grain_check_results(_MART_KEYS, MART_GRAIN, built.grains)
