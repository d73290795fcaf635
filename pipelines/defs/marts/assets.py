"""Mart assets: unsuppressed aggregates by period x place x one breakdown dimension."""

from __future__ import annotations

import dagster as dg

from pipelines.defs.marts.build import MART_TABLES, build_marts
from pipelines.resources import WarehouseResource

_CORE = [dg.AssetKey(["core", t]) for t in ("episodes", "survivors", "episode_services",
                                             "followups", "referrals", "geography")]


@dg.multi_asset(
    specs=[
        dg.AssetSpec(["marts", table], group_name="marts", deps=_CORE,
                     description=f"marts.{table}: see docs/data-dictionary.md for its grain.")
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
            asset_key=["marts", table], metadata={"row_count": counts[table]}
        )
