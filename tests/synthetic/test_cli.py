"""`pahichan synth` through click: files, summary line, clear errors, determinism."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from linkage.synthetic import SOURCE_TYPES, generate
from linkage.synthetic.cli import synth

ROOT = Path(__file__).resolve().parents[2]


def test_synth_writes_extracts_truth_and_a_summary(tmp_path: Path) -> None:
    out, truth = tmp_path / "extracts", tmp_path / "evaluation"
    result = CliRunner().invoke(
        synth, ["--people", "300", "--seed", "4", "--out", str(out), "--truth-out", str(truth)]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{s}.csv" for s in SOURCE_TYPES)
    assert (truth / "truth.csv").exists()
    summary = result.output.strip().splitlines()[-1]
    assert summary.startswith("Wrote ") and "300 people" in summary


def test_synth_refuses_bad_input(tmp_path: Path) -> None:
    result = CliRunner().invoke(synth, ["--people", "0", "--out", str(tmp_path)])
    assert result.exit_code != 0
    assert "--people" in result.output
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = CliRunner().invoke(synth, ["--people", "5", "--out", str(blocker)])
    assert result.exit_code != 0
    assert "Traceback" not in result.output


def test_output_does_not_depend_on_python_hash_seed(tmp_path: Path) -> None:
    """A separate interpreter with another hash seed writes the same bytes."""
    runs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / hash_seed
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run(
            [
                sys.executable,
                "-c",
                "from linkage.synthetic.cli import synth; synth()",
                "--people",
                "200",
                "--out",
                str(out),
            ],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        runs.append(out)
    for name in (*[f"{s}.csv" for s in SOURCE_TYPES], "truth.csv"):
        assert (runs[0] / name).read_bytes() == (runs[1] / name).read_bytes(), name


@pytest.mark.slow
def test_one_million_records_in_under_two_minutes(tmp_path: Path) -> None:
    from linkage.synthetic import write

    started = time.perf_counter()
    data = generate(600_000, 7)
    write(data, tmp_path)
    elapsed = time.perf_counter() - started
    assert data.record_count >= 1_000_000
    assert elapsed < 120, f"{data.record_count} records took {elapsed:.0f}s"
