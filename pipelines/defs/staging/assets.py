"""Staging assets: `staging/<source_type>`, one partition per batch of that source type.

Materialising a partition loads that batch (`pipelines.defs.ingest.load.load_batch`): batch
checks, row validation, then one transaction writing staging rows, quarantine rows and the
batch's line in `ops.batches`. A rejected batch still materialises (its metadata and failed
checks say why) so that the rejection is visible where the data officer looks.
"""

# No `from __future__ import annotations`: Dagster reads the context/resource annotations
# of decorated functions at definition time.

import logging
from collections.abc import Iterator
from typing import Any

import duckdb
from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    AssetKey,
    AssetObservation,
    AssetsDefinition,
    AssetSpec,
    Failure,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)

from pipelines.defs.ingest.inbox import SOURCE_TYPES, BatchFiles, file_sha256
from pipelines.defs.ingest.load import BatchOutcome, load_batch
from pipelines.defs.ingest.partitions import BATCH_PARTITIONS, INBOX_PATH_TAG
from pipelines.defs.ingest.warehouse import ensure_ingest_schema, row_balance
from pipelines.defs.staging.checks import staging_check_results, staging_check_specs
from pipelines.resources import InboxResource, PipelineSettings, WarehouseResource

logger = logging.getLogger(__name__)

# Set by the sensor: a batch file already processed (by an earlier run or `pahichan run`)
# is not loaded again. Without the tag a materialisation always reloads.
SKIP_IF_PROCESSED_TAG = "pahichan/skip_if_processed"

_SOURCE_DESCRIPTIONS = {
    "shelter": "NGO-run shelters",
    "ocmc": "hospital One-stop Crisis Management Centres",
    "migration": "migration agencies (foreign-employment department and board)",
}


def locate_batch(
    inbox: InboxResource, source_type: str, batch_id: str, inbox_path: str | None
) -> BatchFiles:
    """The batch files a run should load: the tagged path, else the inbox copy named batch_id."""
    if inbox_path:
        files = BatchFiles.from_inbox_path(inbox.root, inbox_path)
        if files.source_type != source_type or files.batch_id != batch_id:
            raise Failure(f"run tag {INBOX_PATH_TAG}={inbox_path} is not batch {batch_id}")
    else:
        candidates = sorted((inbox.root / source_type).glob(f"*/{batch_id}.parquet"))
        if len(candidates) > 1:
            logger.warning(
                "Batch %s is in %d agency folders; loading %s (the others will be rejected "
                "as duplicates when their own runs come)",
                batch_id,
                len(candidates),
                candidates[0],
            )
        if not candidates:
            raise Failure(
                f"batch {batch_id} is not in the inbox under {inbox.root / source_type}: "
                "it was moved or deleted, so it cannot be (re)loaded"
            )
        files = BatchFiles(inbox.root, source_type, candidates[0].parent.name, batch_id)
    if not files.data_path.is_file():
        raise Failure(f"batch file {files.data_path} is not there (moved or deleted?)")
    return files


def _staging_spec(key: AssetKey, source_type: str) -> AssetSpec:
    """The spec of one source type's staging asset (its description states the grain)."""
    return AssetSpec(
        key,
        group_name="staging",
        kinds={"duckdb"},
        skippable=True,
        description=(
            f"Validated rows of accepted batches from "
            f"{_SOURCE_DESCRIPTIONS[source_type]}. Grain: one row per record per batch "
            f"(table staging.{source_type}); one partition per batch. Rows failing an "
            "expectation are in ops.quarantine instead; rejected batches load nothing "
            "(ops.rejected_batches)."
        ),
    )


def _processed_before(con: duckdb.DuckDBPyConnection, files: BatchFiles) -> tuple | None:
    """(status, run id) of an earlier processing of these exact bytes, if any."""
    ensure_ingest_schema(con)
    return con.execute(
        "SELECT status, run_id FROM ops.batches WHERE inbox_path = ? AND sha256 = ?",
        [files.inbox_path, file_sha256(files.data_path)],
    ).fetchone()


def _log_load(context: AssetExecutionContext, batch_id: str, outcome: BatchOutcome) -> None:
    """Log the batch's outcome in the run's log."""
    if outcome.status == "accepted":
        context.log.info(
            "Batch %s: %d rows loaded, %d quarantined",
            batch_id,
            outcome.rows_loaded,
            outcome.rows_quarantined,
        )
    else:
        context.log.error("Batch %s rejected: %s", batch_id, outcome.reason)


def _materialisation_metadata(files: BatchFiles, outcome: BatchOutcome) -> dict[str, Any]:
    """The metadata of the partition's materialisation: outcome, hash and row counts."""
    metadata: dict[str, Any] = {
        "status": outcome.status,
        "reason": outcome.reason or "",
        "inbox_path": files.inbox_path,
        "sha256": outcome.inspection.sha256,
        "rows_received": outcome.rows_received,
        "rows_loaded": outcome.rows_loaded,
        "rows_quarantined": outcome.rows_quarantined,
        "dagster/row_count": outcome.rows_loaded,
    }
    if outcome.pinned_key_id:
        metadata["pinned_key_id"] = MetadataValue.text(outcome.pinned_key_id)
    return metadata


def build_staging_asset(source_type: str) -> AssetsDefinition:
    """The staging asset of one source type."""
    key = AssetKey(["staging", source_type])

    # A multi-asset of one spec only so that it may end without output: a run for a batch
    # file another run already processed materialises nothing (skipped, not failed), and
    # Dagster then expects none of its check results either (`can_subset`, `skippable`).
    @multi_asset(
        specs=[_staging_spec(key, source_type)],
        name=f"staging_{source_type}",
        partitions_def=BATCH_PARTITIONS[source_type],
        check_specs=staging_check_specs(key),
        can_subset=True,
    )
    def staging_asset(
        context: AssetExecutionContext,
        warehouse: WarehouseResource,
        inbox: InboxResource,
        settings: PipelineSettings,
    ) -> Iterator[MaterializeResult | AssetCheckResult | AssetObservation]:
        batch_id = context.partition_key
        files = locate_batch(inbox, source_type, batch_id, context.run.tags.get(INBOX_PATH_TAG))
        with warehouse.connect() as con:
            if context.run.tags.get(SKIP_IF_PROCESSED_TAG) == "true":
                seen = _processed_before(con, files)
                if seen:
                    context.log.info(
                        "Batch %s already processed (%s by run %s): nothing to load",
                        files.inbox_path,
                        seen[0],
                        seen[1],
                    )
                    # An observation, not a materialisation: the partition's data did not
                    # change, and its checks stand as the processing run recorded them.
                    yield AssetObservation(
                        asset_key=key,
                        partition=batch_id,
                        metadata={"skipped": f"already {seen[0]}", "processed_by_run": seen[1]},
                    )
                    return
            outcome = load_batch(
                con,
                files,
                configured_key_id=settings.key_id,
                run_id=context.run_id,
                redaction_key=warehouse.redaction_key(),
                limits=settings.ingest_limits(),
            )
            accepted = outcome.status == "accepted"
            balance = row_balance(con, source_type, batch_id) if accepted else None
        _log_load(context, batch_id, outcome)
        # Yielded one by one: a rejected batch has no row-level check results, and a
        # returned MaterializeResult with fewer check results than specs is misread by
        # Dagster 1.13 as a tuple of outputs.
        yield MaterializeResult(metadata=_materialisation_metadata(files, outcome))
        yield from staging_check_results(key, outcome, balance)

    return staging_asset


_ASSETS = {source_type: build_staging_asset(source_type) for source_type in SOURCE_TYPES}
staging_shelter = _ASSETS["shelter"]
staging_ocmc = _ASSETS["ocmc"]
staging_migration = _ASSETS["migration"]
STAGING_ASSETS: dict[str, AssetsDefinition] = _ASSETS
