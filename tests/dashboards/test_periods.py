"""Complete and partial periods, and the default period (issue 19)."""

from __future__ import annotations

import datetime as dt

import pytest

from dashboards.periods import default_period, is_partial, period_end


@pytest.mark.parametrize(
    ("period_type", "period", "end"),
    [
        ("year", "2024", dt.date(2024, 12, 31)),
        ("month", "2024-02", dt.date(2024, 2, 29)),
        ("month", "2024-12", dt.date(2024, 12, 31)),
        ("quarter", "2024-Q3", dt.date(2024, 9, 30)),
        ("quarter", "2024-Q4", dt.date(2024, 12, 31)),
    ],
)
def test_period_end(period_type: str, period: str, end: dt.date) -> None:
    assert period_end(period_type, period) == end


def test_bikram_sambat_periods_end_the_day_before_the_next_starts() -> None:
    # Fiscal year 2081/82 starts 1 Shrawan 2081 = 2024-07-16 (schemas.calendar).
    assert period_end("bs_fiscal_year", "2080/81") == dt.date(2024, 7, 15)
    assert period_end("bs_month", "2081-03") == dt.date(2024, 7, 15)


def test_data_ending_mid_year_make_the_year_partial_and_the_default_the_year_before() -> None:
    assert is_partial("year", "2024", "2024-06-30")
    assert not is_partial("year", "2023", "2024-06-30")
    assert default_period("year", ["2024", "2023"], dt.date(2024, 6, 30)) == "2023"
    assert default_period("year", ["2024", "2023"], dt.date(2024, 12, 31)) == "2024"
    # Nothing complete yet: the newest is still offered (marked partial by the caller).
    assert default_period("year", ["2024"], "2024-03-01") == "2024"
