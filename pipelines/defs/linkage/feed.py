"""Hand loaded batches to the linkage engine, and keep its model files.

`ops.batches.linked_at` marks accepted batches whose rows the linkage stage has taken. The
engine's own writes are idempotent (adding a record twice adds nothing; linking links what
is not yet clustered), so a crash between "added" and "marked" converges on the next run.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from pipelines.defs.ingest.warehouse import staging_table, utc_now

if TYPE_CHECKING:
    from linkage.matching import TrainedModel

logger = logging.getLogger(__name__)

# Staging bookkeeping columns the linkage store takes as arguments, not as batch columns.
_STAGING_ONLY = ("batch_id", "agency_id", "source_type", "loaded_at")


def pending_batches(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str, str]]:
    """(batch_id, source_type, agency_id, key_id) of accepted batches not yet linked."""
    return [
        tuple(row)  # type: ignore[misc]
        for row in con.execute(
            """
            SELECT batch_id, source_type, agency_id, key_id FROM ops.batches
            WHERE status = 'accepted' AND linked_at IS NULL
            ORDER BY received_at, batch_id
            """
        ).fetchall()
    ]


def add_pending_records(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Add the staged rows of every unlinked batch to `linkage.records`; new records by batch."""
    from linkage.matching import add_records

    added: dict[str, int] = {}
    for batch_id, source_type, agency_id, key_id in pending_batches(con):
        table = con.execute(
            f"SELECT * EXCLUDE ({', '.join(_STAGING_ONLY)}) "  # noqa: S608 - fixed names
            f"FROM {staging_table(source_type)} WHERE batch_id = ? ORDER BY source_row",
            [batch_id],
        ).fetch_arrow_table()
        added[batch_id] = add_records(
            con,
            table,
            batch_id=batch_id,
            source_type=source_type,
            agency_id=agency_id,
            key_id=key_id,
        )
    return added


def mark_linked(con: duckdb.DuckDBPyConnection, batch_ids: list[str]) -> None:
    """Record that these batches' rows are linked."""
    if batch_ids:
        con.execute(
            "UPDATE ops.batches SET linked_at = ? "
            "WHERE status = 'accepted' AND list_contains(?, batch_id)",
            [utc_now(), batch_ids],
        )


def model_path(models_dir: Path, model_version: str) -> Path:
    return models_dir / f"linkage-model-{model_version}.json"


def save_model_file(model: TrainedModel, models_dir: Path) -> Path:
    """Write the versioned model JSON beside the warehouse (reviewable, diffable artefact)."""
    models_dir.mkdir(parents=True, exist_ok=True)
    path = model_path(models_dir, model.model_version)
    path.write_text(model.to_json(), encoding="utf-8")
    return path


def with_thresholds(model: TrainedModel, upper: float | None, lower: float | None) -> TrainedModel:
    """The model with PAHICHAN_LINK_UPPER / _LOWER match-weight thresholds, when set."""
    changes = {}
    if upper is not None:
        changes["upper_match_weight"] = upper
    if lower is not None:
        changes["lower_match_weight"] = lower
    if changes:
        logger.info("Linkage thresholds overridden by settings: %s", changes)
        return dataclasses.replace(model, **changes)
    return model
