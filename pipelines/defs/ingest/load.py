"""Load one batch: batch checks, row validation, then one transaction into the warehouse.

`load_batch` is the single code path for a batch, used by the staging assets (and so by the
sensor's runs and by `pahichan run`). Its guarantees:

- every received row is either in `staging.<source_type>` or in `ops.quarantine` (with a
  reason), never both, never neither, for an accepted batch;
- a rejected batch loads nothing and is recorded in `ops.batches` and `ops.rejected_batches`;
- all writes for a batch happen in one transaction, after deleting whatever an earlier run
  wrote for it, so a re-run or a run after a crash converges to the same contents.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import duckdb
import pandas as pd
import pyarrow as pa

from pipelines.audit import PIPELINE_ACTOR, append_event, looks_like_token
from pipelines.defs.ingest.agency_keys import active_agency_keys
from pipelines.defs.ingest.batch_checks import (
    QUARANTINE_IS_WITHIN_LIMITS,
    BatchInspection,
    CheckOutcome,
    inspect_batch,
    quarantine_too_large,
)
from pipelines.defs.ingest.inbox import BatchFiles
from pipelines.defs.ingest.limits import DEFAULT_LIMITS, IngestLimits
from pipelines.defs.ingest.validation import ValidationOutcome, validate_rows
from pipelines.defs.ingest.warehouse import (
    current_key_id,
    ensure_ingest_schema,
    find_accepted_duplicate,
    pin_key_id,
    staging_table,
    utc_now,
)

logger = logging.getLogger(__name__)

ACCEPTED = "accepted"
REJECTED = "rejected"


@dataclass
class BatchOutcome:
    """What happened to one batch receipt."""

    files: BatchFiles
    inspection: BatchInspection
    validation: ValidationOutcome | None
    status: str
    rows_received: int
    rows_loaded: int
    rows_quarantined: int
    pinned_key_id: str | None = None

    @property
    def batch_id(self) -> str:
        return self.files.batch_id

    @property
    def reason(self) -> str | None:
        return self.inspection.reason


def load_batch(
    con: duckdb.DuckDBPyConnection,
    files: BatchFiles,
    *,
    configured_key_id: str | None,
    run_id: str | None,
    today: dt.date | None = None,
    redaction_key: bytes | None = None,
    limits: IngestLimits = DEFAULT_LIMITS,
) -> BatchOutcome:
    """Check, validate and load one batch; returns the outcome (raises only on system errors).

    The rows loaded are those parsed from the bytes the batch checks verified (the inbox
    file is read once, in `inspect_batch`); nothing here opens the inbox file again.
    `redaction_key` (`WarehouseResource.redaction_key()`) verifies the warehouse's own
    redaction record of a batch it rewrote after an erasure (`ingest.redactions`).
    """
    ensure_ingest_schema(con)
    key_id = current_key_id(con, configured_key_id)
    inspection = inspect_batch(
        files,
        current_key_id=key_id,
        find_duplicate=lambda batch_id, sha256: find_accepted_duplicate(
            con, batch_id, sha256, files.inbox_path
        ),
        agency_keys=active_agency_keys(con),
        limits=limits,
        redaction_key=redaction_key,
    )
    table = inspection.table
    received = table.num_rows if table is not None else 0
    validation = None
    if inspection.accepted and table is not None:
        # Outside the transaction: validation is the slow part and writes nothing.
        validation = _validate_within_limits(inspection, table, today, limits)
    outcome = BatchOutcome(
        files=files,
        inspection=inspection,
        validation=validation,
        status=ACCEPTED if inspection.accepted else REJECTED,
        rows_received=received,
        rows_loaded=0,
        rows_quarantined=0,
    )
    con.execute("BEGIN TRANSACTION")
    try:
        _write(con, outcome, key_id=key_id, run_id=run_id)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    _log_outcome(outcome)
    return outcome


def _log_outcome(outcome: BatchOutcome) -> None:
    """Log whether the batch was accepted or rejected, and any key id it pinned."""
    files = outcome.files
    if outcome.status == ACCEPTED:
        logger.info(
            "Batch %s accepted: %d rows loaded, %d quarantined",
            files.inbox_path,
            outcome.rows_loaded,
            outcome.rows_quarantined,
        )
    else:
        logger.warning("Batch %s rejected: %s", files.inbox_path, outcome.reason)
    if outcome.pinned_key_id:
        logger.warning(
            "No key id was configured (PAHICHAN_KEY_ID): batch %s pinned this warehouse to key "
            "%s; batches encoded with any other key will be rejected",
            files.batch_id,
            outcome.pinned_key_id,
        )


def _validate_within_limits(
    inspection: BatchInspection, table: pa.Table, today: dt.date | None, limits: IngestLimits
) -> ValidationOutcome | None:
    """Validate the rows; None (and QUARANTINE_IS_WITHIN_LIMITS failed) when more would be
    quarantined than the limits allow. (A batch whose required columns are mostly empty was
    refused before it was decoded, in `inspect_batch`.)"""
    validation = validate_rows(table, inspection.files.source_type, today=today)
    problem = limits.quarantine_problem(len(validation.failed_rows), table.num_rows)
    if problem is not None:
        inspection.checks.append(quarantine_too_large(problem))
        return None
    inspection.checks.append(CheckOutcome(QUARANTINE_IS_WITHIN_LIMITS, True))
    return validation


def _write(
    con: duckdb.DuckDBPyConnection, outcome: BatchOutcome, *, key_id: str | None, run_id: str | None
) -> None:
    """Replace whatever an earlier run wrote for this receipt with `outcome` (in the caller's
    transaction)."""
    files, inspection = outcome.files, outcome.inspection
    now = utc_now()
    previous = con.execute(
        "SELECT received_at, status, linked_at FROM ops.batches "
        "WHERE inbox_path = ? AND sha256 = ?",
        [files.inbox_path, inspection.sha256],
    ).fetchone()
    received_at = previous[0] if previous else now
    was_accepted = bool(previous and previous[1] == ACCEPTED)
    _delete_earlier_writes(con, outcome, was_accepted)
    if outcome.status == ACCEPTED:
        _write_accepted(con, outcome, now, key_id=key_id, run_id=run_id)
    else:
        _write_rejected(con, outcome, now, run_id=run_id)
    _audit_receipt(con, outcome, run_id=run_id)
    linked_at = previous[2] if was_accepted and outcome.status == ACCEPTED else None
    _insert_batch_record(con, outcome, now, received_at, linked_at, run_id=run_id)


def _delete_earlier_writes(
    con: duckdb.DuckDBPyConnection, outcome: BatchOutcome, was_accepted: bool
) -> None:
    """Delete the rows and records an earlier run wrote for this receipt."""
    files, inspection = outcome.files, outcome.inspection
    # Accepted batch ids are unique (duplicate check), so deleting by batch_id touches only
    # this batch: never the rows of another batch this one would duplicate.
    if outcome.status == ACCEPTED or was_accepted:
        con.execute(
            f"DELETE FROM {staging_table(files.source_type)} WHERE batch_id = ?",  # noqa: S608
            [files.batch_id],
        )
        con.execute("DELETE FROM ops.quarantine WHERE batch_id = ?", [files.batch_id])
    con.execute(
        "DELETE FROM ops.batches WHERE inbox_path = ? AND sha256 = ?",
        [files.inbox_path, inspection.sha256],
    )
    con.execute(
        "DELETE FROM ops.rejected_batches WHERE inbox_path = ? AND sha256 = ?",
        [files.inbox_path, inspection.sha256],
    )


def _write_accepted(
    con: duckdb.DuckDBPyConnection,
    outcome: BatchOutcome,
    now: dt.datetime,
    *,
    key_id: str | None,
    run_id: str | None,
) -> None:
    """Insert an accepted batch's rows, and pin its key id when none was configured."""
    files, inspection = outcome.files, outcome.inspection
    _insert_rows(con, outcome, now)
    if key_id is None and pin_key_id(
        con, inspection.manifest_value("key_id"), f"first accepted batch {files.batch_id}"
    ):
        outcome.pinned_key_id = inspection.manifest_value("key_id")
        # In the load's transaction: the pin and its audit row commit together.
        append_event(
            con,
            actor=PIPELINE_ACTOR,
            action="key_id_pinned",
            object_name=str(outcome.pinned_key_id),
            detail={
                "pinned_by": "first accepted batch",
                "batch_id": _audit_name(files.batch_id),
                "run_id": run_id,
            },
        )


def _write_rejected(
    con: duckdb.DuckDBPyConnection,
    outcome: BatchOutcome,
    now: dt.datetime,
    *,
    run_id: str | None,
) -> None:
    """Record a rejected batch in ops.rejected_batches."""
    files, inspection = outcome.files, outcome.inspection
    con.execute(
        """
        INSERT INTO ops.rejected_batches (batch_id, inbox_path, sha256, source_type,
            agency_id, failed_checks, reason, rejected_at, run_id)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [
            files.batch_id,
            files.inbox_path,
            inspection.sha256,
            files.source_type,
            files.agency_id,
            inspection.failed_checks,
            outcome.reason,
            now,
            run_id,
        ],
    )


def _audit_receipt(
    con: duckdb.DuckDBPyConnection, outcome: BatchOutcome, *, run_id: str | None
) -> None:
    """Append the batch_received audit event for this receipt."""
    files, inspection = outcome.files, outcome.inspection
    # Every receipt is audited in the load's transaction, whichever route loaded it (the
    # Dagster sensor's runs included).
    append_event(
        con,
        actor=PIPELINE_ACTOR,
        action="batch_received",
        object_name=_audit_name(files.batch_id),
        detail={
            "source_type": files.source_type,
            "agency_id": _audit_name(files.agency_id),
            "status": outcome.status,
            "rows_loaded": outcome.rows_loaded,
            "rows_quarantined": outcome.rows_quarantined,
            "failed_checks": inspection.failed_checks,
            "run_id": run_id,
        },
    )


def _insert_batch_record(
    con: duckdb.DuckDBPyConnection,
    outcome: BatchOutcome,
    now: dt.datetime,
    received_at: dt.datetime,
    linked_at: dt.datetime | None,
    *,
    run_id: str | None,
) -> None:
    """Insert this receipt's row into ops.batches."""
    files, inspection = outcome.files, outcome.inspection
    con.execute(
        """
        INSERT INTO ops.batches (batch_id, inbox_path, sha256, source_type, agency_id, key_id,
            contract_version, encoding_version, row_count, manifest_row_count, rows_loaded,
            rows_quarantined, status, reason, received_at, loaded_at, linked_at, run_id)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [
            files.batch_id,
            files.inbox_path,
            inspection.sha256,
            files.source_type,
            files.agency_id,
            inspection.manifest_value("key_id"),
            inspection.manifest_value("contract_version"),
            inspection.manifest_value("encoding_version"),
            outcome.rows_received if inspection.table is not None else None,
            inspection.manifest_value("row_count"),
            outcome.rows_loaded,
            outcome.rows_quarantined,
            outcome.status,
            outcome.reason,
            received_at,
            now if outcome.status == ACCEPTED else None,
            linked_at,
            run_id,
        ],
    )


def _audit_name(name: str) -> str:
    """A file or folder name from the inbox, as an audit row may hold it: one shaped like a
    token (which the audit log refuses) is withheld rather than failing the load."""
    return "(withheld: token-shaped)" if looks_like_token(name) else name


def _insert_rows(con: duckdb.DuckDBPyConnection, outcome: BatchOutcome, now: dt.datetime) -> None:
    """Passing rows to staging, failing rows (one line per failed rule) to quarantine."""
    files, table, validation = outcome.files, outcome.inspection.table, outcome.validation
    assert table is not None and validation is not None
    failed = validation.failed_rows
    keep = pa.array([index not in failed for index in range(table.num_rows)])
    passing = table.filter(keep)
    count = passing.num_rows
    passing = (
        passing.append_column("batch_id", pa.array([files.batch_id] * count, pa.string()))
        .append_column("agency_id", pa.array([files.agency_id] * count, pa.string()))
        .append_column("source_type", pa.array([files.source_type] * count, pa.string()))
        .append_column("loaded_at", pa.array([now] * count, pa.timestamp("us", tz="UTC")))
    )
    con.register("incoming_batch_rows", passing)
    try:
        con.execute(
            f"INSERT INTO {staging_table(files.source_type)} BY NAME "  # noqa: S608
            "SELECT * FROM incoming_batch_rows"
        )
    finally:
        con.unregister("incoming_batch_rows")
    if validation.failures:
        tokens = table.column("record_token").to_pylist()
        source_rows = table.column("source_row").to_pylist()
        quarantine = pd.DataFrame(
            {
                "batch_id": files.batch_id,
                "source_type": files.source_type,
                "agency_id": files.agency_id,
                "row_number": [f.row_index + 1 for f in validation.failures],
                "source_row": pd.array(
                    [source_rows[f.row_index] for f in validation.failures], dtype="Int32"
                ),
                "record_token": [tokens[f.row_index] for f in validation.failures],
                "column": [f.column for f in validation.failures],
                "rule": [f.rule for f in validation.failures],
                "expectation": [f.expectation for f in validation.failures],
                "reason": [f.reason for f in validation.failures],
                "quarantined_at": now,
            }
        )
        con.register("incoming_quarantine", quarantine)
        try:
            con.execute("INSERT INTO ops.quarantine BY NAME SELECT * FROM incoming_quarantine")
        finally:
            con.unregister("incoming_quarantine")
    outcome.rows_loaded = count
    outcome.rows_quarantined = len(failed)
