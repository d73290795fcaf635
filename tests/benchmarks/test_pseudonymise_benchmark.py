"""`pahichan benchmark pseudonymise` runs end to end on a small number of records."""

from __future__ import annotations

from click.testing import CliRunner

from benchmarks.pseudonymise import benchmark_pseudonymise


def test_benchmark_prints_table_and_summary() -> None:
    result = CliRunner().invoke(benchmark_pseudonymise, ["--records", "400"])
    assert result.exit_code == 0, result.output
    assert "records/s" in result.output
    summary = result.output.strip().splitlines()[-1]
    assert summary.startswith("pseudonymise: ") and "400 records" in summary
