"""Issue 15.6: two `pahichan run` processes on one warehouse; a run killed with SIGKILL.

Before: the warehouse was locked per step, so a second run got in between two steps of the
first, which then died on DuckDB's `Conflicting lock` with a traceback and left its
`ops.runs` row at `running`. Now the whole run holds `<warehouse>.lock`: the second run
either exits at once with one message and exit code 2 (the CLI default) or, with
PAHICHAN_LOCK_TIMEOUT, waits for the first and then finds nothing left to do.

Each test runs real `pahichan run` processes (45-60 s here): marked slow. The same rules
are checked in seconds, with a small helper process holding the lock, in
tests/pipelines/test_warehouse_lock.py.
"""

from __future__ import annotations

import signal
import subprocess
import threading
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from tests.privacy.conftest import _train_model_json
from tests.reliability.test_kill_during_run import REPO, _command, _environment, _prepare


@pytest.fixture(scope="module")
def model_json() -> str:
    return _train_model_json()


def _inbox_rows(inbox: Path) -> int:
    return sum(
        pq.ParquetFile(path).metadata.num_rows
        for path in inbox.rglob("*.parquet")
        if "withdrawal" not in path.name
    )


def _state(warehouse: Path) -> dict[str, object]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {
            "runs": con.execute("SELECT status, note FROM ops.runs ORDER BY started_at").fetchall(),
            # Every row received was loaded or quarantined, and only the withdrawn record
            # is missing from staging.
            "rows": con.execute(
                "SELECT sum(rows_loaded + rows_quarantined) FROM ops.batches "
                "WHERE status = 'accepted'"
            ).fetchone()[0],
            "staging_complete": con.execute(
                "SELECT (SELECT count(*) FROM staging.shelter) + (SELECT count(*) FROM "
                "staging.ocmc) + (SELECT sum(records_erased) FROM ops.withdrawals) = "
                "(SELECT sum(rows_loaded) FROM ops.batches WHERE status = 'accepted')"
            ).fetchone()[0],
            "accepted": con.execute(
                "SELECT count(*) FROM ops.batches WHERE status = 'accepted' "
                "AND linked_at IS NOT NULL"
            ).fetchone()[0],
            "withdrawals": con.execute("SELECT count(*) FROM ops.withdrawals").fetchone()[0],
            "interrupted_audited": con.execute(
                "SELECT count(*) FROM ops.audit_log WHERE action = 'run' "
                "AND detail LIKE '%\"interrupted\":true%'"
            ).fetchone()[0],
        }
    finally:
        con.close()


def _start_two(paths: dict[str, str], extra_env: dict[str, str]) -> list[subprocess.Popen]:
    env = {**_environment(), **extra_env}
    barrier = threading.Barrier(2)
    processes: list[subprocess.Popen] = []

    def start() -> None:
        barrier.wait()
        processes.append(
            subprocess.Popen(
                _command(paths),
                env=env,
                cwd=REPO,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return processes


def _finish(processes: list[subprocess.Popen]) -> list[tuple[int, str, str]]:
    """(exit code, stdout, stderr) of each process, once it has ended."""
    outputs = [p.communicate(timeout=300) for p in processes]
    return [(p.returncode, *output) for p, output in zip(processes, outputs, strict=True)]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_two_runs_at_once_one_writes_the_other_exits_2_without_traceback(
    tmp_path: Path, model_json: str
) -> None:
    paths = _prepare(tmp_path, model_json)
    results = sorted(_finish(_start_two(paths, {})), key=lambda r: r[0])
    (code_a, _, err_a), (code_b, out_b, err_b) = results
    assert code_a == 0, err_a[-2000:]
    assert code_b == 2, (code_b, err_b[-2000:])
    assert "is in use by another run (pahichan run, pid" in err_b
    assert "Traceback" not in err_b and "Traceback" not in err_a
    assert out_b == ""
    state = _state(Path(paths["warehouse"]))
    assert state["runs"] == [("succeeded", None)]
    assert state["rows"] == _inbox_rows(Path(paths["inbox"])) and state["staging_complete"]
    assert state["accepted"] == 2 and state["withdrawals"] == 1


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_with_a_lock_timeout_the_second_run_waits_then_finds_nothing_to_do(
    tmp_path: Path, model_json: str
) -> None:
    paths = _prepare(tmp_path, model_json)
    results = _finish(_start_two(paths, {"PAHICHAN_LOCK_TIMEOUT": "300"}))
    assert [code for code, *_ in results] == [0, 0], [err[-2000:] for *_, err in results]
    lines = sorted(out.strip() for _, out, _ in results)
    assert lines[0].startswith("0 batches accepted, 0 rejected; 0 rows loaded"), lines
    assert lines[1].startswith("2 batches accepted, 0 rejected"), lines
    state = _state(Path(paths["warehouse"]))
    assert state["runs"] == [("succeeded", None), ("succeeded", None)]
    assert state["rows"] == _inbox_rows(Path(paths["inbox"])) and state["staging_complete"]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_run_killed_mid_run_is_marked_failed_by_the_next_run(
    tmp_path: Path, model_json: str
) -> None:
    paths = _prepare(tmp_path, model_json)
    process = subprocess.Popen(
        [*_command(paths), "-v"],
        env=_environment(),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    for line in process.stderr:  # kill inside the run: right after its first finished step
        if "STEP_SUCCESS" in line:
            break
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    assert [status for status, _ in _state(Path(paths["warehouse"]))["runs"]] == ["running"]

    final = subprocess.run(
        _command(paths), env=_environment(), cwd=REPO, capture_output=True, text=True, check=False
    )
    assert final.returncode == 0, final.stderr[-2000:]
    state = _state(Path(paths["warehouse"]))
    (killed_status, killed_note), (status, _) = state["runs"]
    assert killed_status == "failed" and "interrupted" in killed_note
    assert status == "succeeded"
    assert state["interrupted_audited"] == 1
    assert state["rows"] == _inbox_rows(Path(paths["inbox"])) and state["staging_complete"]
