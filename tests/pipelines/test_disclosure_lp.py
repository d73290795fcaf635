"""The warm-started ranges of `lp.Polytope` against one cold `lp.minimise` per bound.

A Polytope keeps HiGHS's basis between solves and changes only the cost; any state carried
from one solve into the next (an old target's cost left behind, a basis from an unbounded
solve) would show up as a range that differs from a fresh solve.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from pipelines.disclosure.lp import OPTIMAL, UNBOUNDED, Polytope, minimise


def cold_bound(a_eq, b_eq, a_ub, b_ub, column: int | list[int], sign: float) -> float:
    cost = np.zeros(a_eq.shape[1])
    cost[column] = sign
    result = minimise(cost, a_ub, b_ub, a_eq, b_eq, (0, None))
    if result.status == UNBOUNDED:
        return -np.inf
    assert result.status == OPTIMAL
    return result.fun


def assert_range_as_cold(polytope: Polytope, case, column: int) -> None:
    """The polytope's warm minimum and maximum of `column` are those of cold solves."""
    a_eq, b_eq, a_ub, b_ub, _ = case
    for sign in (1.0, -1.0):
        warm = polytope.optimise(column, sign)
        cold = cold_bound(a_eq, b_eq, a_ub, b_ub, column, sign)
        if np.isinf(cold):
            assert warm.status == UNBOUNDED
        else:
            assert warm.status == OPTIMAL
            assert abs(warm.fun - cold) < 1e-7


@st.composite
def polytopes(draw):
    """Sums of random subsets of nonnegative cells equal to their true totals (always
    feasible), some cells in no sum (unbounded above), and a few `small <= large` bounds."""
    n = draw(st.integers(2, 12))
    values = np.array(draw(st.lists(st.integers(0, 20), min_size=n, max_size=n)), float)
    rows = draw(st.lists(st.lists(st.booleans(), min_size=n, max_size=n), min_size=1, max_size=6))
    eq = sparse.csr_matrix(np.array(rows, dtype=float))
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3))
    bounds = [(s, t) for s, t in pairs if s != t and values[s] <= values[t]]
    ub = np.zeros((len(bounds), n))
    for r, (s, t) in enumerate(bounds):
        ub[r, s], ub[r, t] = 1.0, -1.0
    order = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=2 * n))
    return eq, eq @ values, sparse.csr_matrix(ub), np.zeros(len(bounds)), order


@settings(max_examples=60, deadline=None)
@given(polytopes())
def test_warm_started_ranges_equal_cold_solves(case):
    a_eq, b_eq, a_ub, b_ub, order = case
    polytope = Polytope(a_ub, b_ub, a_eq, b_eq)
    # Targets in a drawn order, with repeats: each solve starts from the one before.
    for column in order:
        assert_range_as_cold(polytope, case, column)


@settings(max_examples=60, deadline=None)
@given(polytopes(), st.data())
def test_warm_started_sums_equal_cold_solves(case, data):
    """Sums of columns and single columns in turn (as the batched audit, then the ranges of
    single cells): no cost of an earlier sum is left behind."""
    a_eq, b_eq, a_ub, b_ub, order = case
    n = a_eq.shape[1]
    polytope = Polytope(a_ub, b_ub, a_eq, b_eq)
    for column in order:
        columns = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True))
        for targets in (columns, [column]):
            warm = polytope.optimise_sum(targets, 1.0)
            assert warm.status == OPTIMAL  # the cells are nonnegative: sums are bounded below
            assert abs(warm.fun - cold_bound(a_eq, b_eq, a_ub, b_ub, targets, 1.0)) < 1e-7


def test_a_solve_that_ends_without_an_answer_is_solved_again_from_scratch(monkeypatch):
    """HiGHS now and then ends a warm-started (or interior point) solve in numerical trouble,
    status "Unknown": such a solve is repeated cold before anyone sees it, so a publication
    does not fail on it (one 100k benchmark month did). Simulated here: the first solve after
    a warm start reports UNSOLVED."""
    from pipelines.disclosure import lp

    a_eq = sparse.csr_matrix(np.array([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]]))
    b_eq = np.array([10.0, 4.0])
    a_ub, b_ub = sparse.csr_matrix((0, 3)), np.zeros(0)
    polytope = Polytope(a_ub, b_ub, a_eq, b_eq)
    assert polytope.optimise(1, 1.0).fun == 0.0
    real_solve = lp._solve
    failures = iter([True])

    def unsolved_once(highs, n):
        result = real_solve(highs, n)
        if next(failures, False):
            return lp.Result(lp.UNSOLVED, np.nan, np.zeros(n), "Unknown")
        return result

    monkeypatch.setattr(lp, "_solve", unsolved_once)
    result = polytope.optimise(1, -1.0)
    assert result.status == OPTIMAL and result.fun == -6.0  # x1 <= 10 - 4
    failures = iter([True])
    cold = minimise(np.array([0.0, 0.0, -1.0]), a_ub, b_ub, a_eq, b_eq, (0, None))
    assert cold.status == OPTIMAL and cold.fun == -6.0


@settings(max_examples=60, deadline=None)
@given(polytopes(), st.data())
def test_capped_sums_equal_cold_solves_and_leave_the_polytope_as_it_was(case, data):
    """The batched audit's warm maximum for a few cells: their sum, each under a cap, as one
    cold LP with those caps as column bounds finds it (or both find no point), and the caps
    are gone afterwards: the next ranges are those of the uncapped polytope."""
    a_eq, b_eq, a_ub, b_ub, order = case
    n = a_eq.shape[1]
    polytope = Polytope(a_ub, b_ub, a_eq, b_eq)
    for column in order:
        targets = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True))
        caps = data.draw(st.lists(st.integers(0, 25), min_size=len(targets), max_size=len(targets)))
        polytope.optimise_sum(targets, 1.0)  # some basis to start from, as in the audit
        capped = polytope.optimise_capped_sum(targets, [float(c) for c in caps])
        cost = np.zeros(n)
        cost[targets] = -1.0
        bounds: list[tuple[float, float | None]] = [(0.0, None)] * n
        for target, cap in zip(targets, caps, strict=True):
            bounds[target] = (0.0, float(cap))
        cold = minimise(cost, a_ub, b_ub, a_eq, b_eq, bounds)
        assert capped.status == cold.status
        if cold.status == OPTIMAL:
            assert abs(capped.fun - cold.fun) < 1e-7
            assert np.all(capped.x[targets] <= np.asarray(caps) + 1e-9)
            assert np.allclose(a_eq @ capped.x, b_eq, atol=1e-7)
        assert_range_as_cold(polytope, case, column)
