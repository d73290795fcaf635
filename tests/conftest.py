"""Suite-wide settings: everything offline, nothing written outside temporary folders."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator

import pytest
from hypothesis import settings

# Set before any test imports Great Expectations, Dagster or Streamlit.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
os.environ.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
os.environ.setdefault("STREAMLIT_SERVER_HEADLESS", "true")
os.environ.setdefault("STREAMLIT_SERVER_ADDRESS", "127.0.0.1")

# Property tests draw the same examples on every run by default, so CI is reproducible: a
# failure found once stays found and a green run is not luck. `HYPOTHESIS_PROFILE=explore`
# draws fresh random examples (and keeps failures in .hypothesis/) to look for new faults.
settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

_MEASUREMENTS = pytest.StashKey[list[str]]()


@pytest.fixture
def report(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Record a figure (cases tried, attack rate...) for the end-of-run summary.

    Printed in the terminal summary of every run, pass or fail, so CI logs show what the
    fuzz, kill and attack tests actually tried without `-s`.
    """
    lines = request.config.stash.setdefault(_MEASUREMENTS, [])

    def record(line: str) -> None:
        lines.append(f"{request.node.nodeid}: {line.strip()}")

    return record


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:  # type: ignore[no-untyped-def]
    lines = config.stash.get(_MEASUREMENTS, [])
    if lines:
        terminalreporter.section("measurements")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture(autouse=True)
def _main_module_kept() -> Iterator[None]:
    """Streamlit's AppTest leaves the app script in `sys.modules["__main__"]`; a process
    spawned later by the same pytest (benchmarks, `in_own_process`) would then run the
    dashboard script again while starting up, since spawn re-imports `__main__` by path."""
    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main


@pytest.fixture(autouse=True)
def _no_shared_dagster_instance(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Makefile points DAGSTER_HOME at the project's `.dagster_home/` (the demo's
    instance); tests must not write their runs there. Tests that need a persistent instance
    set their own temporary DAGSTER_HOME."""
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
