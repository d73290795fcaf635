"""`pahichan dashboard` and `pahichan benchmark dashboard` through click's CliRunner."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipelines.cli import main


def test_dashboard_refuses_a_missing_public_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["dashboard", "--public", str(tmp_path / "none.duckdb")])
    assert result.exit_code != 0
    assert "no public file" in result.output
    assert "Traceback" not in result.output


def test_dashboard_starts_streamlit_locally_and_offline(
    public_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: dict = {}

    class FakeProcess:
        def __init__(self, command, env):
            started.update(command=command, env=env)

        def wait(self) -> int:
            return 0

    monkeypatch.setattr(subprocess, "Popen", FakeProcess)
    result = CliRunner().invoke(main, ["dashboard", "--public", str(public_db), "--port", "8765"])
    assert result.exit_code == 0, result.output
    command = " ".join(started["command"])
    for flag in (
        "--server.address 127.0.0.1",
        "--browser.gatherUsageStats false",
        "--server.headless true",
        "--server.port 8765",
    ):
        assert flag in command
    assert started["env"]["PAHICHAN_PUBLIC_DB"] == str(public_db.resolve())
    assert started["env"]["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] == "false"
    assert "stopped" in result.output


def test_benchmark_prints_a_table_and_summary(public_db: Path) -> None:
    result = CliRunner().invoke(
        main, ["benchmark", "dashboard", "--public", str(public_db), "--repeat", "1"]
    )
    assert result.exit_code == 0, result.output
    assert "first after start (cold process)" in result.output
    assert "first after start (warm process, empty cache)" in result.output
    assert "overview render: cold" in result.output.splitlines()[-1]
