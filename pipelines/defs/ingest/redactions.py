"""Inbox redaction: after an erasure, no batch in the inbox may still hold the record.

The inbox is the warehouse's recovery source (a lost warehouse is rebuilt by running the
pipeline over it), so an erasure that left the row in its batch file would come back on
the next rebuild. `redact_inbox` rewrites every batch file holding an erased record token
without those rows (all columns of the row go: tokens and Bloom filters alike).

The agency signed the manifest over the original file's SHA-256, and a rewritten file
cannot be re-signed by the agency. So the warehouse records the rewrite in a sidecar,
`<batch_id>.redactions.json` next to the manifest: the original hash and row count (as
the signed manifest states them), then one entry per rewrite (new SHA-256, rows left,
rows removed, when, the withdrawal reference; never a token or a row number), and an
HMAC-SHA256 over all of it under a warehouse sub-key (`pipelines.warehouse_secret`) that is
never in the inbox. On a (re)load the batch checks ask `vouched_rows`, before parsing: a
hash mismatch passes only when the sidecar verifies under that key AND chains from the
signed manifest's hash to the bytes just read, whose row count must then be the one it
vouches for. Why a MAC and not "recompute the original minus the rows": the original is gone
by design, so nothing else could vouch for the new file; the MAC binds the exact new hash,
so an attacker with write access to the inbox can neither alter a redacted file nor forge or
move a sidecar (it names its batch's inbox path). Trust rests on the agency's signature for
the original and on the warehouse key for each redaction step; whoever holds the warehouse
key could forge a redaction (and could already rewrite the whole warehouse: see docs/threat-
model.md).

Crash safety: the new file is written to a temporary file and fsynced, the sidecar is
replaced atomically first (so a crash leaves the old file, which the chain still explains),
then the receipt's hash in `ops.batches` is updated in a transaction that commits after the
file is renamed into place; `reconcile_receipts` repairs the receipt if a crash fell between
the rename and the commit. Re-running a redaction is a no-op once the rows are gone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from linkage.encoding.batch import parquet_bytes
from pipelines.audit import PIPELINE_ACTOR, append_event
from pipelines.defs.ingest.inbox import BatchFiles, file_sha256, find_batches
from pipelines.defs.ingest.manifest import ManifestError, read_manifest
from pipelines.warehouse_secret import mac_hex, mac_matches

logger = logging.getLogger(__name__)

SIDECAR_SUFFIX = ".redactions.json"
SIDECAR_FORMAT = "pahichan-redactions-1"
# The batch checks a verified redaction explains (names as in batch_checks).


@dataclass
class RedactionSummary:
    """What one redaction pass changed in the inbox (counts only)."""

    batches_rewritten: int = 0
    rows_removed: int = 0
    batches_unverifiable: int = 0  # rewritten, but their earlier state was not explained


def sidecar_path(files: BatchFiles) -> Path:
    """Where the redaction record of a batch lives (beside its manifest)."""
    return files.folder / f"{files.batch_id}{SIDECAR_SUFFIX}"


def _canonical(record: dict[str, Any]) -> bytes:
    body = {name: value for name, value in record.items() if name != "mac"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _read_sidecar(path: Path) -> dict[str, Any] | None:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return record if isinstance(record, dict) else {}


def _chain(record: dict[str, Any], files: BatchFiles, key: bytes) -> list[tuple[str, int]] | None:
    """[(sha256, rows)] from the original file through every redaction, if the record is
    authentic and well-formed for this batch; None otherwise."""
    if not mac_matches(key, _canonical(record), record.get("mac")):
        return None
    if record.get("format") != SIDECAR_FORMAT or record.get("inbox_path") != files.inbox_path:
        return None
    try:
        chain = [(str(record["original_sha256"]), int(record["original_row_count"]))]
        rows = chain[0][1]
        for entry in record["redactions"]:
            rows -= int(entry["rows_removed"])
            if rows != int(entry["row_count"]) or int(entry["rows_removed"]) <= 0:
                return None
            chain.append((str(entry["sha256"]), rows))
    except (KeyError, TypeError, ValueError):
        return None
    return chain


def vouched_rows(
    files: BatchFiles, manifest: dict[str, Any], sha256: str, key: bytes | None
) -> tuple[int | None, str]:
    """(rows, reason): the row count a verified redaction record vouches for the file with
    this hash, so the ingest can check the bytes it read before parsing them; (None, why
    not) otherwise, and (None, "") when the batch has no redaction record."""
    record = _read_sidecar(sidecar_path(files))
    if record is None:
        return None, ""
    if key is None:
        return None, (
            "the warehouse redacted this batch but has no warehouse key to verify its redaction "
            "record: run with the warehouse's key (--warehouse-key)"
        )
    chain = _chain(record, files, key)
    if chain is None:
        return None, (
            "its redaction record does not verify under this warehouse's key (forged or "
            "altered): the batch is refused"
        )
    if chain[0] != (str(manifest["sha256"]).lower(), manifest["row_count"]):
        return None, "its redaction record is for another version of the batch: refused"
    for vouched_sha, vouched_rows_count in chain[1:]:
        if vouched_sha == sha256:
            return vouched_rows_count, ""
    return None, (
        "the file is not the one its redaction record vouches for (altered after the "
        "warehouse redacted it): the batch is refused"
    )


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _write_temporary(path: Path, data: bytes) -> Path:
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    return temporary


def _replace(path: Path, data: bytes) -> None:
    temporary = _write_temporary(path, data)
    os.replace(temporary, path)
    _fsync_directory(path.parent)


def _new_record(
    files: BatchFiles, old_sha: str, old_rows: int, key: bytes
) -> tuple[dict[str, Any], bool]:
    """The sidecar to extend, truncated at the file's current state; and whether that state
    was explained (the signed original, or a verified redaction of it)."""
    try:
        manifest = read_manifest(files.manifest_path)
    except ManifestError:
        manifest = None
    original = (str(manifest["sha256"]).lower(), manifest["row_count"]) if manifest else None
    existing = _read_sidecar(sidecar_path(files))
    chain = _chain(existing, files, key) if existing else None
    if chain is not None and original == chain[0] and (old_sha, old_rows) in chain:
        keep = chain.index((old_sha, old_rows))
        record = dict(existing)  # type: ignore[arg-type]
        record["redactions"] = list(existing["redactions"])[:keep]  # type: ignore[index]
        return record, True
    explained = original == (old_sha, old_rows)
    base = original if original is not None else (old_sha, old_rows)
    record = {
        "format": SIDECAR_FORMAT,
        "inbox_path": files.inbox_path,
        "batch_id": files.batch_id,
        "original_sha256": base[0],
        "original_row_count": base[1],
        "redactions": [],
    }
    return record, explained


def redact_batch(
    con: duckdb.DuckDBPyConnection,
    files: BatchFiles,
    tokens: set[str],
    key: bytes,
    *,
    reference: str,
    run_id: str | None = None,
) -> tuple[int, bool]:
    """Rewrite one batch file without the rows of `tokens`; (rows removed, explained).

    `explained` is False when the file was already not what its manifest or a verified
    redaction says (tampered): it is still rewritten (the rows must go), and a rebuild will
    refuse it as before.
    """
    found = _rows_of_tokens(files, tokens)
    if found is None:
        return 0, True
    table, hit, removed = found
    old_sha = file_sha256(files.data_path)
    data = parquet_bytes(table.filter(pc.invert(hit)))
    new_sha = hashlib.sha256(data).hexdigest()
    record, explained = _signed_redaction_record(
        files, old_sha, new_sha, table.num_rows, removed, key, reference
    )
    _replace_batch_file(
        con,
        files,
        data,
        record,
        old_sha=old_sha,
        new_sha=new_sha,
        removed=removed,
        explained=explained,
        reference=reference,
        run_id=run_id,
    )
    if not explained:
        logger.warning(
            "Batch %s did not match its manifest before the redaction: rewritten without the "
            "erased rows, but not vouched for (a rebuild will refuse it)",
            files.inbox_path,
        )
    return removed, explained


def _rows_of_tokens(
    files: BatchFiles, tokens: set[str]
) -> tuple[pa.Table, pa.ChunkedArray, int] | None:
    """The batch table, its mask of rows holding `tokens` and their count; None if none."""
    try:
        table = pq.read_table(files.data_path)
    except (OSError, pa.ArrowException):
        return None  # unreadable: it can load nothing, and holds nothing we can find
    if "record_token" not in table.column_names:
        return None
    erased = pa.array(sorted(tokens), pa.string())
    hit = pc.fill_null(pc.is_in(table.column("record_token"), value_set=erased), False)
    removed = int(pc.sum(hit).as_py() or 0)
    if not removed:
        return None
    return table, hit, removed


def _signed_redaction_record(
    files: BatchFiles,
    old_sha: str,
    new_sha: str,
    old_rows: int,
    removed: int,
    key: bytes,
    reference: str,
) -> tuple[dict[str, Any], bool]:
    """The batch's redaction record with this redaction added and MACed; and `explained`."""
    record, explained = _new_record(files, old_sha, old_rows, key)
    record["redactions"].append(
        {
            "sha256": new_sha,
            "row_count": old_rows - removed,
            "rows_removed": removed,
            "redacted_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "reference": reference,
        }
    )
    if not explained:
        # Do not vouch for a file whose earlier state nothing explained.
        record["redactions"] = []
    record["mac"] = mac_hex(key, _canonical(record))
    return record, explained


def _replace_batch_file(
    con: duckdb.DuckDBPyConnection,
    files: BatchFiles,
    data: bytes,
    record: dict[str, Any],
    *,
    old_sha: str,
    new_sha: str,
    removed: int,
    explained: bool,
    reference: str,
    run_id: str | None,
) -> None:
    """Write the sidecar, then swap in the rewritten file inside the transaction that moves
    the warehouse's hashes and audits it."""
    temporary = _write_temporary(files.data_path, data)
    try:
        _replace(sidecar_path(files), (json.dumps(record, indent=2) + "\n").encode("ascii"))
        con.execute("BEGIN TRANSACTION")
        try:
            for table_name in ("ops.batches", "ops.rejected_batches"):
                con.execute(
                    f"UPDATE {table_name} SET sha256 = ? "  # noqa: S608 (fixed names)
                    "WHERE inbox_path = ? AND sha256 = ?",
                    [new_sha, files.inbox_path, old_sha],
                )
            append_event(
                con,
                actor=PIPELINE_ACTOR,
                action="inbox_redaction",
                object_name=files.batch_id,
                detail={
                    "reference": reference,
                    "rows_removed": removed,
                    "vouched": explained,
                    "run_id": run_id,
                },
            )
            os.replace(temporary, files.data_path)
            _fsync_directory(files.folder)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        temporary.unlink(missing_ok=True)


def batches_holding(root: Path, tokens: set[str], agency_id: str | None = None) -> list[BatchFiles]:
    """Inbox batches (of `agency_id`, or all) whose data file holds one of `tokens`."""
    erased = pa.array(sorted(tokens), pa.string())
    holding = []
    for files in find_batches(root):
        if agency_id is not None and files.agency_id != agency_id:
            continue
        try:
            column = pq.read_table(files.data_path, columns=["record_token"]).column(0)
        except (OSError, pa.ArrowException, KeyError):
            continue
        if pc.any(pc.fill_null(pc.is_in(column, value_set=erased), False)).as_py():
            holding.append(files)
    return holding


def redact_inbox(
    con: duckdb.DuckDBPyConnection,
    root: Path,
    tokens: Iterable[str],
    key: bytes,
    *,
    reference: str,
    agency_id: str | None = None,
    run_id: str | None = None,
) -> RedactionSummary:
    """Remove the rows of `tokens` from every inbox batch (only `agency_id`'s folders when
    given: an agency's withdrawal never rewrites another agency's batches)."""
    from pipelines.audit import ensure_audit_schema
    from pipelines.defs.ingest.warehouse import ensure_ingest_schema

    wanted = set(tokens)
    summary = RedactionSummary()
    if not wanted or not root.is_dir():
        return summary
    ensure_ingest_schema(con)
    ensure_audit_schema(con)
    for files in batches_holding(root, wanted, agency_id):
        removed, explained = redact_batch(
            con, files, wanted, key, reference=reference, run_id=run_id
        )
        if removed:
            summary.batches_rewritten += 1
            summary.rows_removed += removed
            summary.batches_unverifiable += 0 if explained else 1
    if summary.batches_rewritten:
        logger.info(
            "Inbox redaction %s: %d row(s) removed from %d batch file(s)",
            reference,
            summary.rows_removed,
            summary.batches_rewritten,
        )
    return summary


def reconcile_receipts(con: duckdb.DuckDBPyConnection, root: Path, key: bytes | None) -> int:
    """Point receipts (`ops.batches`) still naming a pre-redaction hash at the file's current,
    verified hash (a crash between the file rename and the receipt update); returns how many."""
    if key is None or not root.is_dir():
        return 0
    fixed = 0
    for files in find_batches(root):
        record = _read_sidecar(sidecar_path(files))
        chain = _chain(record, files, key) if record else None
        if chain is None:
            continue
        current = file_sha256(files.data_path)
        if current not in {sha for sha, _ in chain}:
            continue
        for old in {sha for sha, _ in chain} - {current}:
            updated = con.execute(
                "UPDATE ops.batches SET sha256 = ? WHERE inbox_path = ? AND sha256 = ?",
                [current, files.inbox_path, old],
            ).fetchone()
            fixed += int(updated[0]) if updated else 0
    return fixed
