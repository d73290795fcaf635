"""Declarative relation model of everything public.duckdb publishes, and the joint problem.

Every count the publication holds is declared here: per table, its key columns and, per
measure, how it behaves over time (`additive`: counts events or cohorts, so periods add up;
`unique`: counts distinct survivors, so a period holds at least each period inside it and at
most their sum; `none`: no time relation) and which other counts bound it. Cross-table
identities (the same count published twice) and period identities are declared as data too.
`joint_problem` derives every relation from these declarations (plus the per-table sums of
`relations.problem_for`: geography, categories, bands, calendar parents, quality sums), for
all tables at once: the protector and the auditor then see one problem, so a suppression in
one table cannot be undone through another.

`tests/pipelines/test_disclosure_model.py` fails when a mart gains a measure that is not
declared, or when two measures turn out equal in the data without being declared equal.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipelines.disclosure.problem import Problem
from pipelines.disclosure.relations import KEYS, problem_for, row_tuples

ADDITIVE, UNIQUE, NONE = "additive", "unique", "none"
# The top of each calendar: both partition the same days, so for an additive count the sum
# over calendar years equals the sum over Bikram Sambat fiscal years (a virtual all-time cell).
TOP_PERIODS = ("year", "bs_fiscal_year")


@dataclass(frozen=True)
class Bound:
    """This measure <= `measure` of `table` at the same period and place; `fixed` pins other
    key columns (e.g. dimension `all`); `dimensions` limits it to rows of these dimensions."""

    table: str
    measure: str
    fixed: tuple[tuple[str, str], ...] = ()
    dimensions: tuple[str, ...] | None = None


@dataclass(frozen=True)
class MeasureModel:
    over_time: str
    at_most: tuple[Bound, ...] = ()


@dataclass(frozen=True)
class TableModel:
    measure_column: str
    measures: dict[str, MeasureModel] = field(default_factory=dict)


_ALL = (("dimension", "all"), ("category", "all"))
TABLES: dict[str, TableModel] = {
    "survivor_statistics": TableModel(
        "measure",
        {
            "records": MeasureModel(ADDITIVE),
            "new_survivors": MeasureModel(ADDITIVE, (Bound("survivor_statistics", "survivors"),)),
            "survivors": MeasureModel(UNIQUE, (Bound("survivor_statistics", "records"),)),
            "returning_survivors": MeasureModel(
                UNIQUE, (Bound("survivor_statistics", "survivors", dimensions=("all", "sex")),)
            ),
        },
    ),
    "service_statistics": TableModel(
        "measure",
        {
            "services_given": MeasureModel(
                ADDITIVE, (Bound("survivor_statistics", "records", _ALL),)
            ),
            "survivors_served": MeasureModel(
                UNIQUE,
                (
                    Bound("service_statistics", "services_given"),
                    Bound("survivor_statistics", "survivors", _ALL),
                ),
            ),
        },
    ),
    "referral_statistics": TableModel(
        "measure",
        {
            "referrals": MeasureModel(ADDITIVE),
            "referrals_confirmed": MeasureModel(
                ADDITIVE, (Bound("referral_statistics", "referrals"),)
            ),
        },
    ),
    "quality_statistics": TableModel(
        "metric",
        {
            metric: MeasureModel(ADDITIVE)
            for metric in (
                "batches_received",
                "batches_accepted",
                "batches_rejected",
                "rows_received",
                "rows_loaded",
                "rows_quarantined",
                "auto_links",
                "review_pairs",
            )
        },
    ),
    "quarantine_reasons": TableModel("rule", {}),  # one count per (source, rule), no time
    "reintegration_statistics": TableModel(
        "measure",
        {
            # Latest follow-up per survivor and period: not additive over time.
            "survivors_scored": MeasureModel(NONE),
            **{
                band: MeasureModel(NONE)
                for band in (
                    "score_band_0_25",
                    "score_band_25_50",
                    "score_band_50_75",
                    "score_band_75_100",
                )
            },
            # A mean, not a count: published only where its survivors_scored is (tables.py).
            "mean_score_pct": MeasureModel(NONE),
        },
    ),
    "followup_coverage": TableModel(
        "measure",
        {
            "survivors_first_contact": MeasureModel(ADDITIVE),
            "followed_within_12m": MeasureModel(
                ADDITIVE, (Bound("followup_coverage", "survivors_first_contact"),)
            ),
            "followed_within_6m": MeasureModel(
                ADDITIVE, (Bound("followup_coverage", "followed_within_12m"),)
            ),
        },
    ),
}
NON_COUNT_MEASURES = {("reintegration_statistics", "mean_score_pct")}

# The same count published in two tables: (table, measure, fixed keys) pairs, matched on the
# key columns both tables have.
SAME_COUNT: tuple[tuple[tuple[str, str, tuple], tuple[str, str, tuple]], ...] = (
    # Both count survivors by the period and province of their first-ever contact.
    (
        ("followup_coverage", "survivors_first_contact", ()),
        ("survivor_statistics", "new_survivors", _ALL),
    ),
)
# Equal in the first period of each period type (nobody can have been seen before it).
FIRST_PERIOD_SAME_COUNT: tuple[tuple[str, str, str], ...] = (
    ("survivor_statistics", "survivors", "new_survivors"),
)


@dataclass
class JointProblem:
    """All published count tables as one Problem.

    `frames[name]` is the table as given (sorted by its keys), whose row i is cell
    `offsets[name] + i`; later cells are virtual (residuals, all-time totals).
    """

    problem: Problem
    frames: dict[str, pd.DataFrame]
    offsets: dict[str, int]


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Rows in key order, so cell numbers (and every tie-break) do not depend on SQL order."""
    order = frame[keys].astype("string").fillna("")
    return frame.iloc[np.lexsort([order[k].to_numpy() for k in reversed(keys)])].reset_index(
        drop=True
    )


def count_rows(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of `frame` that are counts (means are protected separately)."""
    column = TABLES[name].measure_column
    skip = {m for t, m in NON_COUNT_MEASURES if t == name}
    return frame[~frame[column].isin(skip)] if skip else frame


def _stacked_tables(
    tables: dict[str, pd.DataFrame],
) -> tuple[
    dict[str, pd.DataFrame],
    dict[str, int],
    list[np.ndarray],
    list[np.ndarray],
    list[np.ndarray],
    int,
]:
    """Each table's own problem placed one after another: frames, offsets, values,
    published flags, relations and the number of cells so far."""
    values: list[np.ndarray] = []
    published: list[np.ndarray] = []
    relations: list[np.ndarray] = []
    frames: dict[str, pd.DataFrame] = {}
    offsets: dict[str, int] = {}
    size = 0
    for name in sorted(tables):
        frame = count_rows(name, tables[name]).reset_index(drop=True)
        frame = _sorted(frame, KEYS[name])
        frames[name] = frame
        if frame.empty:
            offsets[name] = size
            continue
        sub = problem_for(name, frame)
        offsets[name] = size
        # Table cells first (positions 0..n-1 of `sub`), its residuals after them.
        values.append(sub.values)
        published.append(sub.published)
        relations += [r + size for r in sub.relations]
        size += sub.size
    return frames, offsets, values, published, relations, size


def _cell_index(
    frames: dict[str, pd.DataFrame], offsets: dict[str, int]
) -> dict[str, dict[tuple, int]]:
    """`index[name][key values as text]` is that row's cell number in the joint problem."""
    return {
        name: {
            k: i + offsets[name]
            for i, k in enumerate(row_tuples(frames[name][KEYS[name]].astype("string")))
        }
        for name in frames
    }


def _all_time_relations(
    frames: dict[str, pd.DataFrame],
    index: dict[str, dict[tuple, int]],
    value_of: np.ndarray,
    size: int,
) -> tuple[list[np.ndarray], list[int]]:
    """Relations and the values of the virtual all-time total cells (numbered from `size`)."""
    relations: list[np.ndarray] = []
    extra_values: list[int] = []

    def virtual(value: int) -> int:
        extra_values.append(int(value))
        return size + len(extra_values) - 1

    # All-time totals: sum over calendar years == sum over fiscal years.
    for name, frame in frames.items():
        keys = KEYS[name]
        model = TABLES[name]
        if "period_type" not in keys or frame.empty:
            continue
        additive = [m for m, spec in model.measures.items() if spec.over_time == ADDITIVE]
        rows = frame[
            frame["period_type"].isin(TOP_PERIODS) & frame[model.measure_column].isin(additive)
        ]
        rest = [k for k in keys if k not in ("period_type", "period")]
        groups: dict[tuple, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        for key in row_tuples(rows[keys].astype("string")):
            row = dict(zip(keys, key, strict=True))
            groups[tuple(row[k] for k in rest)][row["period_type"]].append(index[name][key])
        for _, systems in sorted(groups.items()):
            if len(systems) < 2:
                continue
            total = int(value_of[systems[TOP_PERIODS[0]]].sum())
            cell = virtual(total)
            for period_type in TOP_PERIODS:
                relations.append(np.asarray([cell, *systems[period_type]], dtype=np.int64))
    return relations, extra_values


def _same_count_relations(
    frames: dict[str, pd.DataFrame], index: dict[str, dict[tuple, int]]
) -> list[np.ndarray]:
    """Equalities between the cells that publish the same count in two tables."""
    relations: list[np.ndarray] = []
    for (left, left_measure, left_fixed), (right, right_measure, right_fixed) in SAME_COUNT:
        if left not in frames or right not in frames:
            continue
        shared = [k for k in KEYS[left] if k in KEYS[right] and k != "measure"]
        column = TABLES[left].measure_column
        rows = frames[left][frames[left][column] == left_measure]
        for key in row_tuples(rows[KEYS[left]].astype("string")):
            row = dict(zip(KEYS[left], key, strict=True))
            if any(row.get(k) != v for k, v in left_fixed):
                continue
            other = {**{k: row[k] for k in shared}, **dict(right_fixed), "measure": right_measure}
            other_cell = index[right].get(tuple(other.get(k) for k in KEYS[right]))
            if other_cell is None:
                continue  # its slice is not published (`grid.dense_slices`): no equation
            relations.append(np.asarray([index[left][key], other_cell], dtype=np.int64))
    return relations


def _first_period_relations(
    frames: dict[str, pd.DataFrame], index: dict[str, dict[tuple, int]]
) -> list[np.ndarray]:
    """Equalities between measures that agree in the first period of each period type."""
    relations: list[np.ndarray] = []
    for name, measure, equal_to in FIRST_PERIOD_SAME_COUNT:
        frame = frames.get(name)
        if frame is None or frame.empty:
            continue
        first = frame.groupby("period_type")["period"].min()
        rows = frame[
            (frame["measure"] == measure) & (frame["period"] == frame["period_type"].map(first))
        ]
        for key in row_tuples(rows[KEYS[name]].astype("string")):
            row = dict(zip(KEYS[name], key, strict=True))
            other = index[name].get(tuple({**row, "measure": equal_to}[k] for k in KEYS[name]))
            if other is None:
                continue  # its slice is not published
            relations.append(np.asarray([index[name][key], other], dtype=np.int64))
    return relations


def joint_problem(tables: dict[str, pd.DataFrame]) -> JointProblem:
    """One Problem for every count table in `tables` (kinds as in `KEYS`), with every relation
    the declarations imply."""
    frames, offsets, values, published, relations, size = _stacked_tables(tables)
    index = _cell_index(frames, offsets)
    value_of = np.concatenate(values) if values else np.zeros(0, dtype=np.int64)
    all_time, extra_values = _all_time_relations(frames, index, value_of, size)
    relations += all_time
    # The same count in two tables.
    relations += _same_count_relations(frames, index)
    # Period identities in the first period of each period type.
    relations += _first_period_relations(frames, index)

    bounds = _bounds(frames, index)
    all_values = np.concatenate([value_of, np.asarray(extra_values, dtype=np.int64)])
    all_published = (
        np.concatenate([*published, np.zeros(len(extra_values), dtype=bool)])
        if published
        else np.zeros(len(extra_values), dtype=bool)
    )
    problem = Problem(all_values, all_published, relations, bounds)
    return JointProblem(problem, frames, offsets)


def _bounds(
    frames: dict[str, pd.DataFrame], index: dict[str, dict[tuple, int]]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Inequalities sum(small) <= sum(large): declared orderings between measures, and for
    `unique` measures, period >= each period inside it and <= their sum."""
    from pipelines.disclosure.relations import parent_period

    bounds: list[tuple[np.ndarray, np.ndarray]] = []
    for name, frame in frames.items():
        if frame.empty:
            continue
        keys = KEYS[name]
        model = TABLES[name]
        key_rows = frame[keys].astype("string")
        for key in row_tuples(key_rows):
            row = dict(zip(keys, key, strict=True))
            spec = model.measures.get(row.get(model.measure_column, ""))
            if spec is None:
                continue
            for bound in spec.at_most:
                if bound.dimensions is not None and row.get("dimension") not in bound.dimensions:
                    continue
                if bound.table not in index:
                    continue
                other = {**row, **dict(bound.fixed), "measure": bound.measure}
                cell = index[bound.table].get(tuple(other.get(k) for k in KEYS[bound.table]))
                if cell is None:
                    # Both count the same people or events, so a non-zero smaller count has
                    # a non-zero larger one: absent means its slice is not published.
                    continue
                small = np.asarray([index[name][key]], dtype=np.int64)
                large = np.asarray([cell], dtype=np.int64)
                bounds.append((small, large))
        if "period_type" not in keys:
            continue
        unique = [m for m, s in model.measures.items() if s.over_time == UNIQUE]
        rows = frame[frame[model.measure_column].isin(unique)]
        if rows.empty:
            continue
        ptype, pperiod = parent_period(
            rows["period_type"].astype("string"), rows["period"].astype("string")
        )
        children: dict[int, list[int]] = defaultdict(list)
        for key, pt, pp in zip(
            row_tuples(rows[keys].astype("string")),
            ptype,
            pperiod,
            strict=True,
        ):
            if pd.isna(pt):
                continue
            row = dict(zip(keys, key, strict=True))
            parent = index[name].get(
                tuple({**row, "period_type": pt, "period": pp}[k] for k in keys)
            )
            if parent is None:
                continue  # the enclosing period's slice is not published
            children[parent].append(index[name][key])
        for parent, kids in sorted(children.items()):
            for kid in kids:
                bounds.append((np.asarray([kid]), np.asarray([parent])))
            bounds.append((np.asarray([parent]), np.asarray(kids)))
    return bounds
