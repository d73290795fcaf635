"""Core assets: the conformed warehouse layer, rebuilt fully from staging + linkage."""

from __future__ import annotations

import dagster as dg

from pipelines.defs.core.build import build_core
from pipelines.resources import WarehouseResource

STAGING_DEPS = [dg.AssetKey(["staging", s]) for s in ("shelter", "ocmc", "migration")]


@dg.multi_asset(
    specs=[
        dg.AssetSpec(["core", "geography"], group_name="core",
                     description="Reference geography. Grain: one row per place."),
        dg.AssetSpec(["core", "agencies"], group_name="core", deps=STAGING_DEPS,
                     description="Agencies seen. Grain: one row per agency_id."),
        dg.AssetSpec(["core", "survivor_records"], group_name="core",
                     deps=[*STAGING_DEPS, dg.AssetKey(["linkage", "memberships"])],
                     description="Records with their survivor. Grain: one row per record_token."),
        dg.AssetSpec(["core", "episodes"], group_name="core",
                     deps=[dg.AssetKey(["core", "survivor_records"])],
                     description="Contact episodes. Grain: one row per linked episode."),
        dg.AssetSpec(["core", "survivors"], group_name="core",
                     deps=[dg.AssetKey(["core", "episodes"])],
                     description="Survivors. Grain: one row per current survivor_id."),
        dg.AssetSpec(["core", "episode_services"], group_name="core",
                     deps=[dg.AssetKey(["core", "episodes"])],
                     description="Services. Grain: one row per episode x service."),
        dg.AssetSpec(["core", "referrals"], group_name="core",
                     deps=[dg.AssetKey(["core", "episodes"])],
                     description="Referrals. Grain: one row per episode x direction."),
        dg.AssetSpec(["core", "followups"], group_name="core",
                     deps=[dg.AssetKey(["core", "survivors"])],
                     description="Reintegration follow-up visits with provisional scores. "
                     "Grain: one row per follow-up visit of a survivor with an episode."),
        dg.AssetSpec(["core", "id_change_log"], group_name="core",
                     deps=[dg.AssetKey(["linkage", "memberships"])],
                     description="Copy of linkage.id_changes. Grain: one row per id event."),
    ],
    can_subset=False,
)
def core_tables(warehouse: WarehouseResource):
    """Rebuild every core table in one transaction (a crash keeps the previous core)."""
    with warehouse.connect() as con:
        counts = build_core(con)
    for table in ("geography", "agencies", "survivor_records", "episodes", "survivors",
                  "episode_services", "referrals", "followups", "id_change_log"):
        yield dg.MaterializeResult(
            asset_key=["core", table], metadata={"row_count": counts[table]}
        )
