"""`pahichan warehouse-key`: create the key that encrypts the restricted warehouse at rest.

This is NOT the linkage secret (`pahichan keys new`): the linkage secret stays with the
agencies and the warehouse never holds it; the warehouse key stays with the data office and
no agency ever needs it. Losing it makes the warehouse unreadable (re-load from the agencies'
batches); keep a copy in the data office's safe, off the warehouse machine's backups.

Also holds the one place that turns "cannot open the warehouse" errors into clear messages
for the warehouse commands (`run`, `withdraw`, `agency-key`, `export`).
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


@contextmanager
def clear_warehouse_errors(warehouse: str) -> Iterator[None]:
    """Inside: a wrong or missing warehouse key or a failed open becomes one clear
    ClickException (no traceback); any other error passes through."""
    from pipelines.resources import WarehouseKeyError

    try:
        yield
    except WarehouseKeyError as error:
        raise click.ClickException(str(error)) from error
    except duckdb.Error as error:
        message = open_error_message(error, warehouse)
        if message is None:
            raise
        raise click.ClickException(message) from error


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
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Key file to create (must not exist; mode 0600).")  # fmt: skip
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
