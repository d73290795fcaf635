"""The relation model knows every published count and every equality the data shows."""

from __future__ import annotations

import itertools

import duckdb
import pytest

from pipelines.defs.core.build import build_core
from pipelines.defs.marts.build import MART_TABLES, build_marts
from pipelines.disclosure.model import SAME_COUNT, TABLES, joint_problem
from tests.pipelines.warehouse_fixtures import build_warehouse

SEEDS = (3, 11, 19)


def _marts(seed: int) -> dict:
    with duckdb.connect() as con:
        build_warehouse(con, seed=seed, people=60, span_days=300, followups=True)
        build_core(con)
        build_marts(con)
        return {
            t: con.execute(f"SELECT * FROM marts.{t}").df()  # noqa: S608
            for t in MART_TABLES
            if t != "geography"
        }


@pytest.fixture(scope="module")
def all_marts():
    return [_marts(seed) for seed in SEEDS]


@pytest.fixture(scope="module")
def marts(all_marts):
    return all_marts[0]


def test_every_published_measure_is_declared(marts):
    for name, frame in marts.items():
        assert name in TABLES, name
        column = TABLES[name].measure_column
        if TABLES[name].measures:
            assert set(frame[column]) <= set(TABLES[name].measures), name


def _equal_pairs(marts) -> set:
    """Pairs of (table, measure) equal on every shared (period, place) of dimension all."""
    series = {}
    for name, frame in marts.items():
        column = TABLES[name].measure_column
        if "geo_code" not in frame or "period_type" not in frame:
            continue
        frame = frame[frame.get("dimension", "all") == "all"] if "dimension" in frame else frame
        for measure, rows in frame.groupby(column):
            if measure == "mean_score_pct":
                continue
            series[(name, measure)] = {
                (p, q, g): v
                for p, q, g, v in rows[["period_type", "period", "geo_code", "value"]].itertuples(
                    index=False
                )
            }
    pairs = set()
    for (a, sa), (b, sb) in itertools.combinations(sorted(series.items()), 2):
        shared = set(sa) & set(sb)
        if len(shared) >= 5 and all(sa[k] == sb[k] for k in shared):
            pairs.add(frozenset({a, b}))
    return pairs


def test_measures_equal_in_the_data_are_declared(all_marts):
    """Two count measures equal on every shared cell in every seeded warehouse are the same
    count by definition: the model must declare it, or an attacker has an equation the
    protector lacks (equal in one small warehouse only is a coincidence of small data)."""
    declared = {frozenset({(a[0], a[1]), (b[0], b[1])}) for a, b in SAME_COUNT}
    # A pair declared as a bound (one never exceeds the other) is in the protector's LP
    # already; equal in synthetic data (each survivor served once a year) is not an identity.
    bounded = {
        frozenset({(name, measure), (bound.table, bound.measure)})
        for name, table in TABLES.items()
        for measure, spec in table.measures.items()
        for bound in spec.at_most
    }
    always = set.intersection(*[_equal_pairs(m) for m in all_marts])
    assert always - declared - bounded == set()
    assert declared <= always  # the declared identity does hold in the data


def test_a_slice_whose_small_cell_cannot_be_protected_is_left_out(marts, monkeypatch):
    """When every cell around a small hidden cell is hidden and its range is still too
    narrow, the protector leaves that cell's slice out of the publication instead of failing
    the publication; the slice's cells stay in the problem as never-published unknowns."""
    from pipelines.disclosure import tables as tables_module
    from pipelines.disclosure.suppression import suppress

    seen = {}

    def stuck_on_cell_zero(problem, threshold, **kwargs):
        taken = kwargs["leave_out"]([0])  # the first row of the first table
        seen["taken"], seen["published"] = taken, problem.published.copy()
        return suppress(problem, threshold, **kwargs)

    from pipelines.disclosure.grid import dense_slices
    from pipelines.disclosure.relations import KEYS

    joint = joint_problem({n: dense_slices(n, f, 5) for n, f in marts.items() if n in KEYS})
    first = next(n for n, f in joint.frames.items() if joint.offsets[n] == 0 and len(f))
    row = joint.frames[first].iloc[0]  # cell 0 of the joint problem
    monkeypatch.setattr(tables_module, "suppress", stuck_on_cell_zero)
    protected = tables_module.protect_tables(marts, 5)
    shown = protected[first]
    same_slice = (shown["geo_level"] == row["geo_level"]) & (
        shown["period_type"] == row["period_type"]
    )
    if "dimension" in shown:
        same_slice &= shown["dimension"] == row["dimension"]
    assert not same_slice.any()
    assert seen["taken"][0] and seen["taken"].sum() > 1  # the whole slice, not the cell
    assert not seen["published"][seen["taken"]].any()
    assert len(shown) == len(joint.frames[first]) - int(seen["taken"].sum())


def test_row_tuples_are_the_rows_itertuples_gives():
    """The relation builders key cells by these tuples; missing values stay pd.NA."""
    import pandas as pd

    from pipelines.disclosure.relations import row_tuples

    frame = pd.DataFrame({"a": ["x", None, "z"], "b": [1, 2, None], "c": ["p", "q", None]}).astype(
        "string"
    )
    assert row_tuples(frame) == list(frame.itertuples(index=False, name=None))
    assert row_tuples(frame)[1][0] is pd.NA
    assert row_tuples(frame.iloc[:0]) == []


def test_a_subproblem_keeps_exactly_the_bounds_wholly_inside_its_cells():
    import numpy as np

    from pipelines.disclosure.problem import Problem

    bounds = [
        (np.array([0]), np.array([1])),  # inside
        (np.array([0, 2]), np.array([1])),  # 2 outside
        (np.array([3]), np.array([1, 4])),  # inside
        (np.array([2]), np.array([5])),  # outside
    ]
    problem = Problem(np.arange(6), np.ones(6, dtype=bool), [np.array([1, 0, 3])], bounds)
    sub = problem.subproblem(np.array([4, 3, 1, 0]))
    assert [(s.tolist(), t.tolist()) for s, t in sub.bounds] == [([3], [2]), ([1], [2, 0])]
    assert [r.tolist() for r in sub.relations] == [[2, 3, 1]]
