"""`publish/operations`: the data officer's view of batches, quarantine and the review queue."""

# No `from __future__ import annotations`: Dagster reads the context/resource annotations
# of decorated functions at definition time.

from pathlib import Path

import dagster as dg

from pipelines.defs.ingest.inbox import SOURCE_TYPES
from pipelines.defs.ingest.withdrawal_assets import WITHDRAWALS_KEY
from pipelines.defs.operations.build import write_operations_file
from pipelines.resources import PipelineSettings, WarehouseResource


@dg.asset(
    key=["publish", "operations"],
    group_name="publish",
    deps=[
        *(dg.AssetKey(["staging", s]) for s in SOURCE_TYPES),
        WITHDRAWALS_KEY,
        dg.AssetKey(["linkage", "pairs"]),
    ],
    kinds={"duckdb"},
)
def operations_file(
    warehouse: WarehouseResource, settings: PipelineSettings
) -> dg.MaterializeResult:
    """operations.duckdb for data officers: batches received, accepted and rejected (batch id,
    agency, when, reason), quarantined rows by rule, withdrawals, runs and the review queue
    size; no record token, encoding or survivor id. Grain: one row per batch receipt
    (`batches`), per batch x rule x column (`quarantine_by_rule`), per withdrawal, per run;
    one row (`review_queue`)."""
    with warehouse.connect() as con:
        figures = write_operations_file(con, Path(settings.publish_dir), settings.reader_file_mode)
    return dg.MaterializeResult(metadata=figures)
