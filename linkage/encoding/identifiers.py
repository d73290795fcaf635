"""Normal forms of exact identifiers and dates, so one person's values compare equal.

Each function returns the normal form, or None when the value is empty or unusable (an
unusable phone or ID number is dropped, not guessed: a wrong token would link strangers).
"""

from __future__ import annotations

import datetime as dt
import re

_NEPALI_DIGITS = str.maketrans("०१२३४५६७८९", "0123456789")
_SEPARATORS = re.compile(r"[\s\-/._,:()#]+")
_ISO_LIKE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_YEAR_ONLY = re.compile(r"^(\d{4})$")
_NON_DIGIT = re.compile(r"\D")
_NON_ALPHANUMERIC = re.compile(r"[^0-9A-Z]")


def ascii_digits(text: str) -> str:
    """Devanagari digits (०-९) to ASCII digits; other characters unchanged."""
    return text if text.isascii() else text.translate(_NEPALI_DIGITS)  # skip the slow table


def normalise_phone(raw: str | None) -> str | None:
    """Nepal phone numbers without country code or trunk zero: ``+977-984-1234567`` ->
    ``9841234567``; ``01-4412345`` -> ``14412345``. None if fewer than 7 digits remain."""
    if not raw:
        return None
    digits = _NON_DIGIT.sub("", ascii_digits(raw))
    for prefix in ("00977", "977"):
        if digits.startswith(prefix) and len(digits) - len(prefix) >= 7:
            digits = digits[len(prefix) :]
            break
    digits = digits.lstrip("0")
    return digits if 7 <= len(digits) <= 12 else None


def normalise_document_number(raw: str | None) -> str | None:
    """Citizenship/passport numbers: ASCII digits, uppercase, separators removed.
    ``२७-०१-७२/०५४३२`` -> ``2701720543``... None if nothing alphanumeric remains."""
    if not raw:
        return None
    text = _SEPARATORS.sub("", ascii_digits(raw)).upper()
    text = _NON_ALPHANUMERIC.sub("", text)
    return text if len(text) >= 3 else None


# Shorter numbers have so few one-deletion variants, shared by so many other numbers, that
# agreeing on one says little; the comparison would only learn a level of noise.
EDIT_VARIANT_MIN_LENGTH = 6


def deletion_variants(number: str | None) -> list[str]:
    """The number itself and the distinct strings left by deleting one of its characters.

    Two numbers share a variant when dropping at most one character from each makes them
    equal: a wrong, missing, extra or swapped digit (``2271801`` and ``2271081`` both give
    ``227101``; ``669232`` is itself a variant of ``6692321``). Empty for a missing number or
    one shorter than EDIT_VARIANT_MIN_LENGTH.
    """
    if not number or len(number) < EDIT_VARIANT_MIN_LENGTH:
        return []
    return sorted({number, *(number[:i] + number[i + 1 :] for i in range(len(number)))})


def parse_ad_date(raw: str) -> tuple[dt.date | None, str]:
    """Parse a Gregorian date: ``YYYY-MM-DD`` (also / or . separators) or a bare ``YYYY``.

    Returns ``(date, precision)``; precision ``day`` or ``year`` (then the date is 1 July of
    that year, used only for the year). Raises ValueError when it is not a date.
    """
    text = ascii_digits(raw.strip())
    match = _ISO_LIKE.match(text)
    if match:
        year, month, day = (int(group) for group in match.groups())
        return dt.date(year, month, day), "day"
    match = _YEAR_ONLY.match(text)
    if match:
        return dt.date(int(match.group(1)), 7, 1), "year"
    raise ValueError("not a YYYY-MM-DD date")


def age_on(birth: dt.date, on: dt.date) -> int:
    """Completed years between ``birth`` and ``on``."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
