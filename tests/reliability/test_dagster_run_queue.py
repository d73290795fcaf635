"""Issue 16: Dagster itself runs one warehouse-writing run at a time.

The inbox sensor requests one run per batch, all in one tick, and the nightly
`rebuild_and_publish` can fire while they run. Before, nothing limited concurrent runs:
the runs started together and all but one failed on DuckDB's `Conflicting lock`. Here the
real `dagster-daemon` runs with the project's own `.dagster_home/dagster.yaml` (copied into
a temporary DAGSTER_HOME): its sensor requests both batch loads in its first tick while the
test queues a `rebuild_and_publish` run, as the schedule would. All three runs must
succeed, none may overlap another in time (Dagster queued them; the warehouse lock alone
would also avoid failures, but by making runs wait inside their process), and every row
must be loaded.
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tests.privacy.conftest import _train_model_json
from tests.reliability.test_kill_during_run import REPO, _prepare

BIN = Path(sys.executable).parent
FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}


def _environment(home: Path, paths: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAHICHAN_")}
    return {**env, "DAGSTER_HOME": str(home), "DAGSTER_DISABLE_TELEMETRY": "1",
            "PYTHONPATH": str(REPO), "PAHICHAN_INBOX": paths["inbox"],
            "PAHICHAN_WAREHOUSE": paths["warehouse"],
            "PAHICHAN_PUBLISH_DIR": paths["publish"]}  # fmt: skip


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_sensor_burst_and_schedule_run_one_at_a_time_with_no_failures(
    tmp_path: Path, report, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dagster as dg

    paths = _prepare(tmp_path / "data", _train_model_json())
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(REPO / ".dagster_home" / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    env = _environment(home, paths)
    workspace = str(REPO / "workspace.yaml")
    # Opening the instance here first creates its storage, so the daemon and the launch
    # command below do not race to create the same SQLite files.
    with dg.DagsterInstance.get() as instance:
        daemon = subprocess.Popen(
            [str(BIN / "dagster-daemon"), "run", "-w", workspace], cwd=REPO, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        started = time.monotonic()
        try:
            # Queued like the nightly schedule's run, while the sensor's first tick happens.
            launch = subprocess.run(
                [str(BIN / "dagster"), "job", "launch", "-w", workspace,
                 "-j", "rebuild_and_publish"],
                cwd=REPO, env=env, check=False, capture_output=True, text=True, timeout=180,
            )  # fmt: skip
            assert launch.returncode == 0, launch.stderr[-2000:]
            while time.monotonic() - started < 480:
                records = instance.get_run_records()
                done = all(r.dagster_run.status.value in FINISHED for r in records)
                if len(records) >= 3 and done:
                    break
                time.sleep(2)
            records = instance.get_run_records()
        finally:
            os.killpg(daemon.pid, signal.SIGTERM)
            try:
                daemon.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(daemon.pid, signal.SIGKILL)
                daemon.wait()
    jobs = sorted(r.dagster_run.job_name for r in records)
    statuses = {r.dagster_run.run_id[:8]: r.dagster_run.status.value for r in records}
    report(f"{len(records)} runs in {time.monotonic() - started:.0f} s: {statuses}")
    assert jobs == ["ingest_ocmc_batch", "ingest_shelter_batch", "rebuild_and_publish"], jobs
    assert set(statuses.values()) == {"SUCCESS"}, statuses
    spans = sorted((r.start_time, r.end_time) for r in records)
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert end <= start, f"two runs overlapped: {spans}"
    con = duckdb.connect(paths["warehouse"], read_only=True)
    try:
        loaded = con.execute(
            "SELECT count(*), sum(rows_loaded + rows_quarantined) FROM ops.batches "
            "WHERE status = 'accepted'"
        ).fetchone()
    finally:
        con.close()
    assert loaded == (2, 45)
