"""Publish assets: the reader files for the dashboard (public) and analysts."""

from pathlib import Path

import dagster as dg
from dagster import AssetExecutionContext

from pipelines.audit import PIPELINE_ACTOR, append_event
from pipelines.defs.marts.build import MART_TABLES
from pipelines.defs.publish.build import publish
from pipelines.resources import PipelineSettings, WarehouseResource

# Run tags set by the pahichan commands that start this job in process: who asked (audited)
# and the command's own run id. A run from the Dagster UI or schedule has neither.
ACTOR_TAG = "pahichan/actor"
RUN_ID_TAG = "pahichan/run_id"


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["publish", "public"],
            group_name="publish",
            # Also reads the data's last contact date (core.episodes) and the
            # linkage model version (linkage.pairs) for the publication row.
            deps=[
                *(dg.AssetKey(["marts", t]) for t in MART_TABLES),
                dg.AssetKey(["core", "episodes"]),
                dg.AssetKey(["linkage", "pairs"]),
            ],
            description="public.duckdb: marts after disclosure control (section 4 "
            "layout), nothing row-level. Grain: as each mart table.",
        ),
        dg.AssetSpec(
            ["publish", "analyst"],
            group_name="publish",
            deps=[
                dg.AssetKey(["core", t])
                for t in ("survivors", "episodes", "episode_services", "referrals")
            ],
            description="analyst.duckdb: pseudonymous survivors, episodes, services, "
            "referrals, k-anonymous on each survivor's whole history. Grain: one row "
            "per survivor / episode / ...",
        ),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            "hidden_small_cells_have_wide_ranges",
            asset=["publish", "public"],
            description="A sample of the hidden cells holding 1..k-1 people: each one's "
            "feasible range from everything published (LP over every relation and bound) "
            "includes 0 and is at least k wide.",
        ),
    ],
    can_subset=False,
)
def reader_files(
    context: AssetExecutionContext, warehouse: WarehouseResource, settings: PipelineSettings
):
    """Write both reader files atomically, record the publication in ops.publications and
    append its audit row (whichever route ran the job: `pahichan run`, `pahichan withdraw`
    or the Dagster UI and its nightly schedule)."""
    tags = context.run.tags
    with warehouse.connect() as con:
        result = publish(
            con,
            Path(settings.publish_dir),
            settings.suppression_threshold,
            run_id=context.run_id,
            file_mode=settings.reader_file_mode,
        )
        append_event(
            con,
            actor=tags.get(ACTOR_TAG, PIPELINE_ACTOR),
            action="publication",
            object_name=tags.get(RUN_ID_TAG, context.run_id),
            detail={
                "files": [result.public_path.name, result.analyst_path.name],
                "threshold": result.threshold,
                "suppressed_cells": result.suppressed_cells,
                "dagster_run_id": context.run_id,
            },
        )
    yield dg.MaterializeResult(
        asset_key=["publish", "public"],
        metadata={
            "path": str(result.public_path),
            "suppressed_cells": result.suppressed_cells,
            "threshold": result.threshold,
        },
    )
    audit = result.small_cells
    assert audit is not None
    yield dg.AssetCheckResult(
        asset_key=["publish", "public"],
        check_name="hidden_small_cells_have_wide_ranges",
        passed=audit.passed(result.threshold),
        metadata={
            "cells_checked": audit.cells_checked,
            "narrowest_range": float(audit.narrowest_range),
            "highest_lower_bound": float(audit.highest_lower_bound),
        },
    )
    anonymity = result.analyst.anonymised.report if result.analyst else None
    yield dg.MaterializeResult(
        asset_key=["publish", "analyst"],
        metadata={
            "path": str(result.analyst_path),
            **(
                {
                    "k": anonymity.k,
                    "levels": anonymity.levels,
                    "survivors_left_out": anonymity.survivors_left_out,
                    "survivors_suppressed": anonymity.survivors_episodes_suppressed
                    + anonymity.survivors_all_suppressed,
                    "qi_values_suppressed_pct": round(100 * anonymity.suppressed_share, 2),
                }
                if anonymity
                else {}
            ),
        },
    )
