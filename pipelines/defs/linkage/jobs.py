"""Jobs that start from the linkage stage.

- `train_linkage_model`: manual; re-trains the model (never scheduled).
- `rebuild_and_publish`: applies pending withdrawal batches (`ingest/withdrawals`), links
  records of batches loaded since the last run, then rebuilds core and marts and publishes
  the reader files. Linking is not training: it uses the
  current model. Selection by group, so assets the core/marts/publish stages add are
  picked up without editing this file.
"""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job

from pipelines.defs.ingest.withdrawal_assets import WITHDRAWALS_KEY
from pipelines.defs.linkage.assets import MODEL_KEY

REBUILD_SELECTION = (
    AssetSelection.groups("linkage", "core", "marts", "publish")
    | AssetSelection.assets(WITHDRAWALS_KEY)
) - AssetSelection.assets(MODEL_KEY)

train_linkage_model = define_asset_job(
    name="train_linkage_model",
    selection=AssetSelection.assets(MODEL_KEY),
    description="Re-train the linkage model on every loaded record (manual).",
)

rebuild_and_publish = define_asset_job(
    name="rebuild_and_publish",
    selection=REBUILD_SELECTION,
    description="Apply withdrawals, link new records, rebuild core and marts, publish the "
    "reader files.",
)
