"""`pahichan warehouse-key`: create the key that encrypts the restricted warehouse at rest.

This is NOT the linkage secret (`pahichan keys new`): the linkage secret stays with the
agencies and the warehouse never holds it; the warehouse key stays with the data office and
no agency ever needs it. Losing it makes the warehouse unreadable (re-load from the agencies'
batches); keep a copy in the data office's safe, off the warehouse machine's backups.

Also holds the one place that turns "cannot open the warehouse" errors into one clear line
and exit code 2 for every warehouse command (`clear_warehouse_errors`, `check_warehouse`;
the shared `--warehouse`/`--warehouse-key` options in `pipelines.commands.options` call it
before a command runs).
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import duckdb

KEY_BYTES = 32


def write_warehouse_key(path: Path) -> None:
    """Create `path` (mode 0600, never overwriting) holding 32 random bytes as hex."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(descriptor, 0o600)
        os.write(descriptor, (secrets.token_hex(KEY_BYTES) + "\n").encode("ascii"))
    finally:
        os.close(descriptor)


class WarehouseUnavailable(click.ClickException):
    """The warehouse cannot be opened (no file, no key, wrong key, locked): one line on
    stderr and exit code 2, like a usage error, since the fix is in how it was called."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        # DuckDB messages can span lines; the operator gets one.
        super().__init__(" ".join(message.split()))


@contextmanager
def clear_warehouse_errors(warehouse: str, *, must_exist: bool = False) -> Iterator[None]:
    """Inside: a missing warehouse file (when `must_exist`), a wrong or missing warehouse key
    or a failed open becomes `WarehouseUnavailable` (one line, exit 2, no traceback); any
    other error passes through."""
    from pipelines.resources import WarehouseKeyError

    if must_exist and not Path(warehouse).is_file():
        raise WarehouseUnavailable(
            f"no warehouse at {warehouse}: run `pahichan run` first, or pass --warehouse FILE "
            "(or set PAHICHAN_WAREHOUSE)"
        )
    try:
        yield
    except WarehouseKeyError as error:
        raise WarehouseUnavailable(str(error)) from None
    except duckdb.Error as error:
        message = open_error_message(error, warehouse)
        if message is None:
            raise
        raise WarehouseUnavailable(message) from None


def check_warehouse(
    warehouse: Path | None, warehouse_key: Path | None, *, must_exist: bool
) -> None:
    """Open the warehouse of these flags (or the `PAHICHAN_*` variables) once and close it,
    so that a missing file, key or wrong key stops the command before it starts work (a
    Dagster job would otherwise report it as a failed step). A warehouse that does not exist
    yet is left for the command to create unless `must_exist`."""
    from pipelines.resources import DUCKDB_OFFLINE_CONFIG, resources_from_env

    store = resources_from_env(
        warehouse=str(warehouse) if warehouse else None,
        warehouse_key_file=str(warehouse_key) if warehouse_key else None,
    )["warehouse"]
    with clear_warehouse_errors(store.path, must_exist=must_exist):
        if not Path(store.path).is_file():
            return
        if store.key_file:
            with store.connect():
                pass
        else:
            # Read-only: a plain file is only looked at here (export never writes it).
            duckdb.connect(store.path, read_only=True, config=DUCKDB_OFFLINE_CONFIG).close()


def open_error_message(error: duckdb.Error, warehouse: str) -> str | None:
    """A clear message for a DuckDB error raised while opening the warehouse, else None."""
    text = str(error)
    if "without a key" in text or "encrypted database" in text.lower():
        return (
            f"the warehouse {warehouse} is encrypted: pass --warehouse-key FILE (or set "
            "PAHICHAN_WAREHOUSE_KEY_FILE) with the data office's warehouse key"
        )
    if isinstance(error, duckdb.IOException):
        return (
            f"cannot open the warehouse {warehouse}: {error} (is another process, e.g. "
            "Dagster, writing it? one writer at a time)"
        )
    return None


@click.command(
    name="warehouse-key",
    epilog="Example: pahichan warehouse-key --out /secure/warehouse.key && "
    "pahichan run --warehouse-key /secure/warehouse.key",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Key file to create (must not exist; mode 0600).",
)
def warehouse_key(out: Path) -> None:
    """Create the key that encrypts the restricted warehouse file (AES-GCM) at rest.

    A different key from the agencies' linkage secret: it stays in the data office.
    """
    try:
        write_warehouse_key(out)
    except FileExistsError:
        click.echo(f"Error: {out} already exists; a key is never overwritten.", err=True)
        sys.exit(2)
    except OSError as error:
        click.echo(f"Error: cannot create {out}: {error.strerror or error}", err=True)
        sys.exit(2)
    click.echo(f"Created warehouse key {out} (mode 0600). Keep a copy in the data office safe.")


if __name__ == "__main__":
    warehouse_key()
