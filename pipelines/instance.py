"""The Dagster instance the CLI's jobs run on: the persistent one the UI shows, when set up.

`pahichan run`, `train` and `withdraw` execute their jobs in process. With `DAGSTER_HOME`
pointing at a folder (the Makefile and `make demo` set it to `.dagster_home/`, whose
`dagster.yaml` turns telemetry off), they record their runs, materialisations and check
results there, so a data officer finds them in the Dagster UI next to the sensor's and the
schedule's runs, and the inbox sensor knows which batches they loaded. Without it (a bare
shell, the unit tests) the runs go to an ephemeral in-memory instance, as before.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

DAGSTER_HOME_VARIABLE = "DAGSTER_HOME"


@contextmanager
def cli_instance() -> Iterator[dg.DagsterInstance]:
    """The persistent instance under `$DAGSTER_HOME` if that folder exists, else ephemeral."""
    home = os.environ.get(DAGSTER_HOME_VARIABLE)
    if home and Path(home).is_dir():
        with dg.DagsterInstance.get() as instance:
            yield instance
    else:
        with dg.DagsterInstance.ephemeral() as instance:
            yield instance
