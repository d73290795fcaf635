"""Bikram Sambat conversions, parsing and fiscal years."""

from __future__ import annotations

import datetime

import nepali_datetime
import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.calendar import (
    BS_MONTHS_EN,
    BS_MONTHS_NE,
    ad_to_bs,
    bs_fiscal_year,
    bs_fiscal_year_start,
    bs_month_label,
    bs_month_start,
    bs_to_ad,
    parse_bs_date,
)

D = datetime.date

# Independently known anchors (public holidays and fiscal-year starts announced by the
# Government of Nepal): New Year (1 Baishakh) and fiscal-year start (1 Shrawan).
ANCHORS = [
    ((2079, 1, 1), D(2022, 4, 14)),
    ((2080, 1, 1), D(2023, 4, 14)),
    ((2081, 1, 1), D(2024, 4, 13)),
    ((2082, 1, 1), D(2025, 4, 14)),
    ((2080, 4, 1), D(2023, 7, 17)),
    ((2081, 4, 1), D(2024, 7, 16)),
    ((2082, 4, 1), D(2025, 7, 17)),
    ((2072, 6, 3), D(2015, 9, 20)),  # Constitution Day, 3 Ashwin 2072
]


@pytest.mark.parametrize(("bs", "ad"), ANCHORS)
def test_known_anchor_dates(bs: tuple[int, int, int], ad: datetime.date) -> None:
    assert bs_to_ad(*bs) == ad
    assert ad_to_bs(ad) == bs


def test_agrees_with_nepali_datetime_directly() -> None:
    for bs, ad in ANCHORS:
        assert nepali_datetime.date(*bs).to_datetime_date() == ad


@given(st.dates(min_value=D(1990, 1, 1), max_value=D(2035, 12, 31)))
def test_round_trip(d: datetime.date) -> None:
    assert bs_to_ad(*ad_to_bs(d)) == d


def test_days_are_contiguous_across_the_bsdatetime_problem_window() -> None:
    # bsdatetime is a day off from 2026-10-17 to the end of BS 2083: check every day there
    # maps to a distinct, increasing BS date and back.
    d, previous = D(2026, 9, 1), None
    while d <= D(2027, 4, 20):
        bs = ad_to_bs(d)
        assert previous is None or bs > previous
        assert bs_to_ad(*bs) == d
        previous, d = bs, d + datetime.timedelta(days=1)
    # The window covers the rest of BS 2083 and the start of 2084.
    assert ad_to_bs(D(2026, 10, 17))[0] == 2083 and ad_to_bs(D(2027, 4, 20))[0] == 2084


@pytest.mark.parametrize(
    "bs", [(2081, 13, 1), (2081, 0, 1), (2081, 4, 33), (2081, 4, 0), (1900, 1, 1), (2200, 1, 1)]
)
def test_invalid_bs_dates_raise_value_error(bs: tuple[int, int, int]) -> None:
    with pytest.raises(ValueError, match="not a valid Bikram Sambat date"):
        bs_to_ad(*bs)


def test_month_length_is_enforced() -> None:
    # A month has 29..32 days; the day after the last is invalid.
    last = max(day for day in range(29, 33) if _valid(2081, 4, day))
    assert bs_to_ad(2081, 4, last) + datetime.timedelta(days=1) == bs_to_ad(2081, 5, 1)
    if last < 32:
        with pytest.raises(ValueError):
            bs_to_ad(2081, 4, last + 1)


def _valid(y: int, m: int, d: int) -> bool:
    try:
        bs_to_ad(y, m, d)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize(
    "text",
    [
        "2081-04-01",
        "2081/4/1",
        "2081.04.01",
        " 2081 - 04 - 01 ",
        "२०८१-०४-०१",
        "२०८१/४/१",
        "01-04-2081",
    ],
)
def test_parse_bs_date_forms(text: str) -> None:
    assert parse_bs_date(text) == D(2024, 7, 16)


@pytest.mark.parametrize("text", ["", "2081", "hello", "81-04-01", "2081-13-01", "2081-04-40"])
def test_parse_bs_date_rejects_with_clear_message(text: str) -> None:
    with pytest.raises(ValueError, match="Bikram Sambat") as caught:
        parse_bs_date(text)
    assert repr(text) in str(caught.value) or not text


def test_fiscal_year_boundaries() -> None:
    start = D(2024, 7, 16)  # 1 Shrawan 2081
    assert bs_fiscal_year(start) == "2081/82"
    assert bs_fiscal_year(start - datetime.timedelta(days=1)) == "2080/81"
    assert bs_fiscal_year(D(2025, 7, 16)) == "2081/82"  # last day of Ashadh 2082
    assert bs_fiscal_year(D(2025, 7, 17)) == "2082/83"
    assert bs_fiscal_year(D(2024, 4, 13)) == "2080/81"  # New Year is mid fiscal year
    assert bs_fiscal_year_start("2081/82") == start
    assert bs_fiscal_year_start("2082/83") == D(2025, 7, 17)
    assert bs_fiscal_year(bs_fiscal_year_start("2099/00")) == "2099/00"


@pytest.mark.parametrize("label", ["2081/83", "2081-82", "81/82", "fy"])
def test_bad_fiscal_year_labels(label: str) -> None:
    with pytest.raises(ValueError, match="fiscal year"):
        bs_fiscal_year_start(label)


def test_month_labels() -> None:
    assert bs_month_label(D(2024, 7, 16)) == "2081-04"
    assert bs_month_label(D(2024, 7, 15)) == "2081-03"
    assert bs_month_start("2081-04") == D(2024, 7, 16)
    assert bs_month_start("2081-01") == D(2024, 4, 13)
    with pytest.raises(ValueError):
        bs_month_start("2081-4")


def test_month_names() -> None:
    assert len(BS_MONTHS_EN) == len(BS_MONTHS_NE) == 12
    assert BS_MONTHS_EN[0] == "Baishakh" and BS_MONTHS_EN[3] == "Shrawan"
    assert BS_MONTHS_EN[-1] == "Chaitra"
    assert BS_MONTHS_NE[0] == "बैशाख" and BS_MONTHS_NE[-1] == "चैत"
