"""Warehouse-side linkage engine: who is the same survivor, without ever holding the key.

Works on a DuckDB connection and the `linkage.*` tables (docs/interfaces.md section 3):

    ensure_linkage_schema(con)
    add_records(con, batch, batch_id=..., source_type=..., agency_id=..., key_id=...)
    model = train_model(con, model_dir=Path("models"))      # versioned JSON artefact
    result = link_new_records(con, model, run_id="run-1")   # score, pair, cluster, IDs
    record_review_decision(con, left, right, "cannot_link", decided_by="officer")
    remove_record(con, record_token, run_id="run-2")        # consent withdrawal

If no model is passed to `link_new_records`, the latest model in `linkage.models` is used;
if there is none yet, one is trained on the records present (logged at WARNING) so a first
pipeline run works; retrain deliberately once more data have arrived.

The auto-link threshold is chosen by the trained model from its own match probabilities
(maximum expected F1, never labels) and stored in the model JSON (`threshold`).

Modules: spec (model as data), training, calibration (lambda, u and the auto-link threshold
from the model's own scores), parameters (m/u adjustments), threshold (label-free auto-link
threshold),
scoring (incremental), clustering (chaining guards), stable_ids, review, store (DDL),
linking (transactions). The benchmark and its plaintext baseline are in benchmarks/linkage/.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from linkage.matching.linking import LinkResult
from linkage.matching.review import record_review_decision, review_queue
from linkage.matching.spec import LinkageSettings, TrainedModel
from linkage.matching.store import ensure_linkage_schema

if TYPE_CHECKING:
    from linkage.matching.spark_scoring import SparkEngine

logger = logging.getLogger(__name__)

__all__ = [
    "LinkResult",
    "LinkageSettings",
    "TrainedModel",
    "add_records",
    "ensure_linkage_schema",
    "latest_model",
    "link_new_records",
    "record_review_decision",
    "remove_record",
    "review_queue",
    "train_model",
]


def add_records(
    con: duckdb.DuckDBPyConnection,
    batch: pa.Table,
    *,
    batch_id: str,
    source_type: str,
    agency_id: str,
    key_id: str,
) -> int:
    """Load a pseudonymised batch into `linkage.records` in one transaction.

    Returns the number of records that were new; re-adding a batch adds nothing. Records
    are linked by the next `link_new_records` call.
    """
    from linkage.matching.store import insert_records

    ensure_linkage_schema(con)
    con.execute("BEGIN TRANSACTION")
    try:
        added = insert_records(
            con,
            batch,
            batch_id=batch_id,
            source_type=source_type,
            agency_id=agency_id,
            key_id=key_id,
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    logger.info("Batch %s: %d of %d records new", batch_id, added, batch.num_rows)
    return added


def train_model(
    con: duckdb.DuckDBPyConnection,
    *,
    settings: LinkageSettings | None = None,
    model_dir: Path | None = None,
) -> TrainedModel:
    """Train on all stored records; store in `linkage.models` and, if given, `model_dir`."""
    from linkage.matching import training

    model = training.train_model(con, settings=settings)
    if model_dir is not None:
        path = model.save(Path(model_dir))
        logger.info("Model %s saved to %s", model.model_version, path)
    return model


def latest_model(con: duckdb.DuckDBPyConnection) -> TrainedModel | None:
    from linkage.matching.training import latest_model as _latest

    ensure_linkage_schema(con)
    return _latest(con)


def _model_or_train(con: duckdb.DuckDBPyConnection, model: TrainedModel | None) -> TrainedModel:
    if model is not None:
        return model
    stored = latest_model(con)
    if stored is not None:
        return stored
    logger.warning("No trained linkage model yet: training one on the records present.")
    return train_model(con)


def link_new_records(
    con: duckdb.DuckDBPyConnection,
    model: TrainedModel | None = None,
    *,
    run_id: str,
    spark: SparkEngine | None = None,
) -> LinkResult:
    """Link every record not yet clustered (and re-apply queued review decisions).

    New records are scored against existing ones and among themselves only; pairs at or
    above the review threshold are stored; affected components are re-clustered with stable
    survivor IDs and every ID change is logged. Raises ValueError when the store holds
    records encoded under a key other than the model's. With `spark` the pairs are scored
    on Spark (`linkage.matching.spark_scoring`); everything else stays in DuckDB.
    """
    from linkage.matching.linking import link_pending

    ensure_linkage_schema(con)
    return link_pending(con, _model_or_train(con, model), run_id=run_id, spark=spark)


def remove_record(
    con: duckdb.DuckDBPyConnection,
    record_token: str,
    *,
    run_id: str,
    model: TrainedModel | None = None,
) -> LinkResult:
    """Erase a record (consent withdrawal): its row, pairs, decisions and membership.

    Its former component is re-clustered; IDs follow the split rules.
    """
    from linkage.matching.linking import remove_record as _remove

    ensure_linkage_schema(con)
    chosen = model or latest_model(con)
    if chosen is None:
        chosen = TrainedModel(
            splink_model={"comparisons": []},
            model_version="none",
            trained_at="",
            key_id="",
            upper_match_weight=0.0,
            lower_match_weight=0.0,
        )
    return _remove(con, chosen, record_token, run_id=run_id)
