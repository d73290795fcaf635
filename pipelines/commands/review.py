"""`pahichan review`: list linkage pairs awaiting review, or record a reviewer's decision.

The list never shows record tokens or encodings: a pair is named by its review id
(`R-...`), and described by agreement levels and coarse attributes of both records.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from pipelines.commands.options import warehouse_options
from pipelines.resources import resources_from_env


@click.command(
    name="review",
    epilog=(
        "Example: pahichan review --limit 20; "
        "pahichan review --pair R-1a2b3c4d5e6f --decision cannot_link --by asha"
    ),
)
@warehouse_options(must_exist=True)
@click.option("--limit", default=20, show_default=True, help="Pairs to list, strongest first.")
@click.option("--pair", "pair_id", help="Review id of the pair to decide (from the list).")
@click.option(
    "--decision",
    type=click.Choice(["must_link", "cannot_link"]),
    help="Decision for --pair; applied by the next run.",
)
@click.option("--by", "decided_by", help="Who decided (recorded with the decision).")
@click.option("--note", help="Optional note stored with the decision.")
def review(
    warehouse: Path | None,
    warehouse_key: Path | None,
    limit: int,
    pair_id: str | None,
    decision: str | None,
    decided_by: str | None,
    note: str | None,
) -> None:
    """List pairs awaiting review, or record a must-link / cannot-link decision on one."""
    from linkage.matching import latest_model, record_review_decision, review_queue
    from linkage.matching.review import resolve_review_id
    from pipelines.audit import append_event
    from pipelines.commands.warehouse_key import clear_warehouse_errors

    resources = resources_from_env(
        warehouse=str(warehouse) if warehouse else None,
        warehouse_key_file=str(warehouse_key) if warehouse_key else None,
    )
    store = resources["warehouse"]
    if pair_id and not (decision and decided_by):
        raise click.UsageError("--pair needs --decision and --by")
    with clear_warehouse_errors(store.path, must_exist=True), store.connect() as con:
        if pair_id:
            try:
                left, right = resolve_review_id(con, pair_id)
                record_review_decision(
                    con, left, right, decision or "", decided_by=decided_by or "", note=note
                )
                # Audited by review id and decision only: never the pair's tokens (the
                # note stays in linkage.review_decisions, in the restricted store).
                append_event(
                    con,
                    actor=decided_by or "",
                    action="review_decision",
                    object_name=pair_id,
                    detail={"decision": decision, "has_note": bool(note)},
                )
            except ValueError as error:
                raise click.ClickException(str(error)) from error
            click.echo(f"Recorded {decision} for {pair_id}; the next run applies it.")
            return
        model = latest_model(con)
        if model is None:
            raise click.ClickException("no linkage model yet: nothing has been linked")
        queue = review_queue(con, model, limit=limit)
    _print_queue(queue)
    click.echo(f"{len(queue)} pair(s) awaiting review")


def _print_queue(queue: object) -> None:
    """One block per pair: id and weight, then each field's agreement level and weight."""
    columns = [c for c in queue.columns if not c.endswith(("_token", "_bf", "_key"))]  # type: ignore[attr-defined]
    for record in queue[columns].to_dict("records"):  # type: ignore[index]
        click.echo(
            f"{record['review_id']}  match weight {record['match_weight']} "
            f"(probability {record['match_probability']})"
        )
        for column in columns:
            if column.endswith("_level"):
                field = column.removesuffix("_level")
                click.echo(f"    {field}: {record[column]} ({record.get(field + '_weight')})")
            elif column.endswith("_l"):
                field = column.removesuffix("_l")
                click.echo(f"    {field}: {record[column]} | {record.get(field + '_r')}")


# --- Agency review round trip (issue 18) ----------------------------------------------------


@click.command(
    name="review-requests",
    epilog=(
        "Example: pahichan review-requests --out review-requests/  (then give each agency "
        "its <agency>.review-request.json; it answers with `pahichan review-decide`)"
    ),
)
@warehouse_options(must_exist=True)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for one <agency>.review-request.json per agency.",
)
def review_requests(warehouse: Path | None, warehouse_key: Path | None, out_dir: Path) -> None:
    """Write, per agency, the queued pairs whose two records that agency sent.

    A file holds review ids and the agency's own record tokens only (no scores, no other
    agency's data). Cross-agency pairs stay in `pahichan review`.
    """
    from linkage.matching.agency_review import write_review_requests
    from pipelines.audit import append_event
    from pipelines.commands.warehouse_key import clear_warehouse_errors

    resources = resources_from_env(
        warehouse=str(warehouse) if warehouse else None,
        warehouse_key_file=str(warehouse_key) if warehouse_key else None,
    )
    store = resources["warehouse"]
    with clear_warehouse_errors(store.path, must_exist=True), store.connect() as con:
        written = write_review_requests(con, out_dir)
        for agency, path in written.items():
            pairs = len(json.loads(path.read_text(encoding="utf-8"))["pairs"])
            append_event(
                con,
                actor="data-office",
                action="review_requests",
                object_name=agency,
                detail={"pairs": pairs},
            )
            click.echo(f"{agency}: {pairs} pair(s) -> {path}")
    if not written:
        click.echo("No queued pair has both records from one agency.")


@click.command(
    name="review-import",
    epilog="Example: pahichan review-import --agency shelter-07 --file shelter-07.decisions.json",
)
@warehouse_options(must_exist=True)
@click.option("--agency", "agency_id", required=True, help="The agency that signed the file.")
@click.option(
    "--file",
    "decision_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The signed decision file from `pahichan review-decide`.",
)
def review_import(
    warehouse: Path | None, warehouse_key: Path | None, agency_id: str, decision_path: Path
) -> None:
    """Verify an agency's signed review decisions and store them; the next run applies them.

    Refused whole when the agency's registered signing key does not verify it, or when a
    pair is not two records of that agency.
    """
    from linkage.matching.agency_review import apply_review_decisions
    from pipelines.audit import append_event
    from pipelines.commands.warehouse_key import clear_warehouse_errors
    from pipelines.defs.ingest.agency_keys import active_agency_keys

    resources = resources_from_env(
        warehouse=str(warehouse) if warehouse else None,
        warehouse_key_file=str(warehouse_key) if warehouse_key else None,
    )
    store = resources["warehouse"]
    with clear_warehouse_errors(store.path, must_exist=True), store.connect() as con:
        registered = active_agency_keys(con).get(agency_id)
        if registered is None:
            raise click.ClickException(f"no signing key is registered for agency {agency_id}")
        try:
            stored = apply_review_decisions(con, decision_path, agency_id, registered.public_key)
        except (ValueError, KeyError, json.JSONDecodeError) as error:
            raise click.ClickException(str(error)) from error
        append_event(
            con,
            actor=f"agency:{agency_id}",
            action="review_import",
            object_name=agency_id,
            detail={"decisions": stored},
        )
    click.echo(f"Stored {stored} decision(s) of {agency_id}; the next run applies them.")
