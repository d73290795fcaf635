"""Checks on each staging asset, evaluated by the asset itself while it loads a batch.

Batch-level checks (ERROR: a failure means the batch was rejected whole) and row-level
checks (WARN: failing rows were quarantined, the rest loaded). Each name is the statement
that holds for a good batch. They are yielded with the materialisation rather than run as
separate `@asset_check`s because the facts exist only during the load (the rejected file's
hash, the rows GX failed); `loaded_plus_quarantined_equals_received` is counted afresh in
the warehouse after the load committed.
"""

from __future__ import annotations

from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, AssetKey, MetadataValue

from pipelines.defs.ingest.batch_checks import BATCH_CHECKS
from pipelines.defs.ingest.load import ACCEPTED, BatchOutcome
from pipelines.defs.ingest.validation import ValidationOutcome

RECORD_TOKENS_ARE_UNIQUE = "record_tokens_are_unique"
ROWS_MEET_EXPECTATIONS = "rows_meet_expectations"
LOADED_PLUS_QUARANTINED_EQUALS_RECEIVED = "loaded_plus_quarantined_equals_received"
ROW_CHECKS = (
    RECORD_TOKENS_ARE_UNIQUE,
    ROWS_MEET_EXPECTATIONS,
    LOADED_PLUS_QUARANTINED_EQUALS_RECEIVED,
)

_DESCRIPTIONS = {
    "manifest_is_valid": "The manifest is present, parseable and names this batch, source "
    "type, agency and data file.",
    "manifest_is_signed_by_agency": "The manifest is signed by the registered signing key of "
    "the agency whose inbox folder it is in.",
    "source_type_is_registered_for_agency": "The agency's signing key is registered for this "
    "source type (inbox folder and manifest).",
    "versions_are_supported": "Contract and encoding versions are ones this warehouse reads.",
    "batch_is_within_limits": "File size, row count and decoded size are within the "
    "PAHICHAN_MAX_BATCH_* caps (checked before the file is read or decoded).",
    "quarantine_is_within_limits": "Rows failing validation stay within "
    "PAHICHAN_MAX_QUARANTINE_ROWS and PAHICHAN_MAX_QUARANTINE_SHARE.",
    "sha256_matches_manifest": "The data file's SHA-256 equals the manifest's.",
    "columns_match_contract": "The data file has exactly the pseudonymised columns of the "
    "contract, with castable types.",
    "rows_match_manifest": "The data file has as many rows as the manifest says.",
    "key_id_is_current": "The batch was encoded with the domain's current key.",
    "batch_is_not_a_duplicate": "No accepted batch has the same batch_id or the same bytes.",
    RECORD_TOKENS_ARE_UNIQUE: "No record_token appears twice in the batch (duplicates are "
    "quarantined).",
    ROWS_MEET_EXPECTATIONS: "Every row passes the source type's expectation suite (failing "
    "rows are quarantined with a reason).",
    LOADED_PLUS_QUARANTINED_EQUALS_RECEIVED: "Rows in staging plus rows in quarantine equal "
    "the rows received: nothing is lost.",
}


def staging_check_specs(asset_key: AssetKey) -> list[AssetCheckSpec]:
    """The check specs of one staging asset."""
    names = [*BATCH_CHECKS, *ROW_CHECKS]
    return [
        AssetCheckSpec(name, asset=asset_key, description=_DESCRIPTIONS[name]) for name in names
    ]


def staging_check_results(
    asset_key: AssetKey, outcome: BatchOutcome, balance: tuple[int, int] | None
) -> list[AssetCheckResult]:
    """Results for one load; row checks are evaluated only for an accepted batch.

    `balance` is (rows in staging, rows in quarantine) counted after the commit.
    """
    results = _batch_check_results(asset_key, outcome)
    if outcome.status != ACCEPTED or outcome.validation is None or balance is None:
        return results + _row_checks_not_evaluated(asset_key, outcome)
    return results + _row_check_results(asset_key, outcome, outcome.validation, balance)


def _batch_check_results(asset_key: AssetKey, outcome: BatchOutcome) -> list[AssetCheckResult]:
    """One result per batch check: as evaluated, or WARN "not evaluated" after a rejection."""
    results = [
        AssetCheckResult(
            asset_key=asset_key,
            check_name=check.name,
            passed=check.passed,
            severity=AssetCheckSeverity.ERROR,
            description=check.reason,
            metadata={"batch_id": outcome.batch_id, "inbox_path": outcome.files.inbox_path},
        )
        for check in outcome.inspection.checks
    ]
    # A batch rejected early is not checked further (e.g. an unsigned file is never
    # parsed); Dagster still wants a result for every declared check.
    evaluated = {check.name for check in outcome.inspection.checks}
    results += [
        AssetCheckResult(
            asset_key=asset_key,
            check_name=name,
            passed=False,
            # WARN: what failed is the check that rejected the batch (ERROR above).
            severity=AssetCheckSeverity.WARN,
            description="not evaluated: the batch was rejected by an earlier check",
            metadata={"batch_id": outcome.batch_id, "evaluated": False},
        )
        for name in BATCH_CHECKS
        if name not in evaluated
    ]
    return results


def _row_checks_not_evaluated(asset_key: AssetKey, outcome: BatchOutcome) -> list[AssetCheckResult]:
    """A WARN "not evaluated" result per row check, for a batch rejected whole."""
    # Dagster requires a result for every declared check; row checks were not run.
    return [
        AssetCheckResult(
            asset_key=asset_key,
            check_name=name,
            passed=False,
            severity=AssetCheckSeverity.WARN,
            description="not evaluated: the batch was rejected whole (see the batch checks)",
            metadata={"batch_id": outcome.batch_id, "evaluated": False},
        )
        for name in ROW_CHECKS
    ]


def _row_check_results(
    asset_key: AssetKey,
    outcome: BatchOutcome,
    validation: ValidationOutcome,
    balance: tuple[int, int],
) -> list[AssetCheckResult]:
    """The row checks of an accepted batch: unique tokens, expectations, row balance."""
    results: list[AssetCheckResult] = []
    duplicates = validation.rows_failing("record_token_unique_in_batch")
    results.append(
        AssetCheckResult(
            asset_key=asset_key,
            check_name=RECORD_TOKENS_ARE_UNIQUE,
            passed=duplicates == 0,
            severity=AssetCheckSeverity.WARN,
            metadata={"rows_with_repeated_token": duplicates},
        )
    )
    by_rule = {
        rule: validation.rows_failing(rule)
        for rule in validation.rules
        if validation.rows_failing(rule)
    }
    results.append(
        AssetCheckResult(
            asset_key=asset_key,
            check_name=ROWS_MEET_EXPECTATIONS,
            passed=not by_rule,
            severity=AssetCheckSeverity.WARN,
            metadata={
                "rows_quarantined": outcome.rows_quarantined,
                "rows_failing_by_rule": MetadataValue.json(by_rule),
            },
        )
    )
    loaded, quarantined = balance
    results.append(
        AssetCheckResult(
            asset_key=asset_key,
            check_name=LOADED_PLUS_QUARANTINED_EQUALS_RECEIVED,
            passed=loaded + quarantined == outcome.rows_received,
            severity=AssetCheckSeverity.ERROR,
            metadata={
                "rows_received": outcome.rows_received,
                "rows_in_staging": loaded,
                "rows_in_quarantine": quarantined,
            },
        )
    )
    return results
