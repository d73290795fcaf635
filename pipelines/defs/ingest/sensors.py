"""`inbox_sensor`: register each complete new batch as a partition and request its load.

Each tick lists the complete batches (manifest and data file present) in the inbox. A batch
file is requested once per content: the run key is `<inbox path>@<sha256 of the data file>`.
(The data file hash alone would silently swallow a re-sent copy under a new name; with the
path in the key such a copy gets its own run, which rejects it as a duplicate where the data
officer can see it.) The cursor remembers hashes by (path, size, mtime) so unchanged files
are not re-read every tick, and the run keys already requested.

The sensor never opens the warehouse (one writer). A batch file that any run recorded in this
Dagster instance already materialised (same inbox path and content hash, e.g. loaded by
`pahichan run`, which runs on the same instance) is not requested again; a run that still
meets a processed file (processed outside this instance) ends skipped, not failed.
"""

# No `from __future__ import annotations`: Dagster reads the context/resource annotations
# of decorated functions at definition time.

import json
import logging

from dagster import (
    AssetKey,
    AssetRecordsFilter,
    DagsterInstance,
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    sensor,
)

from pipelines.defs.ingest.inbox import file_sha256, find_batches
from pipelines.defs.ingest.partitions import BATCH_PARTITIONS, INBOX_PATH_TAG
from pipelines.defs.staging.assets import SKIP_IF_PROCESSED_TAG
from pipelines.defs.staging.jobs import INGEST_JOBS, ingest_job_name
from pipelines.resources import InboxResource

logger = logging.getLogger(__name__)


def already_materialised(
    instance: DagsterInstance, source_type: str, batch_id: str, inbox_path: str, sha256: str
) -> bool:
    """True when the latest materialisation of the batch's staging partition in `instance`
    was of this very file (path and content)."""
    records = instance.fetch_materializations(
        AssetRecordsFilter(
            asset_key=AssetKey(["staging", source_type]), asset_partitions=[batch_id]
        ),
        limit=1,
    ).records
    if not records:
        return False
    materialization = records[0].asset_materialization
    metadata = materialization.metadata if materialization else {}
    recorded_path = metadata.get("inbox_path")
    recorded_sha = metadata.get("sha256")
    return (
        recorded_path is not None
        and recorded_sha is not None
        and recorded_path.value == inbox_path
        and recorded_sha.value == sha256
    )


def _load_cursor(text: str | None) -> dict:
    if not text:
        return {"hashes": {}, "requested": []}
    return json.loads(text)


@sensor(
    name="inbox_sensor",
    jobs=list(INGEST_JOBS.values()),
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.RUNNING,
    description="Registers each complete new inbox batch (manifest + data file) as a partition "
    "of its source type and requests one load per batch file content.",
)
def inbox_sensor(context: SensorEvaluationContext, inbox: InboxResource) -> SensorResult:
    cursor = _load_cursor(context.cursor)
    hashes: dict[str, list] = cursor["hashes"]
    requested = set(cursor["requested"])
    new_partitions: dict[str, list[str]] = {}
    run_requests = []
    seen_paths = set()
    for files in find_batches(inbox.root):
        stat = files.data_path.stat()
        fingerprint = [stat.st_size, stat.st_mtime_ns]
        cached = hashes.get(files.inbox_path)
        if cached and cached[:2] == fingerprint:
            sha256 = cached[2]
        else:
            sha256 = file_sha256(files.data_path)
            hashes[files.inbox_path] = [*fingerprint, sha256]
        seen_paths.add(files.inbox_path)
        run_key = f"{files.inbox_path}@{sha256}"
        if run_key in requested:
            continue
        if context.instance.has_dynamic_partition(
            BATCH_PARTITIONS[files.source_type].name, files.batch_id
        ) and already_materialised(
            context.instance, files.source_type, files.batch_id, files.inbox_path, sha256
        ):
            requested.add(run_key)
            continue
        partitions = BATCH_PARTITIONS[files.source_type]
        pending = new_partitions.setdefault(files.source_type, [])
        if (
            not context.instance.has_dynamic_partition(partitions.name, files.batch_id)
            and files.batch_id not in pending
        ):
            pending.append(files.batch_id)
        run_requests.append(
            RunRequest(
                run_key=run_key,
                job_name=ingest_job_name(files.source_type),
                partition_key=files.batch_id,
                tags={INBOX_PATH_TAG: files.inbox_path, SKIP_IF_PROCESSED_TAG: "true"},
            )
        )
        requested.add(run_key)
    # Forget hashes of files that left the inbox; keep run keys so a file moved back in
    # unchanged is not loaded again.
    cursor["hashes"] = {path: value for path, value in hashes.items() if path in seen_paths}
    cursor["requested"] = sorted(requested)
    if run_requests:
        context.log.info("Requesting %d batch load(s)", len(run_requests))
    return SensorResult(
        run_requests=run_requests,
        dynamic_partitions_requests=[
            BATCH_PARTITIONS[source_type].build_add_request(keys)
            for source_type, keys in new_partitions.items()
            if keys
        ],
        cursor=json.dumps(cursor),
    )
