"""`pahichan keys ...` and `pahichan pseudonymise`: the agency-side commands.

Bad input is reported as one clear message and an exit code (0 all rows encoded, 3 some
rows rejected, 2 unusable input); never a traceback, and never a clear value from the
export on screen: rejects name the row, column and record_id only.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click
from rich.console import Console

from linkage.encoding.keys import KeyFileError, new_secret, read_key, write_key
from linkage.encoding.signing import (
    SigningKeyError,
    read_signing_key,
    write_signing_key,
)
from schemas.vocabularies import SOURCE_TYPES

EXIT_OK = 0
EXIT_UNUSABLE = 2
EXIT_REJECTS = 3

logger = logging.getLogger(__name__)


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(EXIT_UNUSABLE)


@click.group(
    epilog="Example: pahichan keys new --out ~/pahichan.key && pahichan keys id --key "
    "~/pahichan.key"
)
def keys() -> None:
    """Create a linkage secret or an agency signing key, or print a key id.

    All agencies of the network share one linkage secret, handed over out of band (never by
    e-mail and never through the inbox). Each agency also has its own signing key. Key ids
    are fingerprints: safe to print and compare.
    """


@keys.command("new")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(path_type=Path),
    help="Key file to create (must not exist; written with mode 0600).",
)
def keys_new(out: Path) -> None:
    """Create a new 32-byte linkage secret in a key file and print its key id.

    Example: pahichan keys new --out /secure/pahichan.key
    """
    try:
        key_id = write_key(out, new_secret())
    except FileExistsError:
        _fail(f"{out} already exists; a key is never overwritten. Choose another path.")
    except OSError as error:
        _fail(f"cannot create {out}: {error.strerror or error}")
    click.echo(f"Created key {key_id} in {out} (mode 0600). Keep it off the inbox.")


@keys.command("id")
@click.option(
    "--key",
    "key_path",
    required=True,
    type=click.Path(path_type=Path),
    help="Key file written by `pahichan keys new`.",
)
def keys_id(key_path: Path) -> None:
    """Print the public key id of a key file (compare it across agencies).

    Example: pahichan keys id --key /secure/pahichan.key
    """
    try:
        key = read_key(key_path)
    except KeyFileError as error:
        _fail(str(error))
    click.echo(key.key_id)


@keys.command("new-signing")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(path_type=Path),
    help="Signing key file to create (must not exist; mode 0600).",
)
def keys_new_signing(out: Path) -> None:
    """Create this agency's own signing key and its public half (.pub.pem beside it).

    Every manifest the agency sends is signed with it, so no one else can send batches or
    withdrawals in the agency's name. Keep the key file on the agency's machine; give the
    .pub.pem file to the data office, who registers it with `pahichan agency-key register`
    (confirm the printed key id with them by phone).

    Example: pahichan keys new-signing --out /secure/shelter-07.signing.pem
    """
    try:
        key_id, public_path = write_signing_key(out)
    except FileExistsError as error:
        _fail(f"{error.filename or out} already exists; a key is never overwritten.")
    except OSError as error:
        _fail(f"cannot create {out}: {error.strerror or error}")
    click.echo(
        f"Created signing key {key_id} in {out} (mode 0600). Give {public_path} to the data "
        "office and read them this key id."
    )


@click.command(
    epilog=(
        "Example: pahichan pseudonymise --source-type shelter --agency shelter-07 "
        "--key /secure/pahichan.key --signing-key /secure/shelter-07.signing.pem "
        "--in exports/2024-05.csv --out outbox/ --calendar bs\n\n"
        "The export must be a UTF-8 CSV (Excel: 'CSV UTF-8'); rows with non-UTF-8 bytes, "
        "bad dates, unknown districts, no name, duplicate record_id or absurd ages are "
        "listed in the rejects file and the other rows are still encoded. Rows whose "
        "consent_scope is services_only are withheld (never sent; counted in the manifest "
        "and listed in the rejects file as withheld, not as errors). Exit codes: "
        "0 all rows encoded, 3 some rows rejected, 2 unusable input (nothing written)."
    )
)
@click.option(
    "--source-type",
    type=click.Choice(SOURCE_TYPES),
    required=True,
    help="Kind of agency that made the export.",
)
@click.option(
    "--agency",
    "agency_id",
    required=True,
    help="Agency id (letters, digits, '-', '_'), as registered with the warehouse.",
)
@click.option(
    "--key", "key_path", required=True, type=click.Path(path_type=Path), help="Linkage key file."
)
@click.option(
    "--signing-key",
    "signing_key_path",
    required=True,
    type=click.Path(path_type=Path),
    help="This agency's signing key (`pahichan keys new-signing`); signs the manifest.",
)
@click.option(
    "--in",
    "input_path",
    required=True,
    type=click.Path(path_type=Path),
    help="The clear export (CSV, UTF-8).",
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Folder for <batch_id>.parquet + .manifest.json (what is sent).",
)
@click.option(
    "--mapping",
    "mapping_path",
    type=click.Path(path_type=Path),
    help="YAML mapping of the export's headers to the contract's columns.",
)
@click.option(
    "--calendar",
    type=click.Choice(["ad", "bs"]),
    default="ad",
    show_default=True,
    help="Calendar of date_of_birth and contact_date (bs: Bikram Sambat).",
)
@click.option(
    "--crosswalk-dir",
    type=click.Path(path_type=Path),
    help="Where the crosswalk and rejects stay (default: crosswalk/ next to --in).",
)
def pseudonymise(
    source_type: str,
    agency_id: str,
    key_path: Path,
    signing_key_path: Path,
    input_path: Path,
    out_dir: Path,
    mapping_path: Path | None,
    calendar: str,
    crosswalk_dir: Path | None,
) -> None:
    """Turn a clear agency export into an encoded batch and its manifest.

    Names become hardened Bloom filters, identifiers and the ward keyed tokens; birth date
    and every clear identifier stay behind. The crosswalk (record_id -> record_token) and the
    rejects list are kept in --crosswalk-dir, never in --out.
    """
    from linkage.encoding.batch import UnusableInput, pseudonymise_file

    try:
        key = read_key(key_path)
        signing_key = read_signing_key(signing_key_path)
    except (KeyFileError, SigningKeyError) as error:
        _fail(f"{error}")
    console = Console(stderr=True)
    try:
        with console.status(f"Encoding {input_path.name} ..."):
            written = pseudonymise_file(
                source_type=source_type,
                agency_id=agency_id,
                secret=key.secret,
                key_id=key.key_id,
                input_path=input_path,
                out_dir=out_dir,
                crosswalk_dir=crosswalk_dir,
                mapping_path=mapping_path,
                calendar=calendar,
                signing_key=signing_key,
            )
    except UnusableInput as error:
        _fail(str(error))
    except OSError as error:
        _fail(f"cannot write output: {error.strerror or error} ({error.filename})")
    click.echo(
        f"Batch {written.batch_id}: {written.row_count} rows encoded, "
        f"{written.rejected_count} rows rejected"
        + (
            f", {written.withheld_count} rows withheld (consent_scope services_only; they stay "
            "here)"
            if written.withheld_count
            else ""
        )
        + f" -> {written.parquet}"
        + (f"; fix the rows listed in {written.rejects}" if written.rejected_count else "")
    )
    sys.exit(EXIT_REJECTS if written.rejected_count else EXIT_OK)
