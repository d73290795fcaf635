"""The monthly increment benchmark's split of the registers by contact date."""

from __future__ import annotations

import pandas as pd

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
