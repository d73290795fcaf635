"""`pahichan run`: process every pending inbox batch in this process, then link and publish.

The same code paths as Dagster: each pending batch is one run of its `ingest_<source>_batch`
job (partition = batch_id), then one run of `rebuild_and_publish` (withdrawals, linkage,
core, marts, publish), all with `execute_in_process` on an ephemeral Dagster instance. The ephemeral
instance keeps run history in memory only and never writes telemetry; the warehouse
(`ops.batches`, `ops.runs`) is the record of what was done. "Pending" means a batch file
(inbox path + content hash) that `ops.batches` has not seen, so a second run with nothing new
changes nothing.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import duckdb

from pipelines.audit import PIPELINE_ACTOR
from pipelines.commands.options import (
    inbox_option,
    key_id_option,
    publish_dir_option,
    warehouse_options,
)
from pipelines.resources import WarehouseKeyError, WarehouseResource, resources_from_env

_QUIET_DAGSTER = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dataclass
class RunSummary:
    """What one `pahichan run` did."""

    run_id: str
    batches_accepted: int = 0
    batches_rejected: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (inbox path, reason)
    linkage: dict[str, Any] = field(default_factory=dict)
    failed_steps: list[str] = field(default_factory=list)
    withdrawals_applied: int = 0
    withdrawals_rejected: int = 0
    records_erased: int = 0
    published: bool = False
    up_to_date: bool = False

    def line(self) -> str:
        if self.up_to_date:
            return "Nothing new since the last publication: nothing loaded, nothing republished"
        survivors = (
            f"; survivors: {self.linkage.get('survivor_ids_minted', 0)} new ids, "
            f"{self.linkage.get('id_updates', 0)} id updates"
            if self.linkage
            else ""
        )
        withdrawals = (
            f"; withdrawals: {self.withdrawals_applied} applied ({self.records_erased} records "
            f"erased), {self.withdrawals_rejected} rejected"
            if self.withdrawals_applied or self.withdrawals_rejected
            else ""
        )
        return (
            f"{self.batches_accepted} batches accepted, {self.batches_rejected} rejected; "
            f"{self.rows_loaded} rows loaded, {self.rows_quarantined} quarantined{survivors}"
            f"{withdrawals}"
        )


# Audited actions after which the reader files no longer show the warehouse as it is.
# review_import: an agency's signed review decisions (issue 18), applied by the next run.
CHANGING_ACTIONS = (
    "batch_received",
    "withdrawal",
    "review_decision",
    "review_import",
    "key_id_pinned",
)


def publication_is_current(
    warehouse: WarehouseResource, inbox_root: Path, publish_dir: Path
) -> bool:
    """True when nothing waits to be processed and nothing changed since the last
    publication: no pending withdrawal file, no accepted batch left unlinked, no audited
    change after the last `publication` event, and both reader files in place. The audit
    log is append-only and ordered by event id, so no clock comparison is involved."""
    from pipelines.audit import ensure_audit_schema
    from pipelines.defs.ingest.withdrawals import pending_withdrawals
    from pipelines.defs.publish.build import ANALYST_FILE, PUBLIC_FILE

    if not all((publish_dir / name).is_file() for name in (PUBLIC_FILE, ANALYST_FILE)):
        return False
    with warehouse.connect() as con:
        ensure_audit_schema(con)
        if pending_withdrawals(con, inbox_root):
            return False
        unlinked = con.execute(
            "SELECT count(*) FROM ops.batches WHERE status = 'accepted' AND linked_at IS NULL"
        ).fetchone()[0]
        last_publication, last_change = con.execute(
            "SELECT max(event_id) FILTER (WHERE action = 'publication'), "
            "max(event_id) FILTER (WHERE list_contains(?, action)) FROM ops.audit_log",
            [list(CHANGING_ACTIONS)],
        ).fetchone()
    return (
        unlinked == 0
        and last_publication is not None
        and (last_change is None or last_change < last_publication)
    )


def _has_model(warehouse: WarehouseResource) -> bool:
    from linkage import matching

    with warehouse.connect() as con:
        return matching.latest_model(con) is not None


def pending_batches(inbox_root: Path, warehouse: WarehouseResource) -> list[Any]:
    """Complete inbox batches whose file (path + content) the warehouse has not processed."""
    from pipelines.defs.ingest.inbox import file_sha256, find_batches
    from pipelines.defs.ingest.redactions import reconcile_receipts
    from pipelines.defs.ingest.warehouse import ensure_ingest_schema

    with warehouse.connect() as con:
        ensure_ingest_schema(con)
        # A crash right after the warehouse rewrote a batch (erasure) may have left its
        # receipt on the old hash: repair it, or the rewritten file would look new.
        reconcile_receipts(con, inbox_root, warehouse.redaction_key())
        seen = set(con.execute("SELECT inbox_path, sha256 FROM ops.batches").fetchall())
    return [
        files
        for files in find_batches(inbox_root)
        if (files.inbox_path, file_sha256(files.data_path)) not in seen
    ]


def _record_run(
    warehouse: WarehouseResource, summary: RunSummary, status: str, actor: str = PIPELINE_ACTOR
) -> None:
    from pipelines.audit import append_event
    from pipelines.defs.ingest.warehouse import ensure_ingest_schema, utc_now

    with warehouse.connect() as con:
        ensure_ingest_schema(con)
        if status == "running":
            con.execute(
                "INSERT INTO ops.runs (run_id, mode, started_at, status) VALUES (?, 'cli', ?, ?)",
                [summary.run_id, utc_now(), status],
            )
            return
        con.execute("BEGIN TRANSACTION")
        con.execute(
            """
            UPDATE ops.runs SET finished_at = ?, status = ?, batches_accepted = ?,
                batches_rejected = ?, rows_loaded = ?, rows_quarantined = ?, note = ?
            WHERE run_id = ?
            """,
            [
                utc_now(),
                status,
                summary.batches_accepted,
                summary.batches_rejected,
                summary.rows_loaded,
                summary.rows_quarantined,
                "; ".join(summary.failed_steps) or None,
                summary.run_id,
            ],
        )
        # The run's audit row commits with its final status (counts only, no identities).
        append_event(
            con,
            actor=actor,
            action="run",
            object_name=summary.run_id,
            detail={
                "status": status,
                "batches_accepted": summary.batches_accepted,
                "batches_rejected": summary.batches_rejected,
                "rows_loaded": summary.rows_loaded,
                "rows_quarantined": summary.rows_quarantined,
                "withdrawals_applied": summary.withdrawals_applied,
                "withdrawals_rejected": summary.withdrawals_rejected,
                "records_erased": summary.records_erased,
                "published": summary.published,
                "failed_steps": summary.failed_steps,
            },
        )
        con.execute("COMMIT")


def _metadata(result: Any, key: list[str]) -> dict[str, Any]:
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        if list(materialization.asset_key.path) == key:
            return {name: value.value for name, value in materialization.metadata.items()}
    return {}


def rebuild_and_publish(
    definitions: Any,
    instance: Any,
    summary: RunSummary,
    *,
    run_config: Mapping[str, Any],
    actor: str = PIPELINE_ACTOR,
) -> bool:
    """Run the `rebuild_and_publish` job in process (withdrawals, link, core, marts, both
    reader files); the publication is audited under `actor`. Failures go to
    `summary.failed_steps`."""
    from pipelines.defs.publish.assets import ACTOR_TAG, RUN_ID_TAG

    result = definitions.resolve_job_def("rebuild_and_publish").execute_in_process(
        instance=instance,
        tags={RUN_ID_TAG: summary.run_id, ACTOR_TAG: actor},
        run_config=run_config,
        raise_on_error=False,
    )
    # Withdrawals are applied first, in their own step: counted even if a later step fails.
    withdrawals = _metadata(result, ["ingest", "withdrawals"])
    summary.withdrawals_applied += int(withdrawals.get("withdrawals_applied", 0))
    summary.withdrawals_rejected += int(withdrawals.get("withdrawals_rejected", 0))
    summary.records_erased += int(withdrawals.get("records_erased", 0))
    summary.rejected.extend((path, reason) for path, reason in withdrawals.get("rejections", []))
    summary.failed_steps.extend(f"withdrawal {path}" for path in withdrawals.get("failed", []))
    if not result.success:
        failures = [
            event.step_key or "?"
            for event in result.all_events
            if event.event_type_value == "STEP_FAILURE"
        ]
        summary.failed_steps.append("rebuild_and_publish: " + ", ".join(failures))
        return False
    linkage = _metadata(result, ["linkage", "memberships"])
    events = linkage.get("id_events") or {}
    summary.linkage = {
        "survivor_ids_minted": int(linkage.get("survivor_ids_minted", 0) or 0),
        "id_updates": sum(int(count) for event, count in events.items() if event != "minted"),
        "auto_links": int(linkage.get("auto_links", 0) or 0),
        "review_pairs": int(linkage.get("review_pairs", 0) or 0),
    }
    # The publish asset appends the publication's audit row itself (with the actor tag).
    summary.published = bool(_metadata(result, ["publish", "public"]))
    return True


def run_pipeline(
    resources: Mapping[str, Any],
    *,
    on_step: Any = None,
    dagster_run_config: Mapping[str, Any] | None = None,
) -> RunSummary:
    """Load every pending batch, then apply withdrawals, link, rebuild and publish; returns
    the summary.

    `on_step(description, total)` is called before each step (progress display). The whole
    run holds the warehouse, from the first look at the inbox to the final `ops.runs` row,
    so no other run gets in between two of its steps; raises `WarehouseBusy` (exit code 2)
    when another run holds it (waits PAHICHAN_LOCK_TIMEOUT seconds first, default 0).
    """
    warehouse: WarehouseResource = resources["warehouse"]
    with warehouse.hold("pahichan run"):
        return _run_pipeline_held(resources, on_step=on_step, dagster_run_config=dagster_run_config)


def _run_pipeline_held(
    resources: Mapping[str, Any],
    *,
    on_step: Any = None,
    dagster_run_config: Mapping[str, Any] | None = None,
) -> RunSummary:
    """`run_pipeline`'s work, with the warehouse held."""

    from pipelines.definitions import build_definitions
    from pipelines.defs.ingest.partitions import BATCH_PARTITIONS, INBOX_PATH_TAG
    from pipelines.defs.staging.jobs import ingest_job_name
    from pipelines.instance import cli_instance

    warehouse: WarehouseResource = resources["warehouse"]
    summary = RunSummary(run_id=f"cli-{uuid.uuid4().hex[:12]}")
    run_config = dagster_run_config if dagster_run_config is not None else _QUIET_DAGSTER
    pending = pending_batches(resources["inbox"].root, warehouse)
    if not pending and publication_is_current(
        warehouse, resources["inbox"].root, Path(resources["settings"].publish_dir)
    ):
        # Nothing new: no run, no republication (the reader files stay byte-identical).
        summary.up_to_date = True
        return summary
    _record_run(warehouse, summary, "running")
    definitions = build_definitions(resources)
    total = len(pending) + 1
    with cli_instance() as instance:
        for files in pending:
            if on_step:
                on_step(f"Loading {files.inbox_path}", total)
            instance.add_dynamic_partitions(
                BATCH_PARTITIONS[files.source_type].name, [files.batch_id]
            )
            result = definitions.resolve_job_def(
                ingest_job_name(files.source_type)
            ).execute_in_process(
                instance=instance,
                partition_key=files.batch_id,
                tags={INBOX_PATH_TAG: files.inbox_path, "pahichan/run_id": summary.run_id},
                run_config=run_config,
                raise_on_error=False,
            )
            if not result.success:
                summary.failed_steps.append(f"load {files.inbox_path}")
                continue
            metadata = _metadata(result, ["staging", files.source_type])
            if metadata.get("status") == "accepted":
                summary.batches_accepted += 1
                summary.rows_loaded += int(metadata.get("rows_loaded", 0))
                summary.rows_quarantined += int(metadata.get("rows_quarantined", 0))
            else:
                summary.batches_rejected += 1
                summary.rejected.append((files.inbox_path, str(metadata.get("reason", ""))))
        if summary.batches_accepted and not _has_model(warehouse):
            # The first model is trained by its own job, so the instance records
            # linkage/model as materialised (linking would otherwise train it unseen).
            if on_step:
                on_step("Training the first linkage model", total)
            trained = definitions.resolve_job_def("train_linkage_model").execute_in_process(
                instance=instance,
                run_config=run_config,
                raise_on_error=False,
                tags={"pahichan/run_id": summary.run_id},
            )
            if not trained.success:
                summary.failed_steps.append("train_linkage_model")
        if on_step:
            on_step("Applying withdrawals, linking, rebuilding and publishing", total)
        rebuild_and_publish(definitions, instance, summary, run_config=run_config)
    _record_run(warehouse, summary, "failed" if summary.failed_steps else "succeeded")
    return summary


@click.command(
    name="run",
    epilog="Example: pahichan run --inbox data/inbox --warehouse data/warehouse/pahichan.duckdb",
)
@inbox_option
@warehouse_options(must_exist=False)  # the first run creates the warehouse
@key_id_option
@publish_dir_option
@click.option("--verbose", "-v", is_flag=True, help="Show Dagster's and the pipeline's logs.")
def run(
    inbox: Path | None,
    warehouse: Path | None,
    key_id: str | None,
    publish_dir: Path | None,
    warehouse_key: Path | None,
    verbose: bool,
) -> None:
    """Process every pending inbox batch into the warehouse, link, and publish reader files.

    Each batch is checked as a whole (manifest, hash, row count, key id, duplicates) and
    row by row (expectation suites); failing rows go to quarantine, failing batches are
    rejected and left in the inbox. Runs in this process; safe to re-run at any time.
    """
    from rich.console import Console
    from rich.logging import RichHandler
    from rich.progress import Progress

    console = Console(stderr=True)
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        handlers=[RichHandler(console=console, show_path=False)],
        force=True,
    )
    if not verbose:
        # Splink warns about every level EM could not train; useful when tuning, noise here.
        logging.getLogger("splink").setLevel(logging.ERROR)
    resources = resources_from_env(
        inbox=str(inbox) if inbox else None,
        warehouse=str(warehouse) if warehouse else None,
        key_id=key_id,
        publish_dir=str(publish_dir) if publish_dir else None,
        warehouse_key_file=str(warehouse_key) if warehouse_key else None,
    )
    inbox_root = resources["inbox"].root
    if not inbox_root.is_dir():
        raise click.ClickException(f"inbox folder {inbox_root} does not exist")
    try:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("Finding pending batches", total=None)

            def on_step(description: str, total: int) -> None:
                progress.update(task, description=description, total=total)
                progress.advance(task)

            summary = run_pipeline(
                resources, on_step=on_step, dagster_run_config=None if not verbose else {}
            )
    except WarehouseKeyError as error:
        raise click.ClickException(str(error)) from error
    except duckdb.Error as error:
        from pipelines.commands.warehouse_key import open_error_message

        message = open_error_message(error, resources["warehouse"].path)
        if message is None:
            raise
        raise click.ClickException(message) from error
    for inbox_path, reason in summary.rejected:
        click.echo(f"Rejected {inbox_path}: {reason}", err=True)
    if summary.failed_steps:
        click.echo(f"Failed: {'; '.join(summary.failed_steps)} (re-run with -v)", err=True)
        click.echo(summary.line())
        raise SystemExit(1)
    click.echo(summary.line())
