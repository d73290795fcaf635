"""`pahichan withdrawal`: agency side of consent withdrawal.

A survivor withdraws consent at an agency. The agency lists the local record ids of that
person's records; this command turns them into record tokens (the encoder's own keyed HMAC,
`RecordEncoder.record_token`, so the tokens are exactly those of the batches already sent)
and writes a withdrawal batch for the inbox:

- `<batch_id>.withdrawal.parquet`: one column `record_token`, one row per record to erase;
- `<batch_id>.manifest.json`: the data-batch manifest fields (docs/interfaces.md section 2)
  plus `kind: "withdrawal"`; `data_file` names the withdrawal parquet. It is signed with
  the agency's own signing key, so no other agency can withdraw records in its name.

`batch_id` = `<agency>-wd-<12 hex of sha256(sorted tokens + key id)>`: the same request gives
the same batch id, so a re-sent request is recognised as a duplicate. The record ids never
leave the agency; the warehouse erases the records everywhere, rebuilds its numbers and
keeps no copy of the tokens. The agency must also stop exporting these records (delete or
mark them in its register): the warehouse cannot recognise a record sent again.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import click
import pyarrow as pa

from linkage.encoding.batch import AGENCY_ID_RULE, _atomic_write, is_agency_id, parquet_bytes
from linkage.encoding.crypto import ENCODING_VERSION
from linkage.encoding.keyed import encoder_for
from linkage.encoding.keys import KeyFileError, read_key
from linkage.encoding.signing import (
    AgencySigningKey,
    SigningKeyError,
    read_signing_key,
    sign_manifest,
)
from schemas.contract import CONTRACT_VERSION
from schemas.vocabularies import SOURCE_TYPES

WITHDRAWAL_KIND = "withdrawal"
WITHDRAWAL_SUFFIX = ".withdrawal.parquet"
WITHDRAWAL_SCHEMA = pa.schema([pa.field("record_token", pa.string(), nullable=False)])
EXIT_UNUSABLE = 2
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


class UnusableRecordIds(ValueError):
    """The record-id list cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class WrittenWithdrawal:
    """Paths and count of one withdrawal batch."""

    batch_id: str
    data: Path
    manifest: Path
    row_count: int


def read_record_ids(path: Path) -> list[str]:
    """Distinct record ids from a text file (one per line) or a CSV with a `record_id` header.

    Blank lines are skipped; a line with a control character or (for CSV) no record_id is an
    error naming the line, never echoing its content.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UnusableRecordIds(f"record-id file {path} does not exist") from None
    except UnicodeDecodeError:
        raise UnusableRecordIds(f"{path} is not UTF-8 text; save it as UTF-8") from None
    except OSError as error:
        raise UnusableRecordIds(f"cannot read {path}: {error.strerror or error}") from None
    lines = text.splitlines()
    header = [cell.strip().lower() for cell in next(csv.reader(lines[:1]), [])]
    column = header.index("record_id") if "record_id" in header else None
    rows = csv.reader(lines[1:]) if column is not None else ([line] for line in lines)
    first = 2 if column is not None else 1
    ids: list[str] = []
    for number, cells in enumerate(rows, start=first):
        if not any(cell.strip() for cell in cells):
            continue
        if column is not None and len(cells) <= column:
            raise UnusableRecordIds(f"{path} line {number}: no record_id column")
        value = cells[column if column is not None else 0].strip()
        if not value:
            continue
        if _CONTROL.search(value):
            raise UnusableRecordIds(f"{path} line {number}: control character in the record id")
        ids.append(value)
    distinct = list(dict.fromkeys(ids))
    if not distinct:
        raise UnusableRecordIds(f"{path} lists no record ids")
    return distinct


def write_withdrawal(
    *,
    source_type: str,
    agency_id: str,
    secret: bytes,
    key_id: str,
    record_ids: list[str],
    out_dir: Path,
    signing_key: AgencySigningKey,
) -> WrittenWithdrawal:
    """Write the withdrawal parquet and its manifest (manifest last, both atomic)."""
    if not is_agency_id(agency_id):
        raise UnusableRecordIds(f"--agency must be {AGENCY_ID_RULE}")
    encoder = encoder_for(secret)
    tokens = [encoder.record_token(agency_id, record_id) for record_id in record_ids]
    digest = hashlib.sha256(
        ("\n".join(sorted(tokens)) + "\x00" + key_id).encode("ascii")
    ).hexdigest()
    batch_id = f"{agency_id}-wd-{digest[:12]}"
    data = parquet_bytes(pa.table({"record_token": tokens}, schema=WITHDRAWAL_SCHEMA))
    manifest = {
        "batch_id": batch_id,
        "kind": WITHDRAWAL_KIND,
        "contract_version": CONTRACT_VERSION,
        "encoding_version": ENCODING_VERSION,
        "source_type": source_type,
        "agency_id": agency_id,
        "key_id": key_id,
        "row_count": len(tokens),
        "rejected_count": 0,
        "data_file": f"{batch_id}{WITHDRAWAL_SUFFIX}",
        "sha256": hashlib.sha256(data).hexdigest(),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    manifest = sign_manifest(manifest, signing_key)
    out_dir.mkdir(parents=True, exist_ok=True)
    data_path = out_dir / manifest["data_file"]
    manifest_path = out_dir / f"{batch_id}.manifest.json"
    _atomic_write(data_path, data)
    _atomic_write(manifest_path, (json.dumps(manifest, indent=2) + "\n").encode("ascii"))
    return WrittenWithdrawal(batch_id, data_path, manifest_path, len(tokens))


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(EXIT_UNUSABLE)


@click.command(
    name="withdrawal",
    epilog=(
        "Example: pahichan withdrawal --source-type shelter --agency shelter-07 "
        "--key /secure/pahichan.key --signing-key /secure/shelter-07.signing.pem "
        "--record-ids withdrawn.txt "
        "--out outbox/\n\n"
        "withdrawn.txt lists the local record ids (one per line, or a CSV with a record_id "
        "column) of every record of the person who withdrew consent. Use the same key and "
        "agency id as for the batches already sent. Afterwards delete or mark these "
        "records in your register so they are never exported again."
    ),
)
@click.option(
    "--source-type",
    type=click.Choice(SOURCE_TYPES),
    required=True,
    help="Kind of agency that sent the records.",
)
@click.option("--agency", "agency_id", required=True, help="Agency id, as in earlier batches.")
@click.option(
    "--key",
    "key_path",
    required=True,
    type=click.Path(path_type=Path),
    help="Linkage key file (the one used for the batches).",
)
@click.option(
    "--signing-key",
    "signing_key_path",
    required=True,
    type=click.Path(path_type=Path),
    help="This agency's signing key (`pahichan keys new-signing`).",
)
@click.option(
    "--record-ids",
    "ids_path",
    required=True,
    type=click.Path(path_type=Path),
    help="File of local record ids to withdraw.",
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Folder for the withdrawal batch (what is sent to the inbox).",
)
def withdrawal_batch(
    source_type: str,
    agency_id: str,
    key_path: Path,
    signing_key_path: Path,
    ids_path: Path,
    out_dir: Path,
) -> None:
    """Turn local record ids into a withdrawal batch: the warehouse erases those records.

    Only keyed record tokens are written, never the record ids. Exit codes: 0 written,
    2 unusable input (nothing written).
    """
    try:
        key = read_key(key_path)
        signing_key = read_signing_key(signing_key_path)
    except (KeyFileError, SigningKeyError) as error:
        _fail(str(error))
    try:
        record_ids = read_record_ids(ids_path)
        written = write_withdrawal(
            source_type=source_type,
            agency_id=agency_id,
            secret=key.secret,
            key_id=key.key_id,
            record_ids=record_ids,
            out_dir=out_dir,
            signing_key=signing_key,
        )
    except UnusableRecordIds as error:
        _fail(str(error))
    except OSError as error:
        _fail(f"cannot write output: {error.strerror or error} ({error.filename})")
    click.echo(
        f"Withdrawal {written.batch_id}: {written.row_count} record(s) -> {written.data}; "
        "put both files in the inbox and stop exporting these records"
    )
