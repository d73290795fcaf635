"""Generalisation of one analyst column to one level of its hierarchy (global recoding).

The hierarchies and their labels are stated in `pipelines.anonymity.quasi_identifiers`;
this module only applies them. NULL means coarsened away (or unknown in the warehouse).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from pipelines.anonymity.quasi_identifiers import (
    AGE_MERGED,
    AGE_MINOR_ADULT,
    EXPLOITATION_GROUPS,
    GULF_COUNTRIES,
    INTERNAL,
)


def _period(dates: pd.Series, level: int) -> pd.Series:
    stamps = pd.to_datetime(dates)
    year = stamps.dt.year.astype("Int64").astype("string")
    if level == 0:
        values = stamps.dt.strftime("%Y-%m").astype("string")
    elif level == 1:
        values = year + "-Q" + stamps.dt.quarter.astype("Int64").astype("string")
    else:
        values = year
    return values.astype(object).where(stamps.notna(), None)


def _mapped(values: pd.Series, mapping: Mapping[str, str]) -> pd.Series:
    return values.map(mapping).astype(object).where(values.notna(), None)


def _destination_region(values: pd.Series) -> pd.Series:
    def region(code: object) -> object:
        if code is None or code != code:
            return None
        if code in (INTERNAL, "IN"):
            return code
        return "gulf" if code in GULF_COUNTRIES else "other_abroad"

    return values.map(region).astype(object)


def generalise(column: str, dimension: str, values: pd.Series, level: int) -> pd.Series:
    """`values` of `column` at `level` of `dimension` (NULL = coarsened away).

    Each distinct value is generalised once and the result spread back: a million episodes
    hold a few thousand distinct dates and codes, and formatting every date (or mapping every
    code in Python) took about a quarter of the analyst file's anonymisation at 1M records.
    """
    codes, distinct = pd.factorize(values, use_na_sentinel=False)
    generalised = _generalise(column, dimension, pd.Series(distinct), level)
    return pd.Series(generalised.to_numpy(dtype=object)[codes], index=values.index, dtype=object)


def _generalise(column: str, dimension: str, values: pd.Series, level: int) -> pd.Series:
    """`generalise` value by value (every branch maps each value on its own)."""
    nothing = pd.Series([None] * len(values), index=values.index, dtype=object)
    if level == 0 and dimension != "period":
        return values.astype(object).where(values.notna(), None)
    if dimension == "period":
        return _period(values, level)
    if dimension == "geography":
        return values.astype(object) if (level == 1 and column == "province_code") else nothing
    if dimension == "destination":
        if level == 1:
            return _destination_region(values)
        if level == 2:
            return values.map(
                lambda c: None if c is None or c != c else ("NP" if c == INTERNAL else "abroad")
            ).astype(object)
        return nothing
    if dimension == "age":
        return {1: _mapped(values, AGE_MERGED), 2: _mapped(values, AGE_MINOR_ADULT)}.get(
            level, nothing
        )
    if dimension == "exploitation":
        return _mapped(values, EXPLOITATION_GROUPS) if level == 1 else nothing
    return nothing  # agency, sex: level 1 = suppressed
