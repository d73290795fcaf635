"""Which slices of the marts are published at all: sparse slices are left out whole.

A slice is one table x place level x period type x breakdown dimension (e.g. survivor counts
by local level and year), as `published_grid` in public.duckdb lists them. Where most of a
slice's non-zero cells hold 1..k-1 people (a breakdown of a few hundred survivors over 753
local levels), publishing it would show
almost nothing but hidden cells, and every hidden cell links the disclosure problem across
places, periods and tables: on the 2,000-person demo such slices made one linked group of
thousands of hidden cells whose LP audit did not finish in 20 minutes. Leaving a sparse slice
out says only that it is sparse (a property of many cells, not of a person); its cells then
count as never published in the relations of the cells that are.
"""

from __future__ import annotations

import pandas as pd

# A slice is left out when more than this share of its non-zero cells are 1..k-1.
MAX_SMALL_SHARE = 0.5


def slice_columns(name: str, frame: pd.DataFrame) -> list[str]:
    """The columns naming a slice: place level, period type and breakdown dimension, as the
    published file's `published_grid` lists them (so a reader, or an attacker, knows that a
    row absent from a listed slice is a zero and one of an unlisted slice is unknown).
    Tables without place level and period type (data quality) are one slice, never left out.
    """
    if not {"geo_level", "period_type"} <= set(frame.columns):
        return []
    return ["geo_level", "period_type", *(["dimension"] if "dimension" in frame.columns else [])]


_PARENT_LEVEL = {"province": "national", "district": "province", "local_level": "district"}
_PARENT_PERIOD = {"month": "quarter", "quarter": "year", "bs_month": "bs_fiscal_year"}


def _parent_slices(row: dict[str, object]) -> list[dict[str, object]]:
    """The slices whose cells are the totals of this slice's cells (place, group, period)."""
    parents = []
    if row.get("geo_level") in _PARENT_LEVEL:
        parents.append({**row, "geo_level": _PARENT_LEVEL[row["geo_level"]]})
    if row.get("dimension") not in (None, "all"):
        parents.append({**row, "dimension": "all"})
    if row.get("period_type") in _PARENT_PERIOD:
        parents.append({**row, "period_type": _PARENT_PERIOD[row["period_type"]]})
    return parents


def slice_key(name: str, frame: pd.DataFrame, row: int) -> tuple | None:
    """The slice of row `row` of `frame` (None for tables that are one slice)."""
    columns = slice_columns(name, frame)
    return tuple(frame.iloc[row][c] for c in columns) if columns else None


def dense_slices(
    name: str, frame: pd.DataFrame, threshold: int, left_out: set[tuple] = frozenset()
) -> pd.DataFrame:
    """`frame` without its sparse slices, nor the slices in `left_out` (rows of the others,
    order kept).

    A slice is also left out when a slice holding its totals is (a district slice without
    its province slice): every published child then has its published or hidden total, so
    the relations stay the exact sums the protector and an attacker both write down.
    """
    columns = slice_columns(name, frame)
    if frame.empty or not columns:
        return frame
    value = frame["value"]
    by_slice = [frame[c] for c in columns]
    small = ((value >= 1) & (value < threshold)).groupby(by_slice, dropna=False).sum()
    nonzero = (value > 0).groupby(by_slice, dropna=False).sum()
    dense = small <= MAX_SMALL_SHARE * nonzero
    kept = {
        key
        for key, ok in dense.items()
        if ok and (key if isinstance(key, tuple) else (key,)) not in left_out
    }
    present = set(dense.index)
    changed = True
    while changed:  # top-down: a slice goes when any present parent slice went
        changed = False
        for key in sorted(kept, key=str):
            row = dict(zip(columns, key if isinstance(key, tuple) else (key,), strict=True))
            for parent in _parent_slices(row):
                parent_key = tuple(parent[c] for c in columns)
                parent_key = parent_key if len(columns) > 1 else parent_key[0]
                if parent_key in present and parent_key not in kept:
                    kept.discard(key)
                    changed = True
                    break
    keys = pd.MultiIndex.from_frame(frame[columns]) if len(columns) > 1 else frame[columns[0]]
    return frame[keys.isin(list(kept))]
