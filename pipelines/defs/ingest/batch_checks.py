"""Batch-level checks: is this batch, as a whole, one the warehouse can accept?

A batch failing any of these is rejected whole (nothing of it is loaded) and left in the
inbox; the reasons go to `ops.rejected_batches` and to the staging asset's checks in the UI.
Checks are named as the statement that holds for a good batch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from linkage.encoding.signing import SIGNING_KEY_ID_FIELD, signature_is_valid
from pipelines.defs.ingest.agency_keys import RegisteredKey
from pipelines.defs.ingest.contract import (
    BATCH_COLUMNS,
    OPTIONAL_COLUMNS,
    STAGING_SCHEMA,
    SUPPORTED_CONTRACT_VERSIONS,
    SUPPORTED_ENCODING_VERSIONS,
)
from pipelines.defs.ingest.inbox import BatchFiles, file_sha256
from pipelines.defs.ingest.manifest import ManifestError, read_manifest

logger = logging.getLogger(__name__)

MANIFEST_IS_VALID = "manifest_is_valid"
VERSIONS_ARE_SUPPORTED = "versions_are_supported"
SHA256_MATCHES_MANIFEST = "sha256_matches_manifest"
COLUMNS_MATCH_CONTRACT = "columns_match_contract"
ROWS_MATCH_MANIFEST = "rows_match_manifest"
KEY_ID_IS_CURRENT = "key_id_is_current"
MANIFEST_IS_SIGNED_BY_AGENCY = "manifest_is_signed_by_agency"
BATCH_IS_NOT_A_DUPLICATE = "batch_is_not_a_duplicate"

BATCH_CHECKS: tuple[str, ...] = (
    MANIFEST_IS_VALID,
    MANIFEST_IS_SIGNED_BY_AGENCY,
    VERSIONS_ARE_SUPPORTED,
    SHA256_MATCHES_MANIFEST,
    COLUMNS_MATCH_CONTRACT,
    ROWS_MATCH_MANIFEST,
    KEY_ID_IS_CURRENT,
    BATCH_IS_NOT_A_DUPLICATE,
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
    sha256: str
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
) -> BatchInspection:
    """Run every batch-level check on one batch; never raises for bad batch content.

    `current_key_id` is the domain's key id, or None when no batch has pinned one yet (then
    this batch's key id will be pinned if it is otherwise accepted). `agency_keys` are the
    active signing keys (`agency_keys.active_agency_keys`).
    """
    inspection = BatchInspection(files=files, sha256=file_sha256(files.data_path))
    checks = inspection.checks
    try:
        manifest = read_manifest(files.manifest_path)
    except ManifestError as error:
        checks.append(CheckOutcome(MANIFEST_IS_VALID, False, f"{error}; ask the agency to re-send"))
        manifest = None
    else:
        inspection.manifest = manifest
        checks.append(_manifest_matches_files(manifest, files))
    checks.append(signature_check(manifest, files.agency_id, agency_keys))

    no_manifest = "no readable manifest to compare with"
    if manifest is None:
        checks.append(CheckOutcome(VERSIONS_ARE_SUPPORTED, False, no_manifest))
        checks.append(CheckOutcome(SHA256_MATCHES_MANIFEST, False, no_manifest))
    else:
        checks.append(_versions_supported(manifest))
        checks.append(_sha256_matches(manifest, inspection.sha256))

    table, rows, columns_check = _read_conforming_table(files)
    inspection.table = table
    checks.append(columns_check)

    if manifest is None or rows is None:
        checks.append(CheckOutcome(ROWS_MATCH_MANIFEST, False, no_manifest if manifest is None
                                   else "the data file could not be read"))  # fmt: skip
    elif rows != manifest["row_count"]:
        checks.append(CheckOutcome(
            ROWS_MATCH_MANIFEST, False,
            f"the data file has {rows} rows but the manifest says "
            f"{manifest['row_count']}: the file is incomplete or altered; "
            "ask the agency to re-send",
        ))  # fmt: skip
    else:
        checks.append(CheckOutcome(ROWS_MATCH_MANIFEST, True))

    checks.append(_key_id_current(manifest, current_key_id))
    duplicate = find_duplicate(
        str(manifest["batch_id"]) if manifest else files.batch_id, inspection.sha256
    )
    checks.append(
        CheckOutcome(BATCH_IS_NOT_A_DUPLICATE, True)
        if duplicate is None
        else CheckOutcome(
            BATCH_IS_NOT_A_DUPLICATE,
            False,
            f"already loaded as {duplicate}; a re-sent batch is not loaded twice "
            "(send corrections as a new export)",
        )
    )
    return inspection


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
    files: BatchFiles,
) -> tuple[pa.Table | None, int | None, CheckOutcome]:
    """(table cast to the staging schema or None, rows in the file or None, the check)."""
    try:
        table = pq.read_table(files.data_path)
    except (OSError, pa.ArrowException) as error:
        logger.info("Cannot read %s: %s", files.inbox_path, error)
        return (
            None,
            None,
            CheckOutcome(
                COLUMNS_MATCH_CONTRACT, False, "the data file is not a readable Parquet file"
            ),
        )
    missing = [
        name
        for name in BATCH_COLUMNS
        if name not in table.column_names and name not in OPTIONAL_COLUMNS
    ]
    # Unknown columns are refused rather than dropped: they could carry clear identifiers
    # that must never enter the warehouse. Their values are never echoed.
    extra = [name for name in table.column_names if name not in BATCH_COLUMNS]
    if missing or extra:
        parts = []
        if missing:
            parts.append("missing columns " + ", ".join(missing))
        if extra:
            parts.append("columns not in the contract " + ", ".join(extra))
        return (
            None,
            table.num_rows,
            CheckOutcome(
                COLUMNS_MATCH_CONTRACT,
                False,
                "; ".join(parts)
                + " (batches carry only the pseudonymised columns of the contract)",
            ),
        )
    rows = table.num_rows
    for name in OPTIONAL_COLUMNS - set(table.column_names):
        table = table.append_column(name, pa.nulls(rows, STAGING_SCHEMA.field(name).type))
    try:
        table = table.select(list(BATCH_COLUMNS)).cast(STAGING_SCHEMA.remove_metadata())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        return (
            None,
            rows,
            CheckOutcome(COLUMNS_MATCH_CONTRACT, False, f"a column has the wrong type: {error}"),
        )
    return table, rows, CheckOutcome(COLUMNS_MATCH_CONTRACT, True)


def _key_id_current(manifest: dict[str, Any] | None, current_key_id: str | None) -> CheckOutcome:
    if manifest is None:
        return CheckOutcome(KEY_ID_IS_CURRENT, False, "no readable manifest to compare with")
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
