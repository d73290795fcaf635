"""`pahichan withdraw`: a data officer erases records after a survivor withdrew consent.

Used when the request reaches the data office directly (the agency-side route is a
withdrawal batch, `pahichan withdrawal`, applied by `pahichan run`). The officer gets the
record token(s) from the agency (the agency's crosswalk maps its record id to the token).

Steps: rewrite every inbox batch holding the records without them (`ingest.redactions`,
so a warehouse rebuilt from the inbox cannot bring them back; done first, so a crash
leaves the records in the warehouse, where a re-run finds and erases them), erase every row
naming the tokens (`pipelines.erasure.erase_records`; linkage is
re-clustered with the stable-ID rules) and append the audit row in the same transaction (who,
when, a reference, counts and a reason category: never the token). The reader files are not
re-published here: an erasure published on its own would show as "one person fewer" between
two files, so it is folded into the next scheduled publication (`pahichan run` or the
nightly job, which rebuilds core and marts and protects the difference against the files
already published). The reference printed at the end is what the officer files with the
paper request; the token itself is not kept anywhere.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import click
import duckdb

from pipelines.commands.options import warehouse_options
from pipelines.resources import resources_from_env

if TYPE_CHECKING:
    from pipelines.defs.ingest.redactions import RedactionSummary
    from pipelines.erasure import ErasureResult

logger = logging.getLogger(__name__)

REASONS = ("survivor_request", "guardian_request", "agency_request", "legal_order", "data_error")


@click.command(
    name="withdraw",
    epilog=(
        "Example: pahichan withdraw --record-token 0123456789abcdef0123456789abcdef "
        "--by asha --reason survivor_request --warehouse-key /secure/warehouse.key"
    ),
)
@click.option(
    "--record-token",
    "record_tokens",
    multiple=True,
    required=True,
    callback=lambda ctx, param, value: _checked_tokens(value),
    help="Record token to erase (32 hex, from the agency's crosswalk); repeatable.",
)
@warehouse_options(must_exist=True)
@click.option(
    "--inbox",
    envvar="PAHICHAN_INBOX",
    show_envvar=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Inbox folder: the records are removed from its batches too.",
)
@click.option("--by", "actor", required=True, help="The data officer doing this (audited).")
@click.option(
    "--reason",
    type=click.Choice(REASONS),
    default="survivor_request",
    show_default=True,
    help="Reason category (audited; no free text, so no identity can slip in).",
)
def withdraw(
    record_tokens: list[str],
    warehouse: Path | None,
    inbox: Path | None,
    warehouse_key: Path | None,
    actor: str,
    reason: str,
) -> None:
    """Erase records everywhere after consent withdrawal (warehouse and inbox batches).

    The erasure is final: nothing that names the records is kept, not even their tokens.
    The reader files follow at the next scheduled publication, never on their own.
    """
    from rich.console import Console

    from pipelines.commands.warehouse_key import clear_warehouse_errors
    from pipelines.defs.ingest.redactions import batches_holding, redact_inbox
    from pipelines.erasure import ErasureIncomplete, tokens_present

    tokens = record_tokens
    resources = resources_from_env(
        inbox=str(inbox) if inbox else None,
        warehouse=str(warehouse) if warehouse else None,
        warehouse_key_file=str(warehouse_key) if warehouse_key else None,
    )
    store = resources["warehouse"]
    inbox_root = resources["inbox"].root
    if not inbox_root.is_dir():
        raise click.ClickException(
            f"inbox folder {inbox_root} does not exist: pass --inbox (the records must be "
            "removed from the inbox batches too, or a rebuild would bring them back); "
            "nothing was changed"
        )
    reference = f"wd-{uuid.uuid4().hex[:12]}"
    console = Console(stderr=True)
    try:
        with (
            clear_warehouse_errors(store.path, must_exist=True),
            store.hold("pahichan withdraw"),
            store.connect() as con,
        ):
            in_inbox = batches_holding(inbox_root, set(tokens))
            if not tokens_present(con, tokens) and not in_inbox:
                raise click.ClickException(
                    "none of the given record tokens is in the warehouse or the inbox "
                    "(already erased, never sent, or a typo); nothing was changed"
                )
            key = store.redaction_key(create=True)
            assert key is not None  # create=True always gives one
            with console.status("Removing the records from the inbox batches ..."):
                redaction = redact_inbox(con, inbox_root, tokens, key, reference=reference)
            with console.status("Erasing records and re-clustering ..."):
                erasure = _erase(
                    con,
                    tokens,
                    actor=actor,
                    reason=reason,
                    reference=reference,
                    redaction=redaction,
                )
    except ErasureIncomplete as error:
        raise click.ClickException(str(error)) from error
    line = (
        f"Withdrawal {reference}: {erasure.records_erased} record(s) erased "
        f"({erasure.total_rows_deleted} rows deleted, {erasure.tokens_not_found} not found; "
        f"{redaction.rows_removed} row(s) removed from {redaction.batches_rewritten} inbox "
        "batch(es))"
    )
    click.echo(
        line + "; the reader files change at the next scheduled publication "
        "(`pahichan run` or the nightly job)"
    )


def _checked_tokens(record_tokens: tuple[str, ...]) -> list[str]:
    """The tokens as given, normalised; refused while parsing, before the warehouse is
    opened (a name typed in place of a token is a usage error, whatever the key)."""
    from pipelines.erasure import check_record_tokens

    try:
        return check_record_tokens(token.strip().lower() for token in record_tokens)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--record-token") from error


def _erase(
    con: duckdb.DuckDBPyConnection,
    tokens: list[str],
    *,
    actor: str,
    reason: str,
    reference: str,
    redaction: RedactionSummary,
) -> ErasureResult:
    from pipelines.audit import append_event
    from pipelines.defs.ingest.warehouse import ensure_ingest_schema
    from pipelines.erasure import erase_records

    ensure_ingest_schema(con)

    def audit(connection: duckdb.DuckDBPyConnection, result: ErasureResult) -> None:
        append_event(
            connection,
            actor=actor,
            action="withdrawal",
            object_name=reference,
            detail={
                "route": "data_officer",
                "reason": reason,
                "tokens_requested": result.tokens_requested,
                "records_erased": result.records_erased,
                "tokens_not_found": result.tokens_not_found,
                "rows_deleted": result.total_rows_deleted,
                "survivor_id_events": result.survivor_id_events,
                "inbox_batches_rewritten": redaction.batches_rewritten,
                "inbox_rows_removed": redaction.rows_removed,
            },
        )

    return erase_records(con, tokens, run_id=f"withdraw-{reference}", on_commit=audit)
