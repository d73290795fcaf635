"""The Dagster code location loaded by `workspace.yaml`.

Every module-level Dagster object under `pipelines.defs` (one folder per stage: ingest,
staging, linkage, core, marts, publish) is collected; resources come from `PAHICHAN_*`
variables, read when the location loads (not at import). Jobs use the in-process executor:
the warehouse has one writer, and a subprocess per step measured ~3x slower here. It also
sets resources up once per run, which is when the warehouse resource takes the run lock
(`pipelines.warehouse_lock`) for the whole run; one run at a time is Dagster's own rule too
(`concurrency.runs.max_concurrent_runs: 1` in `.dagster_home/dagster.yaml`).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import dagster as dg


def build_definitions(resources: Mapping[str, Any] | None = None) -> dg.Definitions:
    """All stages' definitions bound to `resources` (default: from the environment)."""
    import pipelines.defs
    from pipelines.resources import resources_from_env

    with warnings.catch_warnings():
        # Marked "preview" in 1.13 but the documented way to collect a package's objects;
        # the snapshot test in tests/pipelines/test_definitions.py notices any change.
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return dg.load_definitions_from_package_module(
            pipelines.defs,
            resources=resources if resources is not None else resources_from_env(),
            executor=dg.in_process_executor,
        )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions()
