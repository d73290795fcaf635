"""One dynamic partition set per source type: partition key = batch_id.

Separate sets (rather than one `batches` set) because a batch belongs to exactly one source
type: `staging/shelter` has a partition for every shelter batch and for nothing else.
"""

from __future__ import annotations

from dagster import DynamicPartitionsDefinition

from pipelines.defs.ingest.inbox import SOURCE_TYPES

BATCH_PARTITIONS: dict[str, DynamicPartitionsDefinition] = {
    source_type: DynamicPartitionsDefinition(name=f"{source_type}_batches")
    for source_type in SOURCE_TYPES
}

# Run tag naming the batch's data file (relative to the inbox) a run should load. Set by the
# sensor and by `pahichan run`; a run without it (manual materialisation in the UI) looks the
# batch up by its partition key.
INBOX_PATH_TAG = "pahichan/inbox_path"
