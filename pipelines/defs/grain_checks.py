"""The grain asset check of each core and mart table, run inside its layer's rebuild.

The rebuild checks every table's grain before it commits (`pipelines.grain.enforce_grains`)
and rolls back when one is off, so the step fails and nothing downstream runs on a broken
layer. What it found is reported as the tables' asset checks, yielded by the layer's
multi-asset (`check_specs`): one check per table, no second pass over the warehouse.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import dagster as dg

from pipelines.grain import GrainResult

GRAIN_CHECK = "grain_is_unique_and_not_null"


def grain_check_specs(
    schema: str, keys: Mapping[str, dg.AssetKey], grains: Mapping[str, Sequence[str]]
) -> list[dg.AssetCheckSpec]:
    """One blocking grain check per table (`keys`: table -> its asset key)."""
    return [
        dg.AssetCheckSpec(
            GRAIN_CHECK,
            asset=key,
            description=f"{schema}.{table} has one row per {' x '.join(grains[table])} and "
            "no NULL key (checked before the rebuild commits).",
            blocking=True,
        )
        for table, key in keys.items()
    ]


def grain_check_results(
    keys: Mapping[str, dg.AssetKey],
    grains: Mapping[str, Sequence[str]],
    results: Mapping[str, GrainResult],
) -> Iterator[dg.AssetCheckResult]:
    """The rebuild's grain checks as Dagster check results, one per table."""
    for table, key in keys.items():
        result = results[table]
        yield dg.AssetCheckResult(
            asset_key=key,
            check_name=GRAIN_CHECK,
            passed=result.passed,
            metadata={
                "grain": ", ".join(grains[table]),
                "rows": result.rows,
                "duplicate_keys": result.duplicate_keys,
                "rows_with_null_key": result.rows_with_null_key,
            },
        )
