"""The scheduled path as a data officer meets it: `dagster dev` (daemon + webserver) on
127.0.0.1 over an inbox that `pahichan run` partly processed already.

- The batches the CLI loaded were recorded on the same instance: the UI shows those runs as
  succeeded and the sensor does not request them again.
- Two new batches arrive in one sensor tick while a `rebuild_and_publish` run (the nightly
  schedule's job) is launched at the same moment: every run succeeds (the instance's run
  queue lets one warehouse writer run at a time) and every row is loaded.
- The GraphQL API shows the runs and the staging checks' results.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.cli_agency import pseudonymise, register_agency, synthesise

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LOCATION = "pipelines.definitions"
FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _graphql(port: int, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        body = json.load(response)
    assert "errors" not in body, body
    return body["data"]


RUNS = """{ runsOrError { ... on Runs { results { runId jobName status startTime endTime
    tags { key value } } } } }"""
CHECKS = """query ($path: [String!]!) { assetNodes(assetKeys: [{path: $path}]) {
    assetChecksOrError { ... on AssetChecks { checks { name
      executionForLatestMaterialization { status } } } } } }"""
ASSETS = """{ assetsOrError { ... on AssetConnection { nodes { key { path }
    assetMaterializations(limit: 1) { runId } } } } }"""
LAUNCH = """mutation ($job: String!) { launchRun(executionParams: {selector: {
    repositoryLocationName: "%s", repositoryName: "__repository__", jobName: $job}}) {
    __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }"""


def _wait_for(condition: Any, seconds: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            value = condition()
        except OSError:
            value = None
        if value:
            return value
        time.sleep(2)
    raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")


@pytest.fixture(scope="module")
def agency_batches(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Registered agencies and pseudonymised batches: two migration batches kept aside."""
    root = tmp_path_factory.mktemp("daemon")
    extracts, agency, held = root / "extracts", root / "agency", root / "held"
    warehouse = root / "warehouse" / "pahichan.duckdb"
    key = synthesise(extracts, agency, people=150, seed=11)
    for source in ("shelter", "ocmc", "migration"):
        signing = register_agency(agency, warehouse, source, f"{source}-d", by="test")
        extract = extracts / f"{source}.csv"
        parts = [extract]
        if source == "migration":
            # Two migration batches (the extract's two halves) arrive in one sensor tick.
            header, *rows = extract.read_text(encoding="utf-8").splitlines(True)
            parts = [extracts / "migration-1.csv", extracts / "migration-2.csv"]
            parts[0].write_text(header + "".join(rows[: len(rows) // 2]), encoding="utf-8")
            parts[1].write_text(header + "".join(rows[len(rows) // 2 :]), encoding="utf-8")
        out = (held if source == "migration" else root / "inbox") / source / f"{source}-d"
        for part in parts:
            pseudonymise(source, f"{source}-d", key, signing, part, out, agency / "crosswalks")
    return {"root": root, "inbox": root / "inbox", "held": held, "warehouse": warehouse}


def _screenshot_runs_page(port: int, target: Path) -> str:
    """The Dagster UI's run list in Debian's Chromium: saved as a PNG, its text returned."""
    from playwright.sync_api import sync_playwright

    chromium = Path("/usr/bin/chromium")
    assert chromium.exists(), "install Debian's chromium (`make browser-deps`)"
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=args)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"http://127.0.0.1:{port}/runs", wait_until="domcontentloaded")
            page.get_by_text("rebuild_and_publish").first.wait_for(timeout=60_000)
            target.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(target), full_page=True)
            return page.inner_text("body")
        finally:
            browser.close()


# Slower than 60 s on this 2-core machine, but the scheduled path is what data officers use:
# it runs in `make test` (marked `servers`, not `slow`).
@pytest.mark.servers
def test_sensor_and_schedule_path_after_the_cli_run(agency_batches: dict[str, Path]) -> None:
    root, inbox, warehouse = (
        agency_batches["root"],
        agency_batches["inbox"],
        agency_batches["warehouse"],
    )
    home = root / "dagster_home"
    home.mkdir()
    # The instance settings `make demo` uses, as committed.
    shutil.copy(PROJECT_ROOT / ".dagster_home" / "dagster.yaml", home / "dagster.yaml")
    environment = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "DAGSTER_DISABLE_TELEMETRY": "1",
        "GX_ANALYTICS_ENABLED": "false",
        "PAHICHAN_INBOX": str(inbox),
        "PAHICHAN_WAREHOUSE": str(warehouse),
        "PAHICHAN_PUBLISH_DIR": str(warehouse.parent),
    }
    bin_dir = Path(sys.executable).parent
    cli_run = subprocess.run(
        [str(bin_dir / "pahichan"), "run"],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert cli_run.returncode == 0, cli_run.stderr
    # Two new batches are in the inbox before the first sensor tick.
    shutil.copytree(agency_batches["held"], inbox, dirs_exist_ok=True)

    port = _free_port()
    log = (root / "dagster.log").open("w")
    server = subprocess.Popen(
        [
            str(bin_dir / "dagster"),
            "dev",
            "-w",
            str(PROJECT_ROOT / "workspace.yaml"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_for(lambda: _graphql(port, "{ version }"), 120, "the Dagster webserver")
        # The nightly job fires while the sensor's loads are queued.
        launched = _graphql(port, LAUNCH % LOCATION, {"job": "rebuild_and_publish"})
        assert launched["launchRun"]["__typename"] == "LaunchRunSuccess", launched

        def settled() -> list[dict[str, Any]] | None:
            runs = _graphql(port, RUNS)["runsOrError"]["results"]
            loads = [r for r in runs if r["jobName"] == "ingest_migration_batch"]
            if len(loads) >= 2 and all(r["status"] in FINISHED for r in runs):
                return runs
            return None

        runs = _wait_for(settled, 420, "the sensor's runs and the nightly run to finish")
        by_job: dict[str, list[str]] = {}
        for entry in runs:
            by_job.setdefault(entry["jobName"], []).append(entry["status"])
        # The CLI's runs are on the same instance; nothing failed anywhere.
        assert by_job["ingest_shelter_batch"] == ["SUCCESS"]
        assert by_job["ingest_ocmc_batch"] == ["SUCCESS"]
        assert by_job["ingest_migration_batch"] == ["SUCCESS", "SUCCESS"]
        assert by_job["rebuild_and_publish"] == ["SUCCESS", "SUCCESS"]
        assert [r for r in runs if r["status"] != "SUCCESS"] == []
        sensor_runs = [r for r in runs if any(t["key"] == "dagster/sensor_name" for t in r["tags"])]
        assert {r["jobName"] for r in sensor_runs} == {"ingest_migration_batch"}
        # The run queue started each run after the previous one ended: no two overlapped.
        spans = sorted((r["startTime"], r["endTime"]) for r in runs)
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert end <= start, f"two runs overlapped: {spans}"

        for source in ("shelter", "ocmc", "migration"):
            (node,) = _graphql(port, CHECKS, {"path": ["staging", source]})["assetNodes"]
            checks = node["assetChecksOrError"]["checks"]
            statuses = {c["name"]: c["executionForLatestMaterialization"] for c in checks}
            assert statuses and all(
                s is not None and s["status"] == "SUCCEEDED" for s in statuses.values()
            ), (source, statuses)

        # Every asset of the graph has been materialised by one of these runs.
        nodes = _graphql(port, ASSETS)["assetsOrError"]["nodes"]
        never = ["/".join(n["key"]["path"]) for n in nodes if not n["assetMaterializations"]]
        assert len(nodes) >= 30 and never == []

        # What the data officer sees first: the run list, every run succeeded.
        screenshot = PROJECT_ROOT / "tests" / "artifacts" / "dagster-runs.png"
        text = _screenshot_runs_page(port, screenshot)
        assert "Success" in text and "Failure" not in text
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()

    with duckdb.connect(str(warehouse), read_only=True) as con:
        statuses = con.execute(
            "SELECT status, count(*) FROM ops.batches GROUP BY status"
        ).fetchall()
        loaded, quarantined, received = con.execute(
            "SELECT sum(rows_loaded), sum(rows_quarantined), sum(row_count) FROM ops.batches"
        ).fetchone()
    assert dict(statuses) == {"accepted": 4}
    assert loaded + quarantined == received
