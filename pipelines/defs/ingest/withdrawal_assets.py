"""`ingest/withdrawals`: apply the agencies' pending withdrawal batches (consent withdrawn).

Part of the `rebuild_and_publish` job (nightly, started by hand in the Dagster UI, or run in
process by `pahichan run` and `pahichan withdraw`), ahead of linking: the records a
withdrawal names are erased everywhere before anything is linked, rebuilt or published.
This asset is the one place withdrawal batches are applied. Publication stays nightly on purpose:
republishing right after one withdrawal would let a reader difference the two files (see
docs/threat-model.md, attack 4). Each receipt (counts only, never a token) is in
`ops.withdrawals`; a rejected withdrawal erases nothing and fails the WARN check below with
its reason, so the data officer sees it on the asset. After the erasure, each applied
withdrawal is completed in the inbox (`complete_withdrawal`): the agency's batches are
rewritten without the records and the withdrawal file is replaced by a token-free tombstone.
"""

# No `from __future__ import annotations`: Dagster reads the context/resource annotations
# of decorated functions at definition time.

import duckdb
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    MaterializeResult,
    MetadataValue,
    asset,
)

from pipelines.defs.ingest.redactions import reconcile_receipts
from pipelines.defs.ingest.warehouse import ensure_ingest_schema
from pipelines.defs.ingest.withdrawals import (
    applied_in_inbox,
    apply_withdrawal,
    complete_withdrawal,
    pending_withdrawals,
)
from pipelines.resources import InboxResource, PipelineSettings, WarehouseResource

WITHDRAWALS_KEY = AssetKey(["ingest", "withdrawals"])
WITHDRAWALS_ARE_ACCEPTED = "withdrawals_are_accepted"


@asset(
    key=WITHDRAWALS_KEY,
    group_name="ingest",
    kinds={"duckdb"},
    description="Withdrawal batches applied: the records they name are erased everywhere. "
    "Grain of ops.withdrawals: one row per withdrawal receipt (counts only).",
    check_specs=[
        AssetCheckSpec(
            WITHDRAWALS_ARE_ACCEPTED,
            asset=WITHDRAWALS_KEY,
            description="Every pending withdrawal passed its checks (signature, hash, "
            "ownership of the records) and was applied.",
        )
    ],
)
def withdrawals(
    context: AssetExecutionContext,
    warehouse: WarehouseResource,
    inbox: InboxResource,
    settings: PipelineSettings,
) -> MaterializeResult:
    """Apply every withdrawal batch in the inbox the warehouse has not processed yet.

    One that fails for a system reason is logged, left pending (no receipt: the next run
    applies it again) and listed under `failed`; the others are still applied.
    """
    applied = erased = inbox_rows = 0
    rejected: list[tuple[str, str]] = []
    failed: list[str] = []
    with warehouse.connect() as con:
        ensure_ingest_schema(con)
        reconcile_receipts(con, inbox.root, warehouse.redaction_key())
        for files in pending_withdrawals(con, inbox.root):
            try:
                outcome = apply_withdrawal(
                    con,
                    files,
                    configured_key_id=settings.key_id,
                    run_id=context.run_id,
                    limits=settings.ingest_limits(),
                )
            except (duckdb.Error, RuntimeError, ValueError) as error:
                context.log.error(f"Withdrawal {files.inbox_path} failed: {error}")
                failed.append(files.inbox_path)
                continue
            if outcome.accepted:
                applied += 1
                erased += outcome.erasure.records_erased if outcome.erasure else 0
            else:
                rejected.append((files.inbox_path, outcome.reason or ""))
        # Also those a crash left applied but still in the inbox.
        completing = applied_in_inbox(con, inbox.root)
        key = warehouse.redaction_key(create=True) if completing else None
        for files in completing:
            assert key is not None
            try:
                done = complete_withdrawal(con, files, key, run_id=context.run_id)
                inbox_rows += done.rows_removed
            except (duckdb.Error, OSError, ValueError) as error:
                context.log.error(f"Withdrawal {files.inbox_path}: inbox not redacted: {error}")
                failed.append(files.inbox_path)
    if applied or rejected or failed:
        context.log.info(
            f"{applied} withdrawal(s) applied ({erased} record(s) erased), {len(rejected)} "
            f"rejected, {len(failed)} failed"
        )
    rejections = "\n".join(f"- `{path}`: {reason}" for path, reason in rejected)
    return MaterializeResult(
        metadata={
            "withdrawals_applied": applied,
            "withdrawals_rejected": len(rejected),
            "records_erased": erased,
            "inbox_rows_redacted": inbox_rows,
            "rejections": MetadataValue.json([list(pair) for pair in rejected]),
            "failed": MetadataValue.json(failed),
        },
        check_results=[
            AssetCheckResult(
                check_name=WITHDRAWALS_ARE_ACCEPTED,
                passed=not rejected and not failed,
                severity=AssetCheckSeverity.WARN,
                metadata={
                    "rejections": MetadataValue.md(rejections or "none"),
                    "failed": MetadataValue.md(", ".join(f"`{p}`" for p in failed) or "none"),
                },
            )
        ],
    )
