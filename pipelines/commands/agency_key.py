"""`pahichan agency-key`: the data office registers and lists agencies' signing keys.

An agency creates its signing key with `pahichan keys new-signing` and hands over the public
half (`.pub.pem`). The data office confirms the printed key id with the agency by phone and
registers it with the source types the agency sends (`--source-type`, once per type); from
then on the warehouse accepts only batches and withdrawals whose manifest that key signed,
filed under one of those source types (`pipelines.defs.ingest.agency_keys`). Registering a
new key for an agency retires the old one; both events are audited. A key registered before
source types were recorded may send nothing until it is registered again with them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import duckdb

from pipelines.commands.options import warehouse_options
from pipelines.defs.ingest.inbox import SOURCE_TYPES
from pipelines.resources import resources_from_env


@click.group(
    name="agency-key",
    epilog=(
        "Example: pahichan agency-key register --agency shelter-07 --source-type shelter "
        "--public-key shelter-07.signing.pub.pem --by asha"
    ),
)
def agency_key() -> None:
    """Register or list the agencies' signing keys (public halves only)."""


@agency_key.command("register")
@click.option("--agency", "agency_id", required=True, help="Agency id, as in its inbox folder.")
@click.option(
    "--public-key",
    "public_key_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The .pub.pem file the agency handed over.",
)
@click.option(
    "--source-type",
    "source_types",
    required=True,
    multiple=True,
    type=click.Choice(SOURCE_TYPES),
    help="A kind of record the agency sends; repeat for each (batches filed under "
    "any other source type are refused).",
)
@click.option("--by", "actor", required=True, help="The data officer registering it (audited).")
@warehouse_options(must_exist=False)  # keys are registered before the first run
def register(
    agency_id: str,
    public_key_path: Path,
    source_types: tuple[str, ...],
    actor: str,
    warehouse: Path | None,
    warehouse_key: Path | None,
) -> None:
    """Make a public key the agency's signing key for its source types (retires its previous
    key; registering the same key again with other source types replaces them).

    Confirm the printed key id with the agency before relying on it.
    """
    from linkage.encoding.batch import AGENCY_ID_RULE, is_agency_id
    from linkage.encoding.signing import SigningKeyError, read_public_key
    from pipelines.defs.ingest.agency_keys import register_agency_key

    if not is_agency_id(agency_id):
        raise click.BadParameter(
            f"{agency_id!r} is not an agency id: {AGENCY_ID_RULE} (no spaces, line breaks or "
            "look-alike letters)",
            param_hint="--agency",
        )
    try:
        public_key = read_public_key(public_key_path)
    except SigningKeyError as error:
        raise click.ClickException(str(error)) from error
    with _warehouse(warehouse, warehouse_key) as con:
        done = register_agency_key(
            con,
            agency_id=agency_id,
            public_key=public_key,
            registered_by=actor,
            source_types=source_types,
        )
    types = ", ".join(done.source_types)
    if done.already_active:
        click.echo(
            f"{agency_id}: {done.signing_key_id} is already its signing key for {types}; no change"
        )
    elif done.replaced:
        click.echo(
            f"{agency_id}: signing key {done.signing_key_id} registered for {types}; "
            f"{done.replaced} retired (batches signed with it are now refused)"
        )
    else:
        click.echo(f"{agency_id}: signing key {done.signing_key_id} registered for {types}")


@agency_key.command("list")
@warehouse_options(must_exist=False)  # keys are registered before the first run
def list_keys(warehouse: Path | None, warehouse_key: Path | None) -> None:
    """Every registered signing key, active ones first."""
    from pipelines.defs.ingest.warehouse import ensure_ingest_schema

    with _warehouse(warehouse, warehouse_key) as con:
        ensure_ingest_schema(con)
        rows = con.execute(
            "SELECT agency_id, signing_key_id, registered_by, registered_at, retired_at, "
            "source_types FROM ops.agency_keys "
            "ORDER BY retired_at IS NOT NULL, agency_id, registered_at"
        ).fetchall()
    if not rows:
        click.echo("No signing keys registered: every batch is refused until one is.")
    for agency, key_id, by, registered_at, retired_at, types in rows:
        state = f"retired {retired_at:%Y-%m-%d}" if retired_at else "active"
        sends = ",".join(types) if types else "(no source types: register again)"
        click.echo(
            f"{agency}\t{key_id}\t{state}\tregistered {registered_at:%Y-%m-%d} by {by}\t{sends}"
        )


@contextmanager
def _warehouse(
    warehouse: Path | None, warehouse_key: Path | None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse of the flags/environment, with open errors turned into clear ones."""
    from pipelines.commands.warehouse_key import clear_warehouse_errors

    store = resources_from_env(
        warehouse=str(warehouse) if warehouse else None,
        warehouse_key_file=str(warehouse_key) if warehouse_key else None,
    )["warehouse"]
    with clear_warehouse_errors(store.path), store.connect() as con:
        yield con
