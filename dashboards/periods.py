"""Which published periods are complete: a period is complete when it ended on or before the
publication's `data_through` (the latest contact date in the data). A partial period (the
current year, data ending mid-year) must never be the default nor look like a fall.

Pure Python; period labels are those of docs/interfaces.md section 4.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from schemas.calendar import bs_fiscal_year_start, bs_month_start


def _month_after(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def period_end(period_type: str, period: str) -> dt.date:
    """Last day (AD) of a period label, e.g. ("quarter", "2024-Q3") -> 2024-09-30."""
    one_day = dt.timedelta(days=1)
    if period_type == "year":
        return dt.date(int(period), 12, 31)
    if period_type == "month":
        year, month = _month_after(int(period[:4]), int(period[5:7]))
        return dt.date(year, month, 1) - one_day
    if period_type == "quarter":
        year, quarter = int(period[:4]), int(period[-1])
        year, month = _month_after(year, quarter * 3)
        return dt.date(year, month, 1) - one_day
    if period_type == "bs_month":
        year, month = _month_after(int(period[:4]), int(period[5:7]))
        return bs_month_start(f"{year:04d}-{month:02d}") - one_day
    if period_type == "bs_fiscal_year":
        start = int(period[:4]) + 1
        return bs_fiscal_year_start(f"{start}/{(start + 1) % 100:02d}") - one_day
    raise ValueError(f"unknown period type {period_type!r}")


def is_partial(period_type: str, period: str, data_through: object) -> bool:
    """Whether the data stop before the period ends (unknown `data_through`: not partial)."""
    if data_through is None or str(data_through) in ("", "NaT", "None"):
        return False
    through = dt.date.fromisoformat(str(data_through)[:10])
    return through < period_end(period_type, period)


def partial_periods(period_type: str, periods: Iterable[str], data_through: object) -> set[str]:
    """The periods of `periods` that the data do not cover to their end."""
    return {p for p in periods if is_partial(period_type, p, data_through)}


def default_period(period_type: str, periods: list[str], data_through: object) -> str | None:
    """The newest complete period (periods newest first); the newest if none is complete."""
    partial = partial_periods(period_type, periods, data_through)
    complete = [p for p in periods if p not in partial]
    return (complete or periods or [None])[0]
