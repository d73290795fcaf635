"""Core assets: the conformed warehouse layer, rebuilt fully from staging + linkage.

Each core table is an asset whose upstream assets are the tables its SQL reads
(pipelines/defs/core/build.py), so the lineage in the UI is the data flow. They are built by
one computation in one transaction (a crash keeps the previous core), hence one multi-asset.
"""

from __future__ import annotations

from graphlib import TopologicalSorter

import dagster as dg

from pipelines.defs.core.build import CORE_GRAIN, CORE_TABLES, build_core
from pipelines.defs.grain_checks import grain_check_results, grain_check_specs
from pipelines.defs.ingest.inbox import SOURCE_TYPES
from pipelines.resources import WarehouseResource

STAGING_DEPS = [dg.AssetKey(["staging", s]) for s in SOURCE_TYPES]
MEMBERSHIPS = dg.AssetKey(["linkage", "memberships"])


def core_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["core", table])


# Table -> (description with its grain, upstream assets it reads).
CORE_SPECS: dict[str, tuple[str, list[dg.AssetKey]]] = {
    "geography": ("Reference geography (schemas/reference). Grain: one row per place.", []),
    "calendar": (
        "Date dimension (AD and Bikram Sambat months, quarters, years, fiscal years) covering "
        "every contact date. Grain: one row per calendar day.",
        STAGING_DEPS,
    ),
    "agencies": (
        "Agencies that have sent accepted records. Grain: one row per agency_id.",
        [*STAGING_DEPS, core_key("survivor_records")],
    ),
    "survivor_records": (
        "Records with their survivor. Grain: one row per record_token.",
        [*STAGING_DEPS, MEMBERSHIPS],
    ),
    "episodes": (
        "Contact episodes of linked records. Grain: one row per linked episode.",
        [core_key("survivor_records")],
    ),
    "survivors": (
        "Survivors. Grain: one row per current survivor_id.",
        [core_key("episodes")],
    ),
    "episode_services": (
        "Services given. Grain: one row per episode x service.",
        [core_key("episodes")],
    ),
    "referrals": (
        "Referrals. Grain: one row per episode x direction.",
        [core_key("episodes")],
    ),
    "followups": (
        "Reintegration follow-up visits with provisional scores. Grain: one row per "
        "follow-up visit of a survivor with an episode.",
        [*STAGING_DEPS, core_key("survivor_records"), core_key("survivors")],
    ),
    "id_change_log": (
        "Copy of linkage.id_changes. Grain: one row per id event.",
        [dg.AssetKey(["linkage", "id_changes"])],
    ),
}
assert set(CORE_SPECS) == set(CORE_TABLES), "every core table is an asset"
# Dagster wants a multi-asset's outputs yielded upstream first.
CORE_BUILD_ORDER = list(
    TopologicalSorter(
        {
            table: [key.path[1] for key in deps if key.path[0] == "core"]
            for table, (_, deps) in CORE_SPECS.items()
        }
    ).static_order()
)


_CORE_KEYS = {table: core_key(table) for table in CORE_SPECS}


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            core_key(table), group_name="core", description=description, deps=deps, kinds={"duckdb"}
        )
        for table, (description, deps) in CORE_SPECS.items()
    ],
    check_specs=grain_check_specs("core", _CORE_KEYS, CORE_GRAIN),
    can_subset=False,
)
def core_tables(warehouse: WarehouseResource):
    """Rebuild every core table in one transaction (a crash, or a table off its grain,
    keeps the previous core)."""
    with warehouse.connect() as con:
        built = build_core(con)
    for table in CORE_BUILD_ORDER:
        yield dg.MaterializeResult(
            asset_key=core_key(table), metadata={"dagster/row_count": built.counts[table]}
        )
    yield from grain_check_results(_CORE_KEYS, CORE_GRAIN, built.grains)
