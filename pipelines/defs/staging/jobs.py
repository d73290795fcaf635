"""One job per source type that loads one batch (one partition) of its staging asset."""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job

from pipelines.defs.ingest.inbox import SOURCE_TYPES
from pipelines.defs.ingest.partitions import BATCH_PARTITIONS
from pipelines.defs.staging.assets import STAGING_ASSETS


def ingest_job_name(source_type: str) -> str:
    return f"ingest_{source_type}_batch"


INGEST_JOBS = {
    source_type: define_asset_job(
        name=ingest_job_name(source_type),
        selection=AssetSelection.assets(STAGING_ASSETS[source_type]),
        partitions_def=BATCH_PARTITIONS[source_type],
        description=f"Check, validate and load one {source_type} batch (partition = batch_id).",
    )
    for source_type in SOURCE_TYPES
}
ingest_shelter_batch = INGEST_JOBS["shelter"]
ingest_ocmc_batch = INGEST_JOBS["ocmc"]
ingest_migration_batch = INGEST_JOBS["migration"]
