"""Cell-level helpers of the encoder: reading cells, parsing dates and ages, memoising.

Each returns a value or a reject reason; none raises on bad data.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from functools import lru_cache

import pandas as pd

from linkage.encoding import attributes
from linkage.encoding.identifiers import parse_ad_date
from linkage.encoding.names import phonetic_key


def date_parser(calendar: str) -> Callable[[str], tuple[dt.date, str]]:
    """A memoised date parser for the calendar (dates repeat a lot within one export)."""
    if calendar == "ad":
        return lru_cache(maxsize=65536)(parse_ad_date)  # type: ignore[return-value]
    from schemas.calendar import bs_to_ad, parse_bs_date

    def parse_bs(text: str) -> tuple[dt.date, str]:
        stripped = text.strip().translate(str.maketrans("०१२३४५६७८९", "0123456789"))
        if stripped.isdigit() and len(stripped) == 4:  # year only: mid BS year (Shrawan)
            return bs_to_ad(int(stripped), 4, 1), "year"
        return parse_bs_date(text), "day"

    return lru_cache(maxsize=65536)(parse_bs)


def _cell_text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def cell_strings(records: pd.DataFrame, column: str) -> list[str]:
    """One column as stripped strings ('' for missing), whatever pandas made of it."""
    if column not in records.columns:
        return [""] * len(records)
    values = records[column].tolist()
    try:
        return list(map(str.strip, values))  # every cell a string (the usual case): one C loop
    except TypeError:  # missing values or numbers
        return [value.strip() if type(value) is str else _cell_text(value) for value in values]


def mapped(function: Callable[[str], object], values: list[str]) -> list:
    """``[function(v) for v in values]`` computed once per distinct value."""
    table = {value: function(value) for value in set(values)}
    return [table[value] for value in values]


def parsed_date(parse: Callable[[str], tuple[dt.date, str]], text: str) -> tuple:
    """(date, precision) or (None, problem) for one date cell; (None, None) when empty."""
    if not text:
        return None, None
    try:
        return parse(text)
    except ValueError:
        return None, "unparseable"


def age_of(text: str) -> tuple[int | None, str | None]:
    if not text:
        return None, None
    try:
        age = int(float(text))
    except ValueError:
        return None, "age is not a number"
    if not 0 <= age <= attributes.MAX_PLAUSIBLE_AGE:
        return None, "absurd age (must be 0-120)"
    return age, None


def name_key_pair(given: str, family: str) -> str | None:
    given_key, family_key = phonetic_key(given), phonetic_key(family)
    return f"{given_key}|{family_key}" if given_key and family_key else None


def name_key_set(given: str, family: str) -> str | None:
    """The two phonetic keys in sorted order: the same for "Sita Tamang" and "Tamang Sita",
    so a register that wrote the family name first still links."""
    given_key, family_key = phonetic_key(given), phonetic_key(family)
    return "|".join(sorted((given_key, family_key))) if given_key and family_key else None
