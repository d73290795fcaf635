"""Bikram Sambat (BS) calendar: conversion, parsing, months and Nepal's fiscal year.

Agency registers often record dates in Bikram Sambat; the warehouse stores AD dates and
publishes BS months and fiscal years next to AD periods. Conversion uses `nepali_datetime`
(its month-length tables); `bsdatetime` is deliberately not used: it is one day off from
2026-10-17 to the end of BS 2083.

Nepal's fiscal year starts on 1 Shrawan (BS month 4) and is labelled by its two BS years,
e.g. "2081/82" runs from 1 Shrawan 2081 (2024-07-16) to the last day of Ashadh 2082.
"""

from __future__ import annotations

import datetime
import re

import nepali_datetime

BS_MONTHS_EN: tuple[str, ...] = (
    "Baishakh",
    "Jestha",
    "Ashadh",
    "Shrawan",
    "Bhadra",
    "Ashwin",
    "Kartik",
    "Mangsir",
    "Poush",
    "Magh",
    "Falgun",
    "Chaitra",
)
BS_MONTHS_NE: tuple[str, ...] = (
    "बैशाख",
    "जेठ",
    "असार",
    "साउन",
    "भदौ",
    "असोज",
    "कात्तिक",
    "मंसिर",
    "पुस",
    "माघ",
    "फागुन",
    "चैत",
)
FISCAL_YEAR_START_MONTH = 4  # Shrawan

_DIGITS = str.maketrans("०१२३४५६७८९", "0123456789")
_DATE_PARTS = re.compile(r"^\s*(\d{1,4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,4})\s*$")
_FISCAL_LABEL = re.compile(r"^(\d{4})/(\d{2})$")
_MONTH_LABEL = re.compile(r"^(\d{4})-(\d{2})$")


def bs_to_ad(year: int, month: int, day: int) -> datetime.date:
    """AD date of a BS date; ValueError when the BS date does not exist or is out of range."""
    try:
        return nepali_datetime.date(year, month, day).to_datetime_date()
    except (ValueError, OverflowError, TypeError) as exc:
        raise ValueError(
            f"{year:04d}-{month:02d}-{day:02d} is not a valid Bikram Sambat date "
            f"(supported years {nepali_datetime.MINYEAR}..{nepali_datetime.MAXYEAR}; "
            f"month 1..12; day within the month's length)"
        ) from exc


def ad_to_bs(d: datetime.date) -> tuple[int, int, int]:
    """(year, month, day) in BS of an AD date; ValueError outside the supported range."""
    if isinstance(d, datetime.datetime):
        d = d.date()
    try:
        bs = nepali_datetime.date.from_datetime_date(d)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"{d.isoformat()} is outside the supported Bikram Sambat range") from exc
    return bs.year, bs.month, bs.day


def parse_bs_date(text: str) -> datetime.date:
    """Parse a BS date written as YYYY-MM-DD (also `/` or `.`, Devanagari digits) to AD.

    DD-MM-YYYY is accepted too when the four-digit year comes last. Raises ValueError
    naming the text and the expected form.
    """
    if text is None:
        raise ValueError("empty Bikram Sambat date; expected YYYY-MM-DD, e.g. 2081-04-15")
    match = _DATE_PARTS.match(str(text).translate(_DIGITS))
    if match is None:
        raise ValueError(
            f"cannot read {text!r} as a Bikram Sambat date; expected YYYY-MM-DD, e.g. 2081-04-15"
        )
    first, month, last = match.groups()
    if len(first) == 4:
        year, day = int(first), int(last)
    elif len(last) == 4:
        year, day = int(last), int(first)
    else:
        raise ValueError(
            f"{text!r} has no four-digit Bikram Sambat year; expected YYYY-MM-DD, e.g. 2081-04-15"
        )
    try:
        return bs_to_ad(year, int(month), day)
    except ValueError as exc:
        raise ValueError(f"{text!r}: {exc}") from None


def bs_fiscal_year(d: datetime.date) -> str:
    """Nepal fiscal-year label of an AD date, e.g. 2024-07-16 -> "2081/82"."""
    year, month, _ = ad_to_bs(d)
    start = year if month >= FISCAL_YEAR_START_MONTH else year - 1
    return f"{start}/{(start + 1) % 100:02d}"


def bs_fiscal_year_start(label: str) -> datetime.date:
    """AD date of 1 Shrawan that opens a fiscal year label such as "2081/82"."""
    match = _FISCAL_LABEL.match(str(label).translate(_DIGITS).strip())
    if match is None or (int(match[1]) + 1) % 100 != int(match[2]):
        raise ValueError(f"{label!r} is not a BS fiscal year label like '2081/82'")
    return bs_to_ad(int(match[1]), FISCAL_YEAR_START_MONTH, 1)


def bs_month_label(d: datetime.date) -> str:
    """BS year and month of an AD date as "YYYY-MM", e.g. 2024-07-16 -> "2081-04"."""
    year, month, _ = ad_to_bs(d)
    return f"{year:04d}-{month:02d}"


def bs_month_start(label: str) -> datetime.date:
    """AD date of the first day of a BS month label such as "2081-04"."""
    match = _MONTH_LABEL.match(str(label).translate(_DIGITS).strip())
    if match is None:
        raise ValueError(f"{label!r} is not a BS month label like '2081-04'")
    return bs_to_ad(int(match[1]), int(match[2]), 1)
