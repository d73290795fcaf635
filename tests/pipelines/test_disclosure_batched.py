"""The batched LPs of the interval audit (`audit._batched_ranges`): what they report as seen
must lie inside each target's true feasible range, whichever path found it (the warm capped
sum for a few targets on the loaded group, or the cold LP with a column per target)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from pipelines.disclosure import audit
from pipelines.disclosure.audit import Requirement, _batched_ranges
from pipelines.disclosure.lp import INFEASIBLE, OPTIMAL, Polytope, Result, minimise
from tests.pipelines.test_disclosure_lp import cold_bound, polytopes


def run_batched(a_eq, b_eq, a_ub, b_ub, requirement_of, values):
    loaded: list[Polytope] = []

    def whole_group() -> Polytope:
        if not loaded:
            loaded.append(Polytope(a_ub, b_ub, a_eq, b_eq))
        return loaded[0]

    return _batched_ranges(a_eq, b_eq, a_ub, b_ub, requirement_of, values, whole_group)


@settings(max_examples=80, deadline=None)
@given(polytopes(), st.data())
def test_seen_ranges_lie_inside_the_true_ranges(case, data):
    a_eq, b_eq, a_ub, b_ub, _ = case
    n = a_eq.shape[1]
    # A feasible point to start from (the audit passes the true values).
    start = cold_point(a_eq, b_eq, a_ub, b_ub)
    targets = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True))
    requirement_of = {
        t: Requirement(data.draw(st.integers(1, 6)), (float(data.draw(st.integers(0, 8))),))
        for t in targets
    }
    lows, highs = run_batched(a_eq, b_eq, a_ub, b_ub, requirement_of, start)
    for t in targets:
        low = cold_bound(a_eq, b_eq, a_ub, b_ub, t, 1.0)
        high = -cold_bound(a_eq, b_eq, a_ub, b_ub, t, -1.0)
        assert low - 1e-7 <= lows[t] <= highs[t] <= high + 1e-7


def cold_point(a_eq, b_eq, a_ub, b_ub) -> np.ndarray:
    result = minimise(np.zeros(a_eq.shape[1]), a_ub, b_ub, a_eq, b_eq, (0, None))
    assert result.status == OPTIMAL
    return result.x


def a_sum_of_three() -> tuple:
    """x0 + x1 + x2 = 12 (true values 2, 4, 6): each hidden cell ranges over [0, 12]."""
    a_eq = sparse.csr_matrix(np.ones((1, 3)))
    return a_eq, np.array([12.0]), sparse.csr_matrix((0, 3)), np.zeros(0)


def two_small_cells_of_a_sum_of_three(monkeypatch) -> list:
    """Run the batched LPs for x0 and x1 (each holding 1..4: range must reach 0 and be 5
    wide) of `a_sum_of_three`, check both verified, and return the cold maxima it ran."""
    cold_maxima: list = []
    real = audit._sum_of_minimums_point
    monkeypatch.setattr(
        audit, "_sum_of_minimums_point", lambda *a: cold_maxima.append(a) or real(*a)
    )
    requirement_of = {0: Requirement(5, (0.0,)), 1: Requirement(5, (0.0,))}
    lows, highs = run_batched(*a_sum_of_three(), requirement_of, np.array([2.0, 4.0, 6.0]))
    assert all(lows[t] <= 0 and highs[t] >= 5 for t in requirement_of)
    return cold_maxima


def test_few_targets_are_maximised_warm_under_caps(monkeypatch):
    assert not two_small_cells_of_a_sum_of_three(monkeypatch)


def test_caps_no_point_meets_fall_back_to_the_lp_with_a_column_per_target(monkeypatch):
    """Should the capped sum find no point (caps below where every point puts a target),
    the cold LP still verifies what it can: the targets are not left unverified."""
    monkeypatch.setattr(
        Polytope,
        "optimise_capped_sum",
        lambda self, columns, caps: Result(INFEASIBLE, np.nan, np.zeros(3), "Infeasible"),
    )
    assert two_small_cells_of_a_sum_of_three(monkeypatch)


def test_a_few_targets_left_open_nearby_get_a_wider_local_lp_before_the_whole_group(
    monkeypatch,
):
    """In a large group, a later round's target that its nearest cells leave too narrow is
    tried on a wider neighbourhood (still a restriction, so a range wide enough there is
    wide enough) before the whole group is loaded for the batched LPs."""
    # x0 + ... + x5 = 25 (2, 1, 1, 1, 10, 10); x0 holds 2: its range must reach 0 and be 5 wide.
    a_eq = sparse.csr_matrix(np.ones((1, 6)))
    b_eq, a_ub, b_ub = np.array([25.0]), sparse.csr_matrix((0, 6)), np.zeros(0)
    values = np.array([2.0, 1.0, 1.0, 1.0, 10.0, 10.0])
    monkeypatch.setattr(audit, "LOCAL_CELLS", 2)  # x0, x1 free: [0, 3], too narrow
    batched_calls = []
    real = audit._batched_ranges
    monkeypatch.setattr(audit, "_batched_ranges", lambda *a: batched_calls.append(a) or real(*a))

    def violations() -> list[int]:
        return audit._group_violations(
            a_eq, b_eq, a_ub, b_ub, [0], [Requirement(5, (0.0,))], values
        )

    monkeypatch.setattr(audit, "WIDE_LOCAL_CELLS", 4)  # x0..x3 free: [0, 5]
    assert violations() == []
    assert not batched_calls
    monkeypatch.setattr(audit, "WIDE_LOCAL_CELLS", 6)  # no wider tier: the whole group
    assert violations() == []
    assert batched_calls
