"""The warehouse run lock (`pipelines.warehouse_lock`), fast: one small helper process holds it.

The end-to-end versions (two real `pahichan run` processes, a run killed mid-way) are in
tests/reliability/test_one_writer.py, marked slow.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner

from pipelines.commands.run import run
from pipelines.resources import WarehouseResource, resources_from_env
from pipelines.warehouse_lock import WarehouseBusy, hold_warehouse, is_held_here

REPO = Path(__file__).resolve().parents[2]


def _holder(warehouse: Path, seconds: float = 60) -> subprocess.Popen:
    """Another process holding the warehouse as a `pahichan run` would, for `seconds`."""
    script = (
        "import sys, time\n"
        "from pipelines.warehouse_lock import hold_warehouse\n"
        f"with hold_warehouse({str(warehouse)!r}, purpose='pahichan run'):\n"
        "    print('held', flush=True)\n"
        f"    time.sleep({seconds})\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "held"
    return process


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen]:
    process = _holder(tmp_path / "w" / "pahichan.duckdb")
    yield process
    process.kill()
    process.wait()


def test_pahichan_run_exits_2_with_one_message_while_another_run_holds_it(
    tmp_path: Path, holder: subprocess.Popen
) -> None:
    (tmp_path / "inbox").mkdir()
    warehouse = tmp_path / "w" / "pahichan.duckdb"
    result = CliRunner().invoke(
        run, ["--inbox", str(tmp_path / "inbox"), "--warehouse", str(warehouse)]
    )
    assert result.exit_code == 2, result.output
    assert f"is in use by another run (pahichan run, pid {holder.pid}, since" in result.output
    assert "PAHICHAN_LOCK_TIMEOUT" in result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
    assert not warehouse.exists(), "the refused run opened the warehouse"


def test_a_killed_holder_frees_the_warehouse_and_its_running_row_is_marked_failed(
    tmp_path: Path,
) -> None:
    warehouse = tmp_path / "w" / "pahichan.duckdb"
    store = resources_from_env({}, warehouse=str(warehouse))["warehouse"]
    from pipelines.defs.ingest.warehouse import ensure_ingest_schema

    with store.connect() as con:
        ensure_ingest_schema(con)
        con.execute(
            "INSERT INTO ops.runs (run_id, mode, started_at, status) "
            "VALUES ('cli-0123abcd4567', 'cli', now(), 'running')"
        )
    process = _holder(warehouse)
    # While the holder lives its row is left alone (the connection is refused outright).
    with pytest.raises(WarehouseBusy), store.connect():
        pass
    process.send_signal(signal.SIGKILL)
    process.wait()
    with store.connect() as con:
        status, note = con.execute("SELECT status, note FROM ops.runs").fetchone()
        audited = con.execute(
            "SELECT count(*) FROM ops.audit_log "
            "WHERE action = 'run' AND object = 'cli-0123abcd4567'"
        ).fetchone()[0]
    assert status == "failed" and note.startswith("interrupted")
    assert audited == 1


def test_with_a_timeout_a_second_run_waits_for_the_first(tmp_path: Path) -> None:
    warehouse = tmp_path / "pahichan.duckdb"
    process = _holder(warehouse, seconds=1.5)
    started = time.monotonic()
    store = WarehouseResource(path=str(warehouse), lock_timeout=30)
    with store.hold("pahichan review"):
        waited = time.monotonic() - started
    process.wait()
    assert 0.5 < waited < 30


def test_the_lock_is_re_entrant_in_one_process_and_restores_the_umask(tmp_path: Path) -> None:
    warehouse = tmp_path / "pahichan.duckdb"
    previous = os.umask(0o022)
    try:
        with hold_warehouse(warehouse, purpose="outer") as outer:
            with hold_warehouse(warehouse, purpose="inner") as inner:
                assert (outer, inner) == (True, False)
            assert is_held_here(warehouse)
            assert os.umask(0o077) == 0o077
        assert not is_held_here(warehouse)
        assert os.umask(0o022) == 0o022
    finally:
        os.umask(previous)


def test_a_dagster_run_holds_the_warehouse_from_its_first_step_to_its_last(
    tmp_path: Path,
) -> None:
    warehouse = str(tmp_path / "pahichan.duckdb")
    seen: list[bool] = []

    @dg.asset
    def first(warehouse: WarehouseResource) -> None:
        seen.append(is_held_here(warehouse.path))

    @dg.asset(deps=[first])
    def second(warehouse: WarehouseResource) -> None:
        seen.append(is_held_here(warehouse.path))

    result = dg.materialize(
        [first, second], resources={"warehouse": WarehouseResource(path=warehouse)}
    )
    assert result.success and seen == [True, True]
    assert not is_held_here(warehouse)


def test_a_dagster_run_that_cannot_get_the_warehouse_fails_with_the_message(
    tmp_path: Path, holder: subprocess.Popen
) -> None:
    @dg.asset
    def writes(warehouse: WarehouseResource) -> None:
        raise AssertionError("must not run without the warehouse")

    result = dg.materialize(
        [writes],
        resources={
            "warehouse": WarehouseResource(
                path=str(tmp_path / "w" / "pahichan.duckdb"), lock_timeout=0.5
            )
        },
        raise_on_error=False,
    )
    assert not result.success
    # The resource's error (with its cause, WarehouseBusy) is in the failure events' data.
    assert "is in use by another run (pahichan run" in repr(result.all_events)
