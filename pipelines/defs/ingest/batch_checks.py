"""Batch-level checks: is this batch, as a whole, one the warehouse can accept?

A batch failing any of these is rejected whole (nothing of it is loaded) and left in the
inbox; the reasons go to `ops.rejected_batches` and to the staging asset's checks in the UI.
Checks are named as the statement that holds for a good batch.

Order matters (issue 15): everything that can be decided from the manifest (its signature
by the agency's registered key, the source type registered for that key, versions, key id,
the row count against the cap) and from the file's size is checked before the data file is
read into memory; a batch failing any of it is only hashed as a stream (for its receipt),
never kept or parsed. Otherwise the data file is read ONCE (`inbox.receive_file`), and those
bytes are hashed, compared with the signed manifest and parsed: a file swapped after the
check cannot be what is loaded. The Parquet footer's row count and decoded size are checked
before any column is decoded. Checks that were not reached are not reported (a rejection
lists what failed, not what could not be tried).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from linkage.encoding.batch import AGENCY_ID_RULE, is_agency_id
from linkage.encoding.schema import BATCH_COLUMN_NAMES
from linkage.encoding.signing import SIGNING_KEY_ID_FIELD, signature_is_valid
from pipelines.defs.ingest.agency_keys import RegisteredKey
from pipelines.defs.ingest.contract import (
    OPTIONAL_COLUMNS,
    STAGING_SCHEMA,
    SUPPORTED_CONTRACT_VERSIONS,
    SUPPORTED_ENCODING_VERSIONS,
)
from pipelines.defs.ingest.inbox import BatchFiles, receive_file
from pipelines.defs.ingest.limits import DECODED_BYTES_FACTOR, DEFAULT_LIMITS, IngestLimits
from pipelines.defs.ingest.manifest import ManifestError, read_manifest
from pipelines.defs.ingest.validation import required_columns, rows_sure_to_fail

logger = logging.getLogger(__name__)

MANIFEST_IS_VALID = "manifest_is_valid"
VERSIONS_ARE_SUPPORTED = "versions_are_supported"
SHA256_MATCHES_MANIFEST = "sha256_matches_manifest"
COLUMNS_MATCH_CONTRACT = "columns_match_contract"
ROWS_MATCH_MANIFEST = "rows_match_manifest"
KEY_ID_IS_CURRENT = "key_id_is_current"
MANIFEST_IS_SIGNED_BY_AGENCY = "manifest_is_signed_by_agency"
SOURCE_TYPE_IS_REGISTERED_FOR_AGENCY = "source_type_is_registered_for_agency"
BATCH_IS_WITHIN_LIMITS = "batch_is_within_limits"
QUARANTINE_IS_WITHIN_LIMITS = "quarantine_is_within_limits"
BATCH_IS_NOT_A_DUPLICATE = "batch_is_not_a_duplicate"

BATCH_CHECKS: tuple[str, ...] = (
    MANIFEST_IS_VALID,
    MANIFEST_IS_SIGNED_BY_AGENCY,
    SOURCE_TYPE_IS_REGISTERED_FOR_AGENCY,
    VERSIONS_ARE_SUPPORTED,
    BATCH_IS_WITHIN_LIMITS,
    SHA256_MATCHES_MANIFEST,
    COLUMNS_MATCH_CONTRACT,
    ROWS_MATCH_MANIFEST,
    KEY_ID_IS_CURRENT,
    BATCH_IS_NOT_A_DUPLICATE,
    QUARANTINE_IS_WITHIN_LIMITS,
)

# (batch_id, sha256) -> description of an already accepted batch it duplicates, or None.
DuplicateFinder = Callable[[str, str], str | None]


@dataclass(frozen=True)
class CheckOutcome:
    """One batch-level check: passed or not, and for a failure what to do about it."""

    name: str
    passed: bool
    reason: str | None = None


@dataclass
class BatchInspection:
    """A batch read from the inbox and checked; `table` is set when its columns conform."""

    files: BatchFiles
    sha256: str = ""  # of the bytes read in the one pass over the data file
    manifest: dict[str, Any] | None = None
    table: pa.Table | None = None
    checks: list[CheckOutcome] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return all(check.passed for check in self.checks)

    @property
    def failed_checks(self) -> list[str]:
        return [check.name for check in self.checks if not check.passed]

    @property
    def reason(self) -> str | None:
        reasons = [f"{c.name}: {c.reason}" for c in self.checks if not c.passed]
        return "; ".join(reasons) or None

    def manifest_value(self, name: str) -> Any:
        return self.manifest.get(name) if self.manifest else None


def inspect_batch(
    files: BatchFiles,
    *,
    current_key_id: str | None,
    find_duplicate: DuplicateFinder,
    agency_keys: Mapping[str, RegisteredKey],
    limits: IngestLimits = DEFAULT_LIMITS,
    redaction_key: bytes | None = None,
) -> BatchInspection:
    """Run the batch-level checks on one batch; never raises for bad batch content (an inbox
    entry that is a link or not a file raises `InboxFileError`).

    `current_key_id` is the domain's key id, or None when no batch has pinned one yet (then
    this batch's key id will be pinned if it is otherwise accepted). `agency_keys` are the
    active signing keys (`agency_keys.active_agency_keys`). See the module docstring for the
    order, and why.
    """
    inspection = BatchInspection(files=files)
    checks = inspection.checks
    manifest = _checked_manifest(files, checks)
    inspection.manifest = manifest
    checks.append(signature_check(manifest, files.agency_id, agency_keys))
    checks.append(source_type_check(files.source_type, files.agency_id, agency_keys))
    if manifest is not None:
        checks.extend(_manifest_field_checks(manifest, current_key_id, limits))
    trusted = manifest is not None and inspection.accepted
    # One pass over the data file; its bytes are kept only for a batch that passed so far,
    # and only up to the cap (`receive_file` checks the size before reading).
    received = receive_file(
        files.data_path, root=files.root, max_bytes=limits.max_batch_bytes, keep=trusted
    )
    inspection.sha256 = received.sha256
    expected_rows = manifest["row_count"] if manifest is not None else 0
    if manifest is not None:
        # Comparing hashes needs no parsing: said for every batch with a manifest.
        sha_check, expected_rows = _sha256_or_redaction_check(
            files, manifest, received.sha256, redaction_key
        )
        checks.append(sha_check)
    if not trusted:
        return inspection
    assert manifest is not None
    if received.data is None:
        checks.append(
            _over_limit(
                f"the data file is {received.size} bytes, more than the {limits.max_batch_bytes} "
                "one batch may have (PAHICHAN_MAX_BATCH_BYTES)"
            )
        )
        return inspection
    if not inspection.accepted:
        return inspection  # not the bytes the agency signed: never parsed

    table = _read_conforming_table(received.data, expected_rows, files.source_type, limits, checks)
    inspection.table = table
    if table is None or not inspection.accepted:
        inspection.table = None
        return inspection
    checks.append(CheckOutcome(BATCH_IS_WITHIN_LIMITS, True))
    checks.append(_duplicate_check(find_duplicate, manifest, inspection.sha256))
    return inspection


def _manifest_field_checks(
    manifest: dict[str, Any], current_key_id: str | None, limits: IngestLimits
) -> list[CheckOutcome]:
    """The manifest's versions, key id and announced row count, checked before any reading."""
    checks = [_versions_supported(manifest), _key_id_current(manifest, current_key_id)]
    if manifest["row_count"] > limits.max_batch_rows:
        checks.append(
            _over_limit(
                f"the manifest announces {manifest['row_count']} rows, more than the "
                f"{limits.max_batch_rows} one batch may have (PAHICHAN_MAX_BATCH_ROWS)"
            )
        )
    return checks


def _sha256_or_redaction_check(
    files: BatchFiles, manifest: dict[str, Any], sha256: str, redaction_key: bytes | None
) -> tuple[CheckOutcome, int]:
    """SHA256_MATCHES_MANIFEST (or vouched for by a redaction record) and the rows expected."""
    expected_rows = manifest["row_count"]
    sha_check = _sha256_matches(manifest, sha256)
    if not sha_check.passed:
        # The warehouse may have rewritten the batch after an erasure: its own MACed
        # redaction record then vouches for these bytes and their row count.
        from pipelines.defs.ingest.redactions import vouched_rows

        rows, why = vouched_rows(files, manifest, sha256, redaction_key)
        if rows is not None:
            sha_check, expected_rows = CheckOutcome(sha_check.name, True), rows
        elif why:
            sha_check = CheckOutcome(sha_check.name, False, f"{sha_check.reason}; {why}")
    return sha_check, expected_rows


def _duplicate_check(
    find_duplicate: DuplicateFinder, manifest: dict[str, Any], sha256: str
) -> CheckOutcome:
    """BATCH_IS_NOT_A_DUPLICATE: no accepted batch has this batch id or these bytes."""
    duplicate = find_duplicate(str(manifest["batch_id"]), sha256)
    if duplicate is None:
        return CheckOutcome(BATCH_IS_NOT_A_DUPLICATE, True)
    return CheckOutcome(
        BATCH_IS_NOT_A_DUPLICATE,
        False,
        f"already loaded as {duplicate}; a re-sent batch is not loaded twice "
        "(send corrections as a new export)",
    )


def _checked_manifest(files: BatchFiles, checks: list[CheckOutcome]) -> dict[str, Any] | None:
    """The manifest (read once, bounded) when readable, with MANIFEST_IS_VALID appended."""
    if not is_agency_id(files.agency_id):
        checks.append(CheckOutcome(MANIFEST_IS_VALID, False, _bad_agency_folder(files)))
        return None
    try:
        manifest = read_manifest(files.manifest_path, root=files.root)
    except ManifestError as error:
        checks.append(CheckOutcome(MANIFEST_IS_VALID, False, f"{error}; ask the agency to re-send"))
        return None
    checks.append(_manifest_matches_files(manifest, files))
    return manifest


def _bad_agency_folder(files: BatchFiles) -> str:
    return (
        f"the inbox folder {files.source_type}/{files.agency_id!r} is not a valid agency id "
        f"({AGENCY_ID_RULE}; no spaces, line breaks or look-alike letters): no agency can "
        "send from it; move the batch to the agency's own folder"
    )


def _over_limit(reason: str) -> CheckOutcome:
    return CheckOutcome(
        BATCH_IS_WITHIN_LIMITS,
        False,
        f"{reason}; ask the agency to split the export into smaller batches (or, if this "
        "size is expected, raise the limit in the warehouse settings)",
    )


def _manifest_matches_files(manifest: dict[str, Any], files: BatchFiles) -> CheckOutcome:
    problems = []
    expected = {
        "batch_id": files.batch_id,
        "source_type": files.source_type,
        "agency_id": files.agency_id,
        "data_file": files.data_path.name,
    }
    for name, value in expected.items():
        if manifest[name] != value:
            problems.append(f"{name} is {manifest[name]!r} but the inbox says {value!r}")
    if problems:
        return CheckOutcome(
            MANIFEST_IS_VALID,
            False,
            "; ".join(problems) + " (batches go in <inbox>/<source_type>/<agency_id>/)",
        )
    return CheckOutcome(MANIFEST_IS_VALID, True)


def _versions_supported(manifest: dict[str, Any]) -> CheckOutcome:
    problems = []
    if manifest["contract_version"] not in SUPPORTED_CONTRACT_VERSIONS:
        problems.append(f"contract_version {manifest['contract_version']!r} is not supported")
    if manifest["encoding_version"] not in SUPPORTED_ENCODING_VERSIONS:
        problems.append(f"encoding_version {manifest['encoding_version']!r} is not supported")
    if problems:
        supported = ", ".join(sorted(SUPPORTED_CONTRACT_VERSIONS | SUPPORTED_ENCODING_VERSIONS))
        return CheckOutcome(
            VERSIONS_ARE_SUPPORTED,
            False,
            "; ".join(problems) + f" (supported: {supported}); the agency's tool needs updating",
        )
    return CheckOutcome(VERSIONS_ARE_SUPPORTED, True)


def _sha256_matches(manifest: dict[str, Any], sha256: str) -> CheckOutcome:
    if str(manifest["sha256"]).lower() != sha256:
        return CheckOutcome(
            SHA256_MATCHES_MANIFEST,
            False,
            f"data file SHA-256 is {sha256[:12]}… but the manifest says "
            f"{str(manifest['sha256'])[:12]}…: the file was altered or cut short in transfer; "
            "ask the agency to re-send",
        )
    return CheckOutcome(SHA256_MATCHES_MANIFEST, True)


def _read_conforming_table(
    data: bytes | bytearray,
    manifest_rows: int,
    source_type: str,
    limits: IngestLimits,
    checks: list[CheckOutcome],
) -> pa.Table | None:
    """The batch table cast to the staging schema, parsed from the verified bytes; or None.

    Appends COLUMNS_MATCH_CONTRACT and ROWS_MATCH_MANIFEST (and BATCH_IS_WITHIN_LIMITS when
    the footer declares too much, QUARANTINE_IS_WITHIN_LIMITS when its required columns are
    mostly empty). Columns, row count and decoded size come from the Parquet footer, so a
    file announcing other columns or more rows than signed is refused before a single column
    is decoded; the required columns are decoded alone first, so a batch of empty rows is
    refused before its Bloom filters are.
    """
    try:
        parquet = pq.ParquetFile(pa.BufferReader(data))
        metadata = parquet.metadata
        names = parquet.schema_arrow.names
        groups = [metadata.row_group(index) for index in range(metadata.num_row_groups)]
    except (OSError, pa.ArrowException) as error:
        logger.info("Cannot read the Parquet footer: %s", error)
        checks.append(_unreadable())
        return None
    columns_differ = _columns_differ(names)
    if columns_differ is not None:
        checks.append(columns_differ)
    rows = metadata.num_rows
    footer_problem = _footer_size_problem(rows, groups, manifest_rows, limits)
    if footer_problem is not None:
        checks.append(footer_problem)
        return None
    if columns_differ is not None:
        return None
    problem = _quarantine_problem(parquet, source_type, rows, limits)
    if problem is not None:
        checks.append(quarantine_too_large(problem))
        return None
    return _decoded_table(parquet, rows, manifest_rows, checks)


def _unreadable() -> CheckOutcome:
    """A failed COLUMNS_MATCH_CONTRACT for a file Parquet cannot read."""
    return CheckOutcome(
        COLUMNS_MATCH_CONTRACT, False, "the data file is not a readable Parquet file"
    )


def _columns_differ(names: list[str]) -> CheckOutcome | None:
    """A failed COLUMNS_MATCH_CONTRACT when the footer's columns are not the contract's."""
    missing = [
        name for name in BATCH_COLUMN_NAMES if name not in names and name not in OPTIONAL_COLUMNS
    ]
    # Unknown columns are refused rather than dropped: they could carry clear identifiers
    # that must never enter the warehouse. Their values are never echoed.
    extra = [name for name in names if name not in BATCH_COLUMN_NAMES]
    if not missing and not extra:
        return None
    parts = []
    if missing:
        parts.append("missing columns " + ", ".join(missing))
    if extra:
        parts.append("columns not in the contract " + ", ".join(extra))
    return CheckOutcome(
        COLUMNS_MATCH_CONTRACT,
        False,
        "; ".join(parts) + " (batches carry only the pseudonymised columns of the contract)",
    )


def _footer_size_problem(
    rows: int, groups: list[Any], manifest_rows: int, limits: IngestLimits
) -> CheckOutcome | None:
    """A failed check when the footer's row count differs from the manifest's or its
    decoded size is over the limit."""
    if rows != manifest_rows or sum(group.num_rows for group in groups) != rows:
        return _rows_differ(rows, manifest_rows)
    decoded = sum(group.total_byte_size for group in groups)
    if decoded > limits.max_decoded_bytes:
        return _over_limit(
            f"the data file declares {decoded} bytes once decoded, more than the "
            f"{limits.max_decoded_bytes} allowed ({DECODED_BYTES_FACTOR} x "
            "PAHICHAN_MAX_BATCH_BYTES)"
        )
    return None


def _decoded_table(
    parquet: pq.ParquetFile, rows: int, manifest_rows: int, checks: list[CheckOutcome]
) -> pa.Table | None:
    """Decode every column and cast to the staging schema (ROWS_MATCH_MANIFEST and
    COLUMNS_MATCH_CONTRACT appended); None when that fails."""
    try:
        table = parquet.read()
    except (OSError, pa.ArrowException) as error:
        logger.info("Cannot decode the Parquet file: %s", error)
        checks.append(_unreadable())
        return None
    if table.num_rows != manifest_rows:
        checks.append(_rows_differ(table.num_rows, manifest_rows))
        return None
    checks.append(CheckOutcome(ROWS_MATCH_MANIFEST, True))
    for name in OPTIONAL_COLUMNS - set(table.column_names):
        table = table.append_column(name, pa.nulls(rows, STAGING_SCHEMA.field(name).type))
    try:
        table = table.select(list(BATCH_COLUMN_NAMES)).cast(STAGING_SCHEMA.remove_metadata())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        checks.append(
            CheckOutcome(COLUMNS_MATCH_CONTRACT, False, f"a column has the wrong type: {error}")
        )
        return None
    checks.append(CheckOutcome(COLUMNS_MATCH_CONTRACT, True))
    return table


def _quarantine_problem(
    parquet: pq.ParquetFile, source_type: str, rows: int, limits: IngestLimits
) -> str | None:
    """Why the rows sure to fail are too many to quarantine (None if they are not), from the
    required columns alone (`validation.rows_sure_to_fail`)."""
    required = [
        name for name in required_columns(source_type) if name in parquet.schema_arrow.names
    ]
    if not required:
        return None
    try:
        sure = rows_sure_to_fail(parquet.read(columns=required), source_type)
    except (OSError, pa.ArrowException):
        return None  # undecodable: the full read reports it
    return limits.quarantine_problem(sure, rows)


def quarantine_too_large(problem: str) -> CheckOutcome:
    """The failed QUARANTINE_IS_WITHIN_LIMITS check, with what to do."""
    return CheckOutcome(
        QUARANTINE_IS_WITHIN_LIMITS,
        False,
        f"{problem}: the export is broken, not a few bad rows; nothing of it was loaded or "
        "quarantined; ask the agency to check its export and re-send",
    )


def _rows_differ(rows: int, manifest_rows: int) -> CheckOutcome:
    return CheckOutcome(
        ROWS_MATCH_MANIFEST,
        False,
        f"the data file has {rows} rows but the manifest says {manifest_rows}: the file is "
        "incomplete or altered; ask the agency to re-send",
    )


def _key_id_current(manifest: dict[str, Any], current_key_id: str | None) -> CheckOutcome:
    if current_key_id is not None and manifest["key_id"] != current_key_id:
        return CheckOutcome(
            KEY_ID_IS_CURRENT,
            False,
            f"encoded with key {manifest['key_id']} but this warehouse links records of key "
            f"{current_key_id}: records of different keys cannot be compared; the agency must "
            "encode with the shared key of this domain",
        )
    return CheckOutcome(KEY_ID_IS_CURRENT, True)


def signature_check(
    manifest: Mapping[str, Any] | None,
    agency_id: str,
    agency_keys: Mapping[str, RegisteredKey],
) -> CheckOutcome:
    """Is the manifest signed by the active key of `agency_id` (the inbox folder's agency)?"""
    if manifest is None:
        return CheckOutcome(
            MANIFEST_IS_SIGNED_BY_AGENCY, False, "no readable manifest to check a signature on"
        )
    registered = agency_keys.get(agency_id)
    if registered is None:
        return CheckOutcome(
            MANIFEST_IS_SIGNED_BY_AGENCY,
            False,
            f"no signing key is registered for agency {agency_id!r}: register the public key "
            "the agency hands over with `pahichan agency-key register`, then re-run",
        )
    stated = manifest.get(SIGNING_KEY_ID_FIELD)
    if stated is None:
        return CheckOutcome(
            MANIFEST_IS_SIGNED_BY_AGENCY,
            False,
            "the manifest is not signed: the agency must export with a current tool and its "
            "signing key (`pahichan pseudonymise --signing-key ...`) and re-send",
        )
    if stated != registered.signing_key_id:
        return CheckOutcome(
            MANIFEST_IS_SIGNED_BY_AGENCY,
            False,
            f"signed with key {str(stated)[:24]!r} but {agency_id}'s registered key is "
            f"{registered.signing_key_id}: if the agency changed its key, register the new "
            "public key; otherwise the batch was not written by this agency",
        )
    if not signature_is_valid(manifest, registered.public_key):
        return CheckOutcome(
            MANIFEST_IS_SIGNED_BY_AGENCY,
            False,
            "the manifest's signature does not verify: it was altered after signing or forged; "
            "ask the agency to re-send",
        )
    return CheckOutcome(MANIFEST_IS_SIGNED_BY_AGENCY, True)


def source_type_check(
    source_type: str, agency_id: str, agency_keys: Mapping[str, RegisteredKey]
) -> CheckOutcome:
    """May `agency_id`'s registered key send `source_type` (the inbox folder's, which the
    manifest must repeat)? Passes when no key is registered: the signature check fails then.
    """
    registered = agency_keys.get(agency_id)
    if registered is None:
        return CheckOutcome(SOURCE_TYPE_IS_REGISTERED_FOR_AGENCY, True)
    register = (
        f"`pahichan agency-key register --agency {agency_id} --public-key <its .pub.pem> --by <you>"
    )
    if registered.source_types is None:
        return CheckOutcome(
            SOURCE_TYPE_IS_REGISTERED_FOR_AGENCY,
            False,
            f"agency {agency_id}'s key was registered before source types were recorded, so "
            f"it may send nothing yet: register it again with {register} --source-type "
            f"{source_type}` (one --source-type per kind of record it sends), then re-run",
        )
    if source_type not in registered.source_types:
        allowed = ", ".join(registered.source_types)
        every = " ".join(
            f"--source-type {name}" for name in (*registered.source_types, source_type)
        )
        return CheckOutcome(
            SOURCE_TYPE_IS_REGISTERED_FOR_AGENCY,
            False,
            f"agency {agency_id} is registered to send {allowed} records only, but this batch "
            f"is filed as {source_type} (inbox folder {source_type}/{agency_id}/): if the "
            f"agency really sends {source_type} records, confirm it with the agency and "
            f"register its key with {register} {every}`; otherwise the batch is misfiled or "
            "forged and must not be loaded",
        )
    return CheckOutcome(SOURCE_TYPE_IS_REGISTERED_FOR_AGENCY, True)
