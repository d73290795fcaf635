"""The monthly increment benchmark's split of the registers by contact date."""

from __future__ import annotations

import pandas as pd
import pytest

from benchmarks.increment import split_latest


def test_the_latest_records_over_all_sources_form_the_month() -> None:
    extracts = {
        "shelter": pd.DataFrame(
            {"record_id": ["s1", "s2", "s3"], "contact_date": ["2026-01-05", "2026-06-02", "x"]}
        ),
        "ocmc": pd.DataFrame(
            {"record_id": ["o1", "o2"], "contact_date": ["2026-06-02", "2026-06-20"]}
        ),
    }
    earlier, month = split_latest(extracts, 2)
    # The cut falls on 2026-06-02, which two records share: ties stay together.
    assert sorted(month["ocmc"]["record_id"]) == ["o1", "o2"]
    assert list(month["shelter"]["record_id"]) == ["s2"]
    # An unreadable date stays with the earlier records; nothing is lost or doubled.
    assert sorted(earlier["shelter"]["record_id"]) == ["s1", "s3"]
    assert earlier["ocmc"].empty
    total = sum(len(f) for f in (*earlier.values(), *month.values()))
    assert total == sum(len(f) for f in extracts.values())


def test_no_month_leaves_every_record_earlier() -> None:
    extracts = {"shelter": pd.DataFrame({"record_id": ["s1"], "contact_date": ["2026-01-05"]})}
    earlier, month = split_latest(extracts, 0)
    assert len(earlier["shelter"]) == 1 and month["shelter"].empty


@pytest.mark.slow
def test_a_kept_month_replays_from_its_copy_and_leaves_the_kept_folder_as_it_was(tmp_path) -> None:
    """--keep saves the inbox and warehouse before the month; --replay runs that month again
    on copies (same rows loaded) and changes nothing in the kept folder."""
    from click.testing import CliRunner

    from benchmarks.increment import benchmark_increment

    kept = tmp_path / "kept"
    first = CliRunner().invoke(
        benchmark_increment, ["--size", "1500", "--batch", "200", "--keep", str(kept)]
    )
    assert first.exit_code == 0, first.output
    before = {p: p.stat().st_mtime_ns for p in (kept / "before-month").rglob("*") if p.is_file()}
    assert (kept / "before-month" / "warehouse" / "pahichan.duckdb") in before
    again = CliRunner().invoke(benchmark_increment, ["--replay", str(kept)])
    assert again.exit_code == 0, again.output
    assert "replayed from" in again.output
    assert _month_rows_loaded(again.output) == _month_rows_loaded(first.output) > 0
    after = {p: p.stat().st_mtime_ns for p in (kept / "before-month").rglob("*") if p.is_file()}
    assert after == before


def _month_rows_loaded(output: str) -> int:
    """Rows the month's run loaded, read from the printed table (its cells wrap)."""
    import re

    flat = " ".join(output.replace("│", " ").split())
    found = re.search(r"run \(month\).*?(\d+) rows loaded", flat)
    assert found, output
    return int(found.group(1))
