"""Apply disclosure control to the mart tables: what `publish` writes to public.duckdb.

All count tables are protected together as one problem (`model.joint_problem`), so no
relation between tables (the same count published twice, the two calendars, ...) undoes a
suppression. A hidden cell is `value` NULL and `is_suppressed` true, nothing else: the file
does not say why a cell is hidden (a primary/secondary label told an attacker which cells
are the small ones).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from pipelines.disclosure.grid import dense_slices, slice_key
from pipelines.disclosure.model import TABLES, count_rows, joint_problem
from pipelines.disclosure.relations import KEYS
from pipelines.disclosure.suppression import PRIMARY, CannotWiden, suppress

logger = logging.getLogger(__name__)

MEAN_MEASURE = "mean_score_pct"
# Rounds of leaving out a slice whose small cell cannot be protected, before giving up.
MAX_LEFT_OUT_ROUNDS = 20


def cell_keys(name: str, frame: pd.DataFrame) -> pd.Series:
    """A text key per row (the table's key columns joined), for the published-cell history."""
    parts = frame[KEYS[name]].astype("string").fillna("")
    return parts.apply(lambda row: "|".join(row), axis=1) if len(frame) else pd.Series(
        [], dtype="string")


def _per_cell(joint, size: int, known: dict[str, dict[str, int]] | None) -> np.ndarray:
    """`known[table][cell key]` laid out per cell of the joint problem (NaN where absent)."""
    out = np.full(size, np.nan)
    for name, frame in joint.frames.items():
        values = (known or {}).get(name)
        if not values or frame.empty:
            continue
        offset = joint.offsets[name]
        out[offset:offset + len(frame)] = cell_keys(name, frame).map(values).astype(
            "Float64").to_numpy(dtype=np.float64, na_value=np.nan)
    return out


def protect_tables(
    tables: dict[str, pd.DataFrame],
    threshold: int,
    previous: dict[str, dict[str, int]] | None = None,
    *,
    kept_hidden: dict[str, dict[str, int]] | None = None,
    stats: dict | None = None,
) -> dict[str, pd.DataFrame]:
    """Protect every count table in `tables` (keys are table kinds) jointly; others pass
    through. `previous[name][cell key]` is the value last shown for a cell (any earlier
    publication): a cell that moved by 1..threshold-1 since is hidden too, and its range must
    include that value. `kept_hidden[name][cell key]` is the value of a cell the latest
    publication hid: while unchanged it stays hidden (and protected like a small cell from
    exact recovery). Output rows are in key order (same data, same file)."""
    left_out: dict[str, set[tuple]] = {}
    for _ in range(MAX_LEFT_OUT_ROUNDS):
        counted = {
            name: dense_slices(name, frame, threshold, left_out.get(name, set()))
            for name, frame in tables.items()
            if name in KEYS
        }
        joint = joint_problem(counted)
        problem = joint.problem
        problem.check()
        references = _per_cell(joint, problem.size, previous)
        hidden_before = _per_cell(joint, problem.size, kept_hidden)
        kept = problem.published & (hidden_before == problem.values)
        try:
            status = suppress(problem, threshold, references=references, kept=kept)
            break
        except CannotWiden as stuck:
            # Hidden small cells that stay too narrow with everything around them hidden:
            # their slices are left out (deterministic: the same data leaves out the same).
            for cell in stuck.cells:
                for name, frame in joint.frames.items():
                    offset = joint.offsets[name]
                    if offset <= cell < offset + len(frame):
                        key = slice_key(name, frame, cell - offset)
                        if key is None:
                            raise
                        left_out.setdefault(name, set()).add(key)
                        logger.warning("%s slice %s left out: a small cell in it cannot be "
                                       "protected", name, key)  # fmt: skip
    else:
        raise RuntimeError("disclosure control did not converge")
    if stats is not None:
        stats["frames"] = joint.frames
        stats["problem"] = problem
        stats["status"] = status
        stats["joint"] = joint
    out: dict[str, pd.DataFrame] = {}
    for name, frame in tables.items():
        if name not in KEYS:
            out[name] = frame
            continue
        protected = joint.frames[name].copy()
        offset = joint.offsets[name]
        hidden = status[offset:offset + len(protected)] != 0
        protected["value"] = protected["value"].astype("Int64").mask(hidden)
        protected["is_suppressed"] = hidden
        logger.info("%s: %d cells, %d hidden (%d small or moved)", name, len(protected),
                    int(hidden.sum()),
                    int((status[offset:offset + len(protected)] == PRIMARY).sum()))
        if name == "reintegration_statistics":
            protected = _with_means(frame, protected, threshold)
        out[name] = protected
    return out


def _with_means(frame: pd.DataFrame, counts: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """reintegration_statistics: each mean published only where its cell's survivors_scored
    is published and at least `threshold`, else withheld the same way (NULL + is_suppressed)."""
    means = frame[frame[TABLES["reintegration_statistics"].measure_column]
                  == MEAN_MEASURE].copy()
    cell = [c for c in KEYS["reintegration_statistics"] if c != "measure"]
    scored = counts.loc[counts["measure"] == "survivors_scored", [*cell, "value"]].rename(
        columns={"value": "scored"})
    means = means.merge(scored, on=cell, how="inner", validate="one_to_one")
    publish = means["scored"].notna() & (means["scored"] >= threshold)
    means["value"] = means["value"].astype("Int64").where(publish)
    means["is_suppressed"] = ~publish.to_numpy()
    out = pd.concat([counts, means.drop(columns="scored")], ignore_index=True)
    order = out[KEYS["reintegration_statistics"]].astype("string").fillna("")
    return out.iloc[np.lexsort([order[k].to_numpy() for k in
                                reversed(KEYS["reintegration_statistics"])])].reset_index(
        drop=True)


def protect_table(frame: pd.DataFrame, kind: str, threshold: int) -> pd.DataFrame:
    """One table on its own (tests and tools): `frame` with `value` NULL where hidden and
    `is_suppressed`. Publication protects all tables together (`protect_tables`)."""
    return protect_tables({kind: frame}, threshold)[kind]


__all__ = ["cell_keys", "count_rows", "protect_table", "protect_tables"]
