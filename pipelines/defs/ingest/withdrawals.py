"""Withdrawal batches: an agency asks the warehouse to erase records (consent withdrawn).

Inbox layout: `<inbox>/<source_type>/<agency_id>/<batch_id>.withdrawal.parquet` (one column,
`record_token`) plus `<batch_id>.manifest.json` with `kind: "withdrawal"` (written by
`pahichan withdrawal`, `linkage.encoding.withdrawal`). A withdrawal is checked like a data
batch (manifest, agency signature, versions, SHA-256, columns, row count, key id, duplicate)
and additionally `tokens_belong_to_agency`: every token the warehouse holds must have come
from the same agency. The signature proves which agency sent it, the ownership check that it
only erases that agency's records. A batch failing any check
erases nothing and is recorded in `ops.withdrawals` and `ops.rejected_batches`. Like a data
batch (`batch_checks`), the manifest's signature, agency and source type are checked before
the file is read, and the file is then read once: the tokens erased are parsed from the very
bytes whose hash the signed manifest names.

An accepted withdrawal is applied by `pipelines.erasure.erase_records`; its receipt
(`ops.withdrawals`, counts only) and audit row are written in the erasure's final
transaction, so a crash before that point leaves the withdrawal pending and the next run
applies it again (idempotent). The tokens themselves are never stored.

Then `complete_withdrawal` removes the records from the agency's batches in the inbox
(`ingest.redactions`: the inbox is what a lost warehouse is rebuilt from) and replaces the
withdrawal file and its manifest by a token-free tombstone
(`<reference>.withdrawal-applied.json`: agency, when, counts). Every run completes applied
withdrawals still in the inbox, so a crash between the erasure and the tombstone is finished
by the next run.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from linkage.encoding.batch import AGENCY_ID_RULE, is_agency_id
from pipelines.audit import PIPELINE_ACTOR, append_event, ensure_audit_schema
from pipelines.defs.ingest.agency_keys import active_agency_keys
from pipelines.defs.ingest.batch_checks import (
    BATCH_IS_NOT_A_DUPLICATE,
    BATCH_IS_WITHIN_LIMITS,
    COLUMNS_MATCH_CONTRACT,
    KEY_ID_IS_CURRENT,
    MANIFEST_IS_VALID,
    ROWS_MATCH_MANIFEST,
    SHA256_MATCHES_MANIFEST,
    VERSIONS_ARE_SUPPORTED,
    CheckOutcome,
    signature_check,
    source_type_check,
)
from pipelines.defs.ingest.contract import (
    SUPPORTED_CONTRACT_VERSIONS,
    SUPPORTED_ENCODING_VERSIONS,
)
from pipelines.defs.ingest.inbox import (
    MANIFEST_SUFFIX,
    SOURCE_TYPES,
    WITHDRAWAL_SUFFIX,
    file_sha256,
    is_plain_inbox_file,
    receive_file,
)
from pipelines.defs.ingest.limits import DEFAULT_LIMITS, IngestLimits
from pipelines.defs.ingest.manifest import ManifestError, read_manifest
from pipelines.defs.ingest.redactions import RedactionSummary, redact_inbox
from pipelines.defs.ingest.warehouse import current_key_id, ensure_ingest_schema, utc_now
from pipelines.erasure import RECORD_TOKEN, ErasureResult, erase_records, token_agencies

logger = logging.getLogger(__name__)

WITHDRAWAL_KIND = "withdrawal"
TOKENS_BELONG_TO_AGENCY = "tokens_belong_to_agency"
APPLIED = "applied"
REJECTED = "rejected"
TOMBSTONE_SUFFIX = ".withdrawal-applied.json"


@dataclass(frozen=True)
class WithdrawalFiles:
    """One withdrawal batch in the inbox."""

    root: Path
    source_type: str
    agency_id: str
    batch_id: str

    @property
    def folder(self) -> Path:
        return self.root / self.source_type / self.agency_id

    @property
    def data_path(self) -> Path:
        return self.folder / f"{self.batch_id}{WITHDRAWAL_SUFFIX}"

    @property
    def manifest_path(self) -> Path:
        return self.folder / f"{self.batch_id}{MANIFEST_SUFFIX}"

    @property
    def inbox_path(self) -> str:
        return f"{self.source_type}/{self.agency_id}/{self.batch_id}{WITHDRAWAL_SUFFIX}"


@dataclass
class WithdrawalOutcome:
    """What happened to one withdrawal receipt (counts, never tokens)."""

    files: WithdrawalFiles
    sha256: str = ""  # of the bytes read in the one pass over the file
    checks: list[CheckOutcome] = field(default_factory=list)
    tokens_received: int = 0
    erasure: ErasureResult | None = None

    @property
    def accepted(self) -> bool:
        return all(check.passed for check in self.checks)

    @property
    def status(self) -> str:
        return APPLIED if self.accepted else REJECTED

    @property
    def reason(self) -> str | None:
        return "; ".join(f"{c.name}: {c.reason}" for c in self.checks if not c.passed) or None


def find_withdrawals(root: Path) -> list[WithdrawalFiles]:
    """Complete withdrawal batches (data file and manifest present), sorted by inbox path."""
    found: list[WithdrawalFiles] = []
    if not root.is_dir():
        return found
    for source_type in SOURCE_TYPES:
        for data_path in sorted((root / source_type).glob(f"*/*{WITHDRAWAL_SUFFIX}")):
            files = WithdrawalFiles(
                root,
                source_type,
                data_path.parent.name,
                data_path.name[: -len(WITHDRAWAL_SUFFIX)],
            )
            if not is_plain_inbox_file(root, data_path):
                continue
            if files.manifest_path.is_file():
                found.append(files)
            else:
                logger.info("Withdrawal %s has no manifest yet: waiting", files.inbox_path)
    return found


def pending_withdrawals(con: duckdb.DuckDBPyConnection, root: Path) -> list[WithdrawalFiles]:
    """Withdrawal files (path + content) the warehouse has not processed yet."""
    ensure_audit_schema(con)
    seen = set(con.execute("SELECT inbox_path, sha256 FROM ops.withdrawals").fetchall())
    return [
        files
        for files in find_withdrawals(root)
        if (files.inbox_path, file_sha256(files.data_path)) not in seen
    ]


def _manifest_checks(manifest: dict[str, Any], files: WithdrawalFiles) -> list[CheckOutcome]:
    problems = []
    if manifest.get("kind") != WITHDRAWAL_KIND:
        problems.append(f"kind is {manifest.get('kind')!r}, not 'withdrawal'")
    expected = {
        "batch_id": files.batch_id,
        "source_type": files.source_type,
        "agency_id": files.agency_id,
        "data_file": files.data_path.name,
    }
    problems += [
        f"{name} is {manifest[name]!r} but the inbox says {value!r}"
        for name, value in expected.items()
        if manifest[name] != value
    ]
    checks = [CheckOutcome(MANIFEST_IS_VALID, not problems, "; ".join(problems) or None)]
    # A withdrawal file is one record_token column in every 1.x contract, so any contract
    # of a supported major version is read (the encoder may be ahead of the staging DDL).
    majors = {version.split(".")[0] for version in SUPPORTED_CONTRACT_VERSIONS}
    versions_ok = (
        str(manifest["contract_version"]).split(".")[0] in majors
        and manifest["encoding_version"] in SUPPORTED_ENCODING_VERSIONS
    )
    checks.append(
        CheckOutcome(
            VERSIONS_ARE_SUPPORTED,
            versions_ok,
            None if versions_ok else "contract or encoding version not supported",
        )
    )
    return checks


def _read_tokens(
    data: bytes | bytearray, manifest_rows: int
) -> tuple[list[str] | None, list[CheckOutcome]]:
    """The tokens parsed from the verified bytes, and the column and row checks. The footer's
    schema and row count are checked before the column is decoded."""
    unreadable = CheckOutcome(
        COLUMNS_MATCH_CONTRACT, False, "the withdrawal file is not a readable Parquet file"
    )
    try:
        parquet = pq.ParquetFile(pa.BufferReader(data))
        schema, rows = parquet.schema_arrow, parquet.metadata.num_rows
    except (OSError, pa.ArrowException):
        return None, [unreadable]
    if schema.names != ["record_token"] or not pa.types.is_string(
        schema.field("record_token").type
    ):
        return None, [
            CheckOutcome(
                COLUMNS_MATCH_CONTRACT,
                False,
                "a withdrawal file has exactly one string column, record_token",
            )
        ]
    if rows != manifest_rows:
        return None, [
            CheckOutcome(
                ROWS_MATCH_MANIFEST,
                False,
                f"the file has {rows} rows but the manifest says {manifest_rows}",
            )
        ]
    try:
        tokens = parquet.read().column("record_token").to_pylist()
    except (OSError, pa.ArrowException):
        return None, [unreadable]
    if len(tokens) != manifest_rows:
        return None, [CheckOutcome(ROWS_MATCH_MANIFEST, False, "row count differs from manifest")]
    bad = sum(1 for token in tokens if token is None or not RECORD_TOKEN.match(token))
    if bad:
        return None, [
            CheckOutcome(
                COLUMNS_MATCH_CONTRACT, False, f"{bad} value(s) are not record tokens (32 hex)"
            )
        ]
    passed = [CheckOutcome(COLUMNS_MATCH_CONTRACT, True), CheckOutcome(ROWS_MATCH_MANIFEST, True)]
    return tokens, passed


def _withdrawal_manifest(
    files: WithdrawalFiles, checks: list[CheckOutcome]
) -> dict[str, Any] | None:
    """The withdrawal's manifest when its folder and manifest are valid (failures go to
    `checks`)."""
    if not is_agency_id(files.agency_id):
        checks.append(
            CheckOutcome(
                MANIFEST_IS_VALID,
                False,
                f"the inbox folder {files.agency_id!r} is not a valid agency id "
                f"({AGENCY_ID_RULE}); move the withdrawal to the agency's own folder",
            )
        )
        return None
    try:
        manifest = read_manifest(files.manifest_path, root=files.root)
    except ManifestError as error:
        checks.append(CheckOutcome(MANIFEST_IS_VALID, False, str(error)))
        return None
    checks.extend(_manifest_checks(manifest, files))
    return manifest


def _key_and_size_checks(
    con: duckdb.DuckDBPyConnection,
    manifest: dict[str, Any],
    configured_key_id: str | None,
    limits: IngestLimits,
) -> list[CheckOutcome]:
    """The manifest's key id against the warehouse's, and its row count against the cap."""
    checks: list[CheckOutcome] = []
    key_id = current_key_id(con, configured_key_id)
    key_ok = key_id is None or manifest["key_id"] == key_id
    checks.append(
        CheckOutcome(
            KEY_ID_IS_CURRENT,
            key_ok,
            None if key_ok else "encoded with another key than this warehouse's",
        )
    )
    if manifest["row_count"] > limits.max_batch_rows:
        checks.append(
            CheckOutcome(
                BATCH_IS_WITHIN_LIMITS,
                False,
                f"the manifest announces {manifest['row_count']} tokens, more than the "
                f"{limits.max_batch_rows} allowed (PAHICHAN_MAX_BATCH_ROWS)",
            )
        )
    return checks


def _token_checks(
    con: duckdb.DuckDBPyConnection,
    files: WithdrawalFiles,
    sha256: str,
    tokens: list[str],
) -> list[CheckOutcome]:
    """Not applied before, and every token sent by the withdrawing agency only."""
    duplicate = con.execute(
        "SELECT batch_id FROM ops.withdrawals WHERE status = 'applied' "
        "AND (batch_id = ? OR sha256 = ?) LIMIT 1",
        [files.batch_id, sha256],
    ).fetchone()
    owners = token_agencies(con, list(dict.fromkeys(tokens)))
    foreign = sum(1 for agencies in owners.values() if agencies - {files.agency_id})
    return [
        CheckOutcome(
            BATCH_IS_NOT_A_DUPLICATE,
            duplicate is None,
            None if duplicate is None else f"already applied as {duplicate[0]}",
        ),
        CheckOutcome(
            TOKENS_BELONG_TO_AGENCY,
            foreign == 0,
            None
            if foreign == 0
            else f"{foreign} record(s) were sent by another agency: an agency can only "
            "withdraw its own records (nothing was erased)",
        ),
    ]


def inspect_withdrawal(
    con: duckdb.DuckDBPyConnection,
    files: WithdrawalFiles,
    *,
    configured_key_id: str | None,
    limits: IngestLimits = DEFAULT_LIMITS,
) -> tuple[WithdrawalOutcome, list[str] | None]:
    """Every check on one withdrawal; returns the outcome and its tokens when accepted so far.

    Manifest, signature, source type, versions, key id and row cap first; the file is read
    only for a withdrawal passing them, once, and parsed from the bytes whose hash is checked.
    """
    outcome = WithdrawalOutcome(files=files)
    checks = outcome.checks
    manifest = _withdrawal_manifest(files, checks)
    agency_keys = active_agency_keys(con)
    checks.append(signature_check(manifest, files.agency_id, agency_keys))
    checks.append(source_type_check(files.source_type, files.agency_id, agency_keys))
    if manifest is not None:
        checks.extend(_key_and_size_checks(con, manifest, configured_key_id, limits))
    trusted = manifest is not None and outcome.accepted
    received = receive_file(
        files.data_path, root=files.root, max_bytes=limits.max_batch_bytes, keep=trusted
    )
    outcome.sha256 = received.sha256
    if manifest is not None:
        sha_ok = str(manifest["sha256"]).lower() == received.sha256
        checks.append(
            CheckOutcome(
                SHA256_MATCHES_MANIFEST,
                sha_ok,
                None if sha_ok else "the file's SHA-256 differs from the manifest (altered?)",
            )
        )
    if not trusted or not outcome.accepted:
        return outcome, None  # not signed, or not the bytes signed: never parsed
    assert manifest is not None
    if received.data is None:
        checks.append(
            CheckOutcome(
                BATCH_IS_WITHIN_LIMITS,
                False,
                f"the file is {received.size} bytes, more than the {limits.max_batch_bytes} "
                "allowed (PAHICHAN_MAX_BATCH_BYTES)",
            )
        )
        return outcome, None
    tokens, read_checks = _read_tokens(received.data, manifest["row_count"])
    checks.extend(read_checks)
    if tokens is None:
        return outcome, None
    outcome.tokens_received = len(tokens)
    checks.extend(_token_checks(con, files, outcome.sha256, tokens))
    return outcome, tokens


def _record_receipt(
    con: duckdb.DuckDBPyConnection, outcome: WithdrawalOutcome, run_id: str | None
) -> None:
    files, now = outcome.files, utc_now()
    erasure = outcome.erasure
    con.execute(
        "DELETE FROM ops.withdrawals WHERE inbox_path = ? AND sha256 = ?",
        [files.inbox_path, outcome.sha256],
    )
    con.execute(
        """
        INSERT INTO ops.withdrawals (batch_id, inbox_path, sha256, source_type, agency_id,
            status, tokens_received, records_erased, tokens_not_found, reason, received_at,
            applied_at, run_id)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [
            files.batch_id,
            files.inbox_path,
            outcome.sha256,
            files.source_type,
            files.agency_id,
            outcome.status,
            outcome.tokens_received,
            erasure.records_erased if erasure else 0,
            erasure.tokens_not_found if erasure else None,
            outcome.reason,
            now,
            now if outcome.accepted else None,
            run_id,
        ],
    )
    if not outcome.accepted:
        con.execute(
            "DELETE FROM ops.rejected_batches WHERE inbox_path = ? AND sha256 = ?",
            [files.inbox_path, outcome.sha256],
        )
        con.execute(
            """
            INSERT INTO ops.rejected_batches (batch_id, inbox_path, sha256, source_type,
                agency_id, failed_checks, reason, rejected_at, run_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                files.batch_id,
                files.inbox_path,
                outcome.sha256,
                files.source_type,
                files.agency_id,
                [c.name for c in outcome.checks if not c.passed],
                outcome.reason,
                now,
                run_id,
            ],
        )
    detail: dict[str, Any] = {
        "status": outcome.status,
        "source_type": files.source_type,
        "agency_id": files.agency_id,
        "tokens_received": outcome.tokens_received,
    }
    if erasure is not None:
        detail |= {
            "records_erased": erasure.records_erased,
            "tokens_not_found": erasure.tokens_not_found,
            "rows_deleted": erasure.total_rows_deleted,
            "survivor_id_events": erasure.survivor_id_events,
        }
    else:
        detail["failed_checks"] = [c.name for c in outcome.checks if not c.passed]
    if run_id:
        detail["run_id"] = run_id
    append_event(
        con, actor=PIPELINE_ACTOR, action="withdrawal", object_name=files.batch_id, detail=detail
    )


def apply_withdrawal(
    con: duckdb.DuckDBPyConnection,
    files: WithdrawalFiles,
    *,
    configured_key_id: str | None,
    run_id: str,
    limits: IngestLimits = DEFAULT_LIMITS,
) -> WithdrawalOutcome:
    """Check one withdrawal batch and, if it passes, erase its records (see module doc)."""
    ensure_ingest_schema(con)
    ensure_audit_schema(con)
    outcome, tokens = inspect_withdrawal(
        con, files, configured_key_id=configured_key_id, limits=limits
    )
    if not outcome.accepted or tokens is None:
        con.execute("BEGIN TRANSACTION")
        try:
            _record_receipt(con, outcome, run_id)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        logger.warning("Withdrawal %s rejected: %s", files.inbox_path, outcome.reason)
        return outcome

    def on_commit(connection: duckdb.DuckDBPyConnection, erasure: ErasureResult) -> None:
        outcome.erasure = erasure
        _record_receipt(connection, outcome, run_id)

    erase_records(con, tokens, run_id=run_id, on_commit=on_commit)
    logger.info(
        "Withdrawal %s applied: %d record(s) erased, %d not found",
        files.inbox_path,
        outcome.erasure.records_erased if outcome.erasure else 0,
        outcome.erasure.tokens_not_found if outcome.erasure else 0,
    )
    return outcome


def applied_in_inbox(con: duckdb.DuckDBPyConnection, root: Path) -> list[WithdrawalFiles]:
    """Withdrawal files already applied (receipt `applied`) but not yet completed."""
    ensure_audit_schema(con)
    applied = set(
        con.execute(
            "SELECT inbox_path, sha256 FROM ops.withdrawals WHERE status = 'applied'"
        ).fetchall()
    )
    return [
        files
        for files in find_withdrawals(root)
        if (files.inbox_path, file_sha256(files.data_path)) in applied
    ]


def withdrawal_reference(files: WithdrawalFiles, key: bytes) -> str:
    """A stable name for an applied withdrawal in the inbox. Not the batch id: that is a
    hash of the tokens, which anyone with the linkage secret could test a guess against."""
    from pipelines.warehouse_secret import mac_hex

    return "wd-" + mac_hex(key, b"withdrawal:" + files.inbox_path.encode())[:12]


def complete_withdrawal(
    con: duckdb.DuckDBPyConnection, files: WithdrawalFiles, key: bytes, *, run_id: str | None
) -> RedactionSummary:
    """After its erasure committed: redact the agency's inbox batches, then replace the
    withdrawal file and manifest by a tombstone that holds no token (see module doc).

    The file is read once and its tokens are taken only if these bytes are the ones an
    applied receipt names: a file swapped since cannot steer the redaction."""
    received = receive_file(files.data_path, root=files.root)
    applied = con.execute(
        "SELECT count(*) FROM ops.withdrawals WHERE inbox_path = ? AND sha256 = ? "
        "AND status = 'applied'",
        [files.inbox_path, received.sha256],
    ).fetchone()[0]
    if not applied or received.data is None:
        raise ValueError(
            f"{files.inbox_path} is not the withdrawal file that was applied (changed since): "
            "its inbox batches were not redacted; check the file with the agency"
        )
    rows = pq.ParquetFile(pa.BufferReader(received.data)).metadata.num_rows
    tokens, _ = _read_tokens(received.data, rows)
    reference = withdrawal_reference(files, key)
    summary = redact_inbox(
        con,
        files.root,
        tokens or [],
        key,
        reference=reference,
        agency_id=files.agency_id,
        run_id=run_id,
    )
    tombstone = {
        "kind": "withdrawal_applied",
        "reference": reference,
        "source_type": files.source_type,
        "agency_id": files.agency_id,
        "completed_at": utc_now().isoformat(timespec="seconds"),
        "inbox_batches_rewritten": summary.batches_rewritten,
        "inbox_rows_removed": summary.rows_removed,
        "note": "applied by the warehouse; its record tokens were deleted from the inbox",
    }
    from linkage.encoding.batch import _atomic_write

    path = files.folder / f"{reference}{TOMBSTONE_SUFFIX}"
    _atomic_write(path, (json.dumps(tombstone, indent=2) + "\n").encode("ascii"))
    files.data_path.unlink(missing_ok=True)
    files.manifest_path.unlink(missing_ok=True)
    descriptor = os.open(files.folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    logger.info(
        "Withdrawal %s completed: %d row(s) removed from %d inbox batch(es)",
        reference,
        summary.rows_removed,
        summary.batches_rewritten,
    )
    return summary
