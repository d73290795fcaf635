"""Attacks on the birth-year encodings, as a holder of outbound batches without the key runs them.

The attacker sees batches only (any number of them, every agency's). Clear in every row:
`age_band` at `contact_date` and `birth_precision`, which bound each record's birth year to
a few calendar years (`band_years`). The attacks add what the birth tokens give:

1. Chaining (`chain_years`): the neighbour lists of `pahichan-enc-1` were written in year
   order (yob-2 .. yob+2), so consecutive entries are consecutive years. Linking them joins
   every year token into one ladder; the clear bands then fix the ladder's one free shift.
2. Class anchoring (`anchor_classes`): records that share a token which stands for one
   exact year (or one exact date) were all born that year, so the class's year lies in the
   intersection of all its members' band years. Over several contact years the bands of a
   class straddle band edges and the intersection shrinks to one year. This needs no
   order at all: sorting the lists would not stop it.
3. Window anchoring (`window_years`): for the keyed windows of `pahichan-enc-2` the attacker
   knows the window width (public code) but not the keyed offset. A window token's window
   must overlap the band years of every record carrying it; all windows of one grid share
   the offset modulo the width. Solving both pins windows to calendar years, and a record's
   years are then its band years intersected with each of its windows.

Each function returns, per record, an inclusive (lowest, highest) year range; a record is
"recovered" when the range is one year and that year is right.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from itertools import pairwise

import numpy as np
import pyarrow as pa

from schemas.vocabularies import _AGE_BAND_LOWER, AGE_BANDS

Ranges = np.ndarray  # shape (n, 2): lowest and highest possible birth year per record


def band_years(table: pa.Table) -> Ranges:
    """Birth years allowed by the clear age band at the clear contact date.

    Age from a birth date is the age on the contact day, so the birth year is one of
    hi + 2 years; from a stated age (or a bare year) it is contact year - age exactly.
    Records without a band get an unbounded range.
    """
    upper = dict(zip(AGE_BANDS, [*(lower - 1 for lower in _AGE_BAND_LOWER[1:]), 120], strict=True))
    lower = dict(zip(AGE_BANDS, _AGE_BAND_LOWER, strict=True))
    bands = table["age_band"].to_pylist()
    years = [d.year for d in table["contact_date"].to_pylist()]
    precisions = table["birth_precision"].to_pylist()
    out = np.empty((len(bands), 2), dtype=np.int64)
    for i, (band, year, precision) in enumerate(zip(bands, years, precisions, strict=True)):
        if band is None:
            out[i] = (-10_000, 10_000)
            continue
        out[i] = (year - upper[band] - (1 if precision == "day" else 0), year - lower[band])
    return out


def _intersect(a: Ranges, b: Ranges) -> Ranges:
    return np.stack([np.maximum(a[:, 0], b[:, 0]), np.minimum(a[:, 1], b[:, 1])], axis=1)


def anchor_classes(ranges: Ranges, classes: Sequence[object | None]) -> Ranges:
    """Intersect the ranges of all records in one class (same exact-year or exact-date token)."""
    low: dict[object, int] = {}
    high: dict[object, int] = {}
    for (lo, hi), key in zip(ranges, classes, strict=True):
        if key is None:
            continue
        low[key] = max(low.get(key, lo), lo)
        high[key] = min(high.get(key, hi), hi)
    out = ranges.copy()
    for i, key in enumerate(classes):
        if key is not None:
            out[i] = (low[key], high[key])
    return _intersect(ranges, out)


def chain_years(ranges: Ranges, year_lists: Sequence[Sequence[str]]) -> Ranges:
    """Order year tokens by the lists they appear in (entry i+1 = entry i + 1 year), then fix
    each connected ladder's shift with the band years of every record on it."""
    edges: dict[str, set[tuple[str, int]]] = defaultdict(set)
    for tokens in year_lists:
        for left, right in pairwise(tokens):
            edges[left].add((right, 1))
            edges[right].add((left, -1))
    offset: dict[str, tuple[int, int]] = {}  # token -> (ladder, position on it)
    for ladder, start in enumerate(list(edges)):
        if start in offset:
            continue
        offset[start] = (ladder, 0)
        queue = deque([start])
        while queue:
            token = queue.popleft()
            for other, step in edges[token]:
                if other not in offset:
                    offset[other] = (ladder, offset[token][1] + step)
                    queue.append(other)
    # A record's own year is the middle entry of its +-2 list (what the chain is built from).
    positions = [offset.get(tokens[len(tokens) // 2]) if tokens else None for tokens in year_lists]
    shift_low: dict[int, int] = {}
    shift_high: dict[int, int] = {}
    for (lo, hi), place in zip(ranges, positions, strict=True):
        if place is None:
            continue
        ladder, position = place
        shift_low[ladder] = max(shift_low.get(ladder, lo - position), lo - position)
        shift_high[ladder] = min(shift_high.get(ladder, hi - position), hi - position)
    out = ranges.copy()
    for i, place in enumerate(positions):
        if place is not None:
            ladder, position = place
            out[i] = (shift_low[ladder] + position, shift_high[ladder] + position)
    return _intersect(ranges, out)


def window_years(ranges: Ranges, window_lists: Sequence[Sequence[str]], width: int) -> Ranges:
    """Pin keyed windows of a known width to calendar years, then cut each record's range.

    Grid g is entry g of each record's window list. A window starting at year s covers
    s .. s + width - 1 and must overlap the range of every record carrying its token:
    s in [max(lowest) - width + 1, min(highest)]. All starts of one grid are congruent
    modulo the width; the residues every window of the grid allows are kept.
    """
    grids = max((len(tokens) for tokens in window_lists), default=0)
    out = ranges.copy()
    for grid in range(grids):
        start_low: dict[str, int] = {}
        start_high: dict[str, int] = {}
        for (lo, hi), tokens in zip(ranges, window_lists, strict=True):
            if len(tokens) <= grid:
                continue
            token = tokens[grid]
            start_low[token] = max(start_low.get(token, lo - width + 1), lo - width + 1)
            start_high[token] = min(start_high.get(token, hi), hi)
        residues = set(range(width))
        for token, low in start_low.items():
            high = start_high[token]
            if high - low + 1 < width:
                residues &= {s % width for s in range(low, high + 1)}
        for i, tokens in enumerate(window_lists):
            if len(tokens) <= grid:
                continue
            token = tokens[grid]
            starts = [
                s for s in range(start_low[token], start_high[token] + 1) if s % width in residues
            ]
            if starts:
                cover = (min(starts), max(starts) + width - 1)
                out[i] = (max(out[i][0], cover[0]), min(out[i][1], cover[1]))
    return out


def fixpoint(ranges: Ranges, steps: Sequence[Callable[[Ranges], Ranges]]) -> Ranges:
    """Apply the steps in turn until no range narrows: each pinned record tightens the
    windows and classes it belongs to, which may pin others."""
    while True:
        narrowed = ranges
        for step in steps:
            narrowed = step(narrowed)
        if (narrowed == ranges).all():
            return narrowed
        ranges = narrowed


def recovered(ranges: Ranges, truth: Sequence[int]) -> float:
    """Share of records whose range is exactly their true (encoded) birth year."""
    truth_array = np.asarray(truth)
    exact = (ranges[:, 0] == ranges[:, 1]) & (ranges[:, 0] == truth_array)
    return float(exact.mean())
