"""Read an agency export and write the batch files: parquet + manifest, crosswalk + rejects.

File handling decisions (documented for agencies in ``pahichan pseudonymise --help``):

- The export must be UTF-8 (a UTF-8 byte-order mark is accepted). Rows containing bytes
  that are not UTF-8 are *rejected one by one* (reason "undecodable bytes"), so one bad
  row does not block a whole month; a header that is not UTF-8, a UTF-16 file or a binary
  file makes the whole file unusable (exit 2).
- ``batch_id`` = ``<agency>-<first 12 hex of sha256(export bytes + key id)>``: re-running on
  the same export with the same key gives the same batch id and the same parquet bytes.
- Parquet and manifest are written to temporary names and renamed, manifest last, so a
  pipeline watching the folder never sees half a batch. The manifest is signed with the
  agency's own signing key (``linkage.encoding.signing``).
- Crosswalk (``record_id -> record_token``) and rejects stay with the agency in another
  folder (mode 0600); the rejects file holds row, column, reason and record_id only.
- Rows whose ``consent_scope`` is ``services_only`` are withheld: not in the batch, not in
  the crosswalk, counted in the manifest (``rows_withheld_services_only``) and listed in the
  rejects file with the reason ``WITHHELD_REASON`` (not counted as rejected).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from linkage.encoding.crypto import ENCODING_VERSION
from linkage.encoding.encode import EncodedBatch, Reject, encode_frame
from linkage.encoding.schema import INPUT_COLUMNS, NAME_COLUMNS
from linkage.encoding.signing import AgencySigningKey, sign_manifest
from schemas.contract import CONTRACT_VERSION

# The one definition of an agency id, used by the agency tool and by the warehouse
# (registration and ingest): ASCII letters and digits, '-' and '_', matched whole. `\A...\Z`
# rather than `^...$`, which also matches before a trailing newline; ASCII only, so that a
# look-alike (Cyrillic 'а', full-width letters, a zero-width space) is a different, refused id.
AGENCY_ID = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9_-]{0,63}\Z")
AGENCY_ID_RULE = "1-64 ASCII letters, digits, '-' or '_', starting with a letter or digit"


def is_agency_id(value: object) -> bool:
    """True when `value` is a well-formed agency id (see `AGENCY_ID`)."""
    return isinstance(value, str) and AGENCY_ID.fullmatch(value) is not None


REQUIRED = ("record_id", "contact_date")
WITHHELD_REASON = "withheld: consent_scope services_only, the row stays here (not an error)"


class UnusableInput(ValueError):
    """The whole input cannot be used; the message says what to fix (CLI exit code 2)."""


@dataclass(frozen=True)
class Extract:
    """A decoded export: canonical-column frame, its data row numbers, rows already rejected."""

    frame: pd.DataFrame
    source_rows: list[int]
    rejects: list[Reject]
    raw_bytes: bytes


@dataclass(frozen=True)
class WrittenBatch:
    """Paths and counts of one pseudonymise run."""

    batch_id: str
    parquet: Path
    manifest: Path
    crosswalk: Path
    rejects: Path
    row_count: int
    rejected_count: int
    withheld_count: int = 0


def decode_export(raw: bytes) -> str:
    """Text of an export: UTF-8 (BOM optional); undecodable bytes kept as surrogates."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in raw[:4096]:
        raise UnusableInput("the export looks like UTF-16 or a binary file; save it as 'CSV UTF-8'")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    return raw.decode("utf-8", errors="surrogateescape")


def _canonical_header(header: str) -> str:
    """``Record ID`` / ``contact-date`` -> ``record_id`` / ``contact_date`` (contract rule)."""
    return re.sub(r"[\s\-.]+", "_", header.strip().lstrip("\ufeff").casefold()).strip("_")


def _load_mapping(mapping_path: Path) -> dict[str, str]:
    """{export header: canonical column} from the agency's mapping YAML.

    The file maps each *agency header* to a *canonical column* (`Reg No: record_id`), read
    by `schemas.contract.load_column_mapping`, which refuses canonical names the contract
    does not have. There is no guessing of the other direction: `record_id: Reg No` names an
    unknown column and is refused with that message.
    """
    from schemas.contract import load_column_mapping

    try:
        mapping = load_column_mapping(mapping_path)
    except OSError as error:
        raise UnusableInput(
            f"cannot read column mapping {mapping_path}: {error.strerror or error}"
        ) from None
    except ValueError as error:  # names the file and the offending entries
        raise UnusableInput(f"column mapping {error}") from None
    return {header.strip(): column for header, column in mapping.items()}


def _header_mapping(headers: list[str], mapping_path: Path | None) -> dict[str, str]:
    """Map each export header to a canonical column (unmapped, unknown headers are ignored)."""
    by_header = _load_mapping(mapping_path) if mapping_path is not None else {}
    # A mapping entry matches its header exactly or loosely (case, spaces, hyphens, dots).
    loose = {_canonical_header(k): v for k, v in by_header.items()}
    result: dict[str, str] = {}
    for header in headers:
        canonical = (
            by_header.get(header.strip())
            or loose.get(_canonical_header(header))
            or _canonical_header(header)
        )
        if canonical in INPUT_COLUMNS:
            if canonical in result.values():
                raise UnusableInput(f"two headers map to column {canonical}; keep one")
            result[header] = canonical
    return result


def read_export(path: Path, mapping_path: Path | None = None) -> Extract:
    """Read an export CSV into canonical columns; rows with a wrong field count are rejected."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise UnusableInput(f"cannot read {path}: {error.strerror or error}") from None
    text = decode_export(raw)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        headers = next(reader)
    except StopIteration:
        raise UnusableInput(f"{path} is empty; export at least a header row") from None
    except csv.Error as error:
        raise UnusableInput(f"{path} is not a readable CSV ({error})") from None
    if any("\udc80" <= char <= "\udcff" for header in headers for char in header):
        raise UnusableInput(f"the header row of {path} is not UTF-8; save it as 'CSV UTF-8'")
    mapping = _header_mapping(headers, mapping_path)
    mapped = set(mapping.values())
    missing = [column for column in REQUIRED if column not in mapped]
    if not mapped.intersection(NAME_COLUMNS):
        missing.append("given_name|family_name|father_name")
    if missing:
        raise UnusableInput(
            f"{path} lacks required column(s) {', '.join(missing)}; found headers "
            f"{', '.join(h.strip() for h in headers)}. Rename them or pass --mapping cols.yaml"
        )
    positions = {canonical: headers.index(header) for header, canonical in mapping.items()}
    rows: list[list[str]] = []
    source_rows: list[int] = []
    rejects: list[Reject] = []
    row_number = 0
    try:
        for fields in reader:
            if not fields:  # blank line
                continue
            row_number += 1
            if len(fields) != len(headers):
                record_id = (
                    fields[positions["record_id"]] if len(fields) > positions["record_id"] else ""
                )
                rejects.append(
                    Reject(
                        row_number,
                        "*",
                        f"row has {len(fields)} fields, header has {len(headers)}",
                        record_id if record_id.isprintable() else "",
                    )
                )
                continue
            rows.append([fields[positions[c]] if c in positions else "" for c in INPUT_COLUMNS])
            source_rows.append(row_number)
    except csv.Error as error:
        raise UnusableInput(f"{path} row {row_number + 1}: broken CSV quoting ({error})") from None
    frame = pd.DataFrame(rows, columns=list(INPUT_COLUMNS), dtype=object)
    return Extract(frame=frame, source_rows=source_rows, rejects=rejects, raw_bytes=raw)


def batch_id_of(agency_id: str, raw_bytes: bytes, key_id: str) -> str:
    """Deterministic batch id: same export + same key -> same id."""
    digest = hashlib.sha256(raw_bytes + b"\x00" + key_id.encode("ascii")).hexdigest()
    return f"{agency_id}-{digest[:12]}"


def _atomic_write(path: Path, data: bytes, mode: int = 0o644) -> None:
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    # O_BINARY (Windows only): otherwise the descriptor is in text mode and "\n" -> "\r\n",
    # which would corrupt the Parquet bytes the manifest's hash and signature cover.
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)
    descriptor = os.open(temporary, flags, mode)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def parquet_bytes(table: pa.Table) -> bytes:
    """Serialise the batch table deterministically (fixed writer options, no timestamps)."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd", write_statistics=False)
    return sink.getvalue().to_pybytes()


def manifest_of(
    *,
    batch_id: str,
    source_type: str,
    agency_id: str,
    key_id: str,
    encoded: EncodedBatch,
    rejected_count: int,
    data: bytes,
) -> dict[str, object]:
    """The manifest fields of docs/interfaces.md §2."""
    return {
        "batch_id": batch_id,
        "contract_version": CONTRACT_VERSION,
        "encoding_version": ENCODING_VERSION,
        "source_type": source_type,
        "agency_id": agency_id,
        "key_id": key_id,
        "row_count": encoded.table.num_rows,
        "rejected_count": rejected_count,
        # Contract 1.2: rows the agency kept back (consent_scope services_only); only a count.
        "rows_withheld_services_only": len(encoded.withheld),
        "data_file": f"{batch_id}.parquet",
        "sha256": hashlib.sha256(data).hexdigest(),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def _csv_bytes(header: list[str], rows: list[list[object]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8", errors="replace")


def pseudonymise_file(
    *,
    source_type: str,
    agency_id: str,
    secret: bytes,
    key_id: str,
    input_path: Path,
    out_dir: Path,
    crosswalk_dir: Path | None = None,
    mapping_path: Path | None = None,
    signing_key: AgencySigningKey,
    calendar: str = "ad",
) -> WrittenBatch:
    """Encode one export and write the four files. Raises UnusableInput for exit-2 problems.

    The manifest is signed with the agency's `signing_key` (linkage.encoding.signing).
    """
    if not is_agency_id(agency_id):
        raise UnusableInput(f"--agency must be {AGENCY_ID_RULE}")
    crosswalk_dir = crosswalk_dir or input_path.parent / "crosswalk"
    out_resolved = out_dir.resolve()
    keep_resolved = crosswalk_dir.resolve()
    if keep_resolved == out_resolved or out_resolved in keep_resolved.parents:
        raise UnusableInput("--crosswalk-dir must be outside --out: it never enters the inbox")
    extract = read_export(input_path, mapping_path)
    encoded = encode_frame(
        extract.frame,
        secret=secret,
        agency_id=agency_id,
        source_type=source_type,
        calendar=calendar,
        source_rows=extract.source_rows,
    )
    rejects = sorted(extract.rejects + encoded.rejects, key=lambda r: r.row)
    rejected_count = len({reject.row for reject in rejects})
    batch_id = batch_id_of(agency_id, extract.raw_bytes, key_id)
    out_dir.mkdir(parents=True, exist_ok=True)
    crosswalk_dir.mkdir(parents=True, exist_ok=True, mode=0o700)

    crosswalk_path = crosswalk_dir / f"{batch_id}.crosswalk.csv"
    rejects_path = crosswalk_dir / f"{batch_id}.rejects.csv"
    _atomic_write(
        crosswalk_path,
        _csv_bytes(["record_id", "record_token"], encoded.crosswalk.values.tolist()),
        mode=0o600,
    )
    withheld = [
        [row, "consent_scope", WITHHELD_REASON, record_id] for row, record_id in encoded.withheld
    ]
    _atomic_write(
        rejects_path,
        _csv_bytes(
            ["row", "column", "reason", "record_id"],
            sorted(
                [[r.row, r.column, r.reason, r.record_id] for r in rejects] + withheld,
                key=lambda line: line[0],
            ),
        ),
        mode=0o600,
    )

    data = parquet_bytes(encoded.table)
    manifest = sign_manifest(
        manifest_of(
            batch_id=batch_id,
            source_type=source_type,
            agency_id=agency_id,
            key_id=key_id,
            encoded=encoded,
            rejected_count=rejected_count,
            data=data,
        ),
        signing_key,
    )
    parquet_path = out_dir / f"{batch_id}.parquet"
    manifest_path = out_dir / f"{batch_id}.manifest.json"
    _atomic_write(parquet_path, data)
    _atomic_write(manifest_path, (json.dumps(manifest, indent=2) + "\n").encode("ascii"))
    return WrittenBatch(
        batch_id=batch_id,
        parquet=parquet_path,
        manifest=manifest_path,
        crosswalk=crosswalk_path,
        rejects=rejects_path,
        row_count=encoded.table.num_rows,
        rejected_count=rejected_count,
        withheld_count=len(encoded.withheld),
    )
