"""Apply disclosure control to the mart tables: what `publish` writes to public.duckdb.

All count tables are protected together as one problem (`model.joint_problem`), so no
relation between tables (the same count published twice, the two calendars, ...) undoes a
suppression. A hidden cell is `value` NULL and `is_suppressed` true, nothing else: the file
does not say why a cell is hidden (a primary/secondary label told an attacker which cells
are the small ones).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import pandas as pd

from pipelines.disclosure.grid import dense_slices, slice_columns, slice_key
from pipelines.disclosure.model import TABLES, count_rows, joint_problem
from pipelines.disclosure.relations import KEYS
from pipelines.disclosure.suppression import PRIMARY, suppress

logger = logging.getLogger(__name__)

MEAN_MEASURE = "mean_score_pct"


def cell_keys(name: str, frame: pd.DataFrame) -> pd.Series:
    """A text key per row (the table's key columns joined), for the published-cell history."""
    parts = frame[KEYS[name]].astype("string").fillna("")
    if not len(frame):
        return pd.Series([], dtype="string")
    # Column-wise concatenation: a row-wise apply took seconds per publication at 1M.
    keys = parts.iloc[:, 0]
    for column in parts.columns[1:]:
        keys = keys + "|" + parts[column]
    return keys.astype(object)


def _per_cell(joint, size: int, known: dict[str, dict[str, int]] | None) -> np.ndarray:
    """`known[table][cell key]` laid out per cell of the joint problem (NaN where absent)."""
    out = np.full(size, np.nan)
    for name, frame in joint.frames.items():
        values = (known or {}).get(name)
        if not values or frame.empty:
            continue
        offset = joint.offsets[name]
        out[offset : offset + len(frame)] = (
            cell_keys(name, frame)
            .map(values)
            .astype("Float64")
            .to_numpy(dtype=np.float64, na_value=np.nan)
        )
    return out


def _still_left_out(
    joint, problem, left_out_before: dict[str, dict[str, int]] | None
) -> np.ndarray:
    """Cells of the slices the latest publication left out whose counts are all unchanged."""
    out = np.zeros(problem.size, dtype=bool)
    before = _per_cell(joint, problem.size, left_out_before)
    same = before == problem.values
    for name, frame in joint.frames.items():
        columns = slice_columns(name, frame)
        if frame.empty or not columns or name not in (left_out_before or {}):
            continue
        offset = joint.offsets[name]
        unchanged = pd.Series(same[offset : offset + len(frame)], index=frame.index)
        whole = unchanged.groupby([frame[c] for c in columns], dropna=False).transform("all")
        out[offset : offset + len(frame)] = whole.to_numpy()
    return out


def _slice_leaver(
    joint, problem, taken_out: np.ndarray
) -> Callable[[list[int]], np.ndarray | None]:
    """The `leave_out` callback for `suppress`: it marks slices in `taken_out` (in place)."""

    def leave_out(cells: list[int]) -> np.ndarray | None:
        """Take the slices of `cells` out of the publication (deterministic: the same data
        leaves out the same slices)."""
        before = taken_out.copy()
        for cell in cells:
            if taken_out[cell]:
                continue  # its slice is already out (two small cells of one slice)
            name = next(
                (
                    n
                    for n, f in joint.frames.items()
                    if joint.offsets[n] <= cell < joint.offsets[n] + len(f)
                ),
                None,
            )
            if name is None:
                return None  # a never-published residual: no slice to leave out
            frame, offset = joint.frames[name], joint.offsets[name]
            key = slice_key(name, frame, cell - offset)
            if key is None:
                return None  # a table that is one slice
            in_slice = np.ones(len(frame), dtype=bool)
            for column, value in zip(slice_columns(name, frame), key, strict=True):
                in_slice &= (frame[column] == value).to_numpy()
            taken_out[offset : offset + len(frame)] |= in_slice
            logger.warning(
                "%s slice %s left out: a small cell in it cannot be protected", name, key
            )
        problem.published[taken_out] = False
        return taken_out & ~before

    return leave_out


def _record_stats(stats: dict, joint, problem, status: np.ndarray, taken_out: np.ndarray) -> None:
    """Fill `stats` with the joint problem, its outcome and the slices left out."""
    stats["frames"] = joint.frames
    stats["left_out"] = {
        name: frame[taken_out[joint.offsets[name] : joint.offsets[name] + len(frame)]]
        for name, frame in joint.frames.items()
    }
    stats["problem"] = problem
    stats["status"] = status
    stats["joint"] = joint


def _published_tables(
    tables: dict[str, pd.DataFrame],
    joint,
    status: np.ndarray,
    taken_out: np.ndarray,
    threshold: int,
) -> dict[str, pd.DataFrame]:
    """Each table as published: left-out slices dropped, hidden cells NULL + is_suppressed."""
    out: dict[str, pd.DataFrame] = {}
    for name, frame in tables.items():
        if name not in KEYS:
            out[name] = frame
            continue
        offset = joint.offsets[name]
        cells = slice(offset, offset + len(joint.frames[name]))
        shown_slice = ~taken_out[cells]
        protected = joint.frames[name][shown_slice].copy()
        hidden = (status[cells] != 0)[shown_slice]
        protected["value"] = protected["value"].astype("Int64").mask(hidden)
        protected["is_suppressed"] = hidden
        logger.info(
            "%s: %d cells, %d hidden (%d small or moved)",
            name,
            len(protected),
            int(hidden.sum()),
            int((status[cells][shown_slice] == PRIMARY).sum()),
        )
        if name == "reintegration_statistics":
            protected = _with_means(frame, protected, threshold)
        out[name] = protected
    return out


def protect_tables(
    tables: dict[str, pd.DataFrame],
    threshold: int,
    previous: dict[str, dict[str, int]] | None = None,
    *,
    kept_hidden: dict[str, dict[str, int]] | None = None,
    left_out_before: dict[str, dict[str, int]] | None = None,
    stats: dict | None = None,
) -> dict[str, pd.DataFrame]:
    """Protect every count table in `tables` (keys are table kinds) jointly; others pass
    through. `previous[name][cell key]` is the value last shown for a cell (any earlier
    publication): a cell that moved by 1..threshold-1 since is hidden too, and its range must
    include that value. `kept_hidden[name][cell key]` is the value of a cell the latest
    publication hid: while unchanged it stays hidden (and protected like a small cell from
    exact recovery). A slice holding a small cell whose range stays too narrow with every
    cell around it hidden is left out of the publication (its cells stay in the problem as
    unknowns, as they are to an attacker who reads `published_grid`); it stays out while
    every count in it equals `left_out_before[name][cell key]` (the latest publication left
    it out). Output rows are in key order (same data, same file)."""
    counted = {
        name: dense_slices(name, frame, threshold) for name, frame in tables.items() if name in KEYS
    }
    joint = joint_problem(counted)
    problem = joint.problem
    problem.check()
    references = _per_cell(joint, problem.size, previous)
    hidden_before = _per_cell(joint, problem.size, kept_hidden)
    kept = problem.published & (hidden_before == problem.values)
    taken_out = _still_left_out(joint, problem, left_out_before)
    problem.published[taken_out] = False

    leave_out = _slice_leaver(joint, problem, taken_out)
    status = suppress(
        problem,
        threshold,
        references=references,
        kept=kept,
        leave_out=leave_out,
        left_out=taken_out.copy(),
    )
    if stats is not None:
        _record_stats(stats, joint, problem, status, taken_out)
    return _published_tables(tables, joint, status, taken_out, threshold)


def _with_means(frame: pd.DataFrame, counts: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """reintegration_statistics: each mean published only where its cell's survivors_scored
    is published and at least `threshold`, else withheld the same way (NULL + is_suppressed)."""
    means = frame[frame[TABLES["reintegration_statistics"].measure_column] == MEAN_MEASURE].copy()
    cell = [c for c in KEYS["reintegration_statistics"] if c != "measure"]
    scored = counts.loc[counts["measure"] == "survivors_scored", [*cell, "value"]].rename(
        columns={"value": "scored"}
    )
    means = means.merge(scored, on=cell, how="inner", validate="one_to_one")
    publish = means["scored"].notna() & (means["scored"] >= threshold)
    means["value"] = means["value"].astype("Int64").where(publish)
    means["is_suppressed"] = ~publish.to_numpy()
    out = pd.concat([counts, means.drop(columns="scored")], ignore_index=True)
    order = out[KEYS["reintegration_statistics"]].astype("string").fillna("")
    return out.iloc[
        np.lexsort([order[k].to_numpy() for k in reversed(KEYS["reintegration_statistics"])])
    ].reset_index(drop=True)


def protect_table(frame: pd.DataFrame, kind: str, threshold: int) -> pd.DataFrame:
    """One table on its own (tests and tools): `frame` with `value` NULL where hidden and
    `is_suppressed`. Publication protects all tables together (`protect_tables`)."""
    return protect_tables({kind: frame}, threshold)[kind]


__all__ = ["cell_keys", "count_rows", "protect_table", "protect_tables"]
