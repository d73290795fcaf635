"""Publish assets: the reader files for the dashboard (public) and analysts."""


from pathlib import Path

import dagster as dg
from dagster import AssetExecutionContext

from pipelines.defs.marts.build import MART_TABLES
from pipelines.defs.publish.build import publish
from pipelines.resources import PipelineSettings, WarehouseResource


@dg.multi_asset(
    specs=[
        dg.AssetSpec(["publish", "public"], group_name="publish",
                     deps=[dg.AssetKey(["marts", t]) for t in MART_TABLES],
                     description="public.duckdb: marts after disclosure control (section 4 "
                     "layout), nothing row-level. Grain: as each mart table."),
        dg.AssetSpec(["publish", "analyst"], group_name="publish",
                     deps=[dg.AssetKey(["core", t]) for t in ("survivors", "episodes",
                                                              "episode_services", "referrals")],
                     description="analyst.duckdb: pseudonymous, coarsened survivors, episodes, "
                     "services, referrals. Grain: one row per survivor / episode / ..."),
    ],
    can_subset=False,
)
def reader_files(context: AssetExecutionContext, warehouse: WarehouseResource,
                 settings: PipelineSettings):
    """Write both reader files atomically and record the publication in ops.publications."""
    with warehouse.connect() as con:
        result = publish(con, Path(settings.publish_dir), settings.suppression_threshold,
                         run_id=context.run_id)
    yield dg.MaterializeResult(
        asset_key=["publish", "public"],
        metadata={"path": str(result.public_path), "suppressed_cells": result.suppressed_cells,
                  "threshold": result.threshold},
    )
    yield dg.MaterializeResult(asset_key=["publish", "analyst"],
                               metadata={"path": str(result.analyst_path)})
