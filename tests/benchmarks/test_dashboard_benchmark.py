"""The dashboard benchmark on a synthetic public file: the shape it used and the figures."""

from __future__ import annotations

import re
import tempfile

import duckdb
from click.testing import CliRunner

from benchmarks.dashboard import benchmark_dashboard, write_synthetic_public


def test_synthetic_public_file_publishes_every_place_and_more_periods_per_year(tmp_path):
    one = write_synthetic_public(tmp_path / "one.duckdb", 1)
    two = write_synthetic_public(tmp_path / "two.duckdb", 2)
    assert two["survivor_statistics"] == 2 * one["survivor_statistics"]
    con = duckdb.connect(str(tmp_path / "one.duckdb"), read_only=True)
    try:
        places = con.execute(
            "SELECT count(DISTINCT geo_code) FROM survivor_statistics "
            "WHERE geo_level = 'local_level'"
        ).fetchone()[0]
        geography = con.execute(
            "SELECT count(*) FROM geography WHERE geo_level = 'local_level'"
        ).fetchone()[0]
    finally:
        con.close()
    assert places == geography  # every local level, as a large publication would have


def test_benchmark_prints_the_shape_and_the_render_figures(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    result = CliRunner().invoke(benchmark_dashboard, ["--synthetic-years", "1", "--repeat", "1"])
    assert result.exit_code == 0, result.output
    assert "synthetic public file: 1 years" in result.output
    assert re.search(r"survivor_statistics [\d,]+", result.output)
    assert re.search(r"overview render: cold [\d.]+ s, .* warm median [\d.]+ s", result.output)
    # The synthetic file's folder is removed when the timing ends.
    assert not list(tmp_path.glob("pahichan-bench-*"))
