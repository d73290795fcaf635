"""Primary/secondary suppression and the auditor on hand-made and random hierarchies."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.disclosure import PRIMARY, SECONDARY, recoverable_in_problem, suppress
from pipelines.disclosure.problem import build_problem
from pipelines.disclosure.suppression import PUBLISHED


def _hidden(problem, status):
    return ~problem.published | (status != 0)


def test_single_small_child_gets_a_complement():
    # national 20 = p1 12 + p2 8; p1 = d11 3 + d12 9; p2 = d21 8
    problem = build_problem(
        np.array([20, 12, 8, 3, 9, 8]),
        [(0, np.array([1, 2])), (1, np.array([3, 4])), (2, np.array([5]))],
    )
    status = suppress(problem, 5)
    assert status[3] == PRIMARY
    assert (status == SECONDARY).sum() >= 1
    assert recoverable_in_problem(problem, _hidden(problem, status)).size == 0


def test_auditor_recovers_a_lone_suppressed_cell():
    problem = build_problem(np.array([20, 3, 17]), [(0, np.array([1, 2]))])
    hidden = np.array([False, True, False])
    assert recoverable_in_problem(problem, hidden).tolist() == [1]


def test_small_residual_is_protected():
    # province 12 = district 10 + unknown 2 (never published): the 2 must not follow.
    problem = build_problem(np.array([12, 10]), [(0, np.array([1]))])
    status = suppress(problem, 5)
    assert (status[:2] != 0).any()
    assert recoverable_in_problem(problem, _hidden(problem, status)).size == 0


@st.composite
def hierarchies(draw):
    """A random 2-level hierarchy x categories table with exact totals."""
    n_parents = draw(st.integers(1, 3))
    n_children = draw(st.lists(st.integers(1, 4), min_size=n_parents, max_size=n_parents))
    n_categories = draw(st.integers(1, 3))
    leaves = [
        [
            draw(st.lists(st.integers(0, 12), min_size=n_categories, max_size=n_categories))
            for _ in range(k)
        ]
        for k in n_children
    ]
    values: list[int] = []
    index: dict[tuple, int] = {}

    def cell(key, value):
        index[key] = len(values)
        values.append(value)

    for p, children in enumerate(leaves):
        for c, cats in enumerate(children):
            for k, v in enumerate(cats):
                cell(("leaf", p, c, k), v)
            cell(("leaf", p, c, "all"), sum(cats))
        for k in range(n_categories):
            cell(("parent", p, k), sum(ch[k] for ch in children))
        cell(("parent", p, "all"), sum(sum(ch) for ch in children))
    for k in [*range(n_categories), "all"]:
        cell(("top", k), sum(values[index[("parent", p, k)]] for p in range(n_parents)))
    groups = []
    for k in [*range(n_categories), "all"]:
        groups.append(
            (index[("top", k)], np.array([index[("parent", p, k)] for p in range(n_parents)]))
        )
        for p, children in enumerate(leaves):
            groups.append(
                (
                    index[("parent", p, k)],
                    np.array([index[("leaf", p, c, k)] for c in range(len(children))]),
                )
            )
    for p, children in enumerate(leaves):
        groups.append(
            (
                index[("parent", p, "all")],
                np.array([index[("parent", p, k)] for k in range(n_categories)]),
            )
        )
        for c in range(len(children)):
            groups.append(
                (
                    index[("leaf", p, c, "all")],
                    np.array([index[("leaf", p, c, k)] for k in range(n_categories)]),
                )
            )
    groups.append(
        (index[("top", "all")], np.array([index[("top", k)] for k in range(n_categories)]))
    )
    return build_problem(np.array(values), groups)


@settings(max_examples=60, deadline=None)
@given(hierarchies(), st.integers(2, 6))
def test_random_hierarchies_leave_nothing_recoverable(problem, threshold):
    problem.check()
    status = suppress(problem, threshold)
    published = problem.values[problem.published & (status == 0)]
    assert not ((published >= 1) & (published < threshold)).any()
    hidden = _hidden(problem, status)
    recovered = recoverable_in_problem(problem, hidden)
    protected = (status != 0) | (
        ~problem.published & (problem.values >= 1) & (problem.values < threshold)
    )
    assert [c for c in recovered if protected[c]] == []


def test_no_hidden_cell_is_pinned_by_bounds():
    """A complement can be pinned by inequalities the equalities alone do not show (here
    6 = f <= b <= e = 6): hiding it then protects nothing and an attacker reads its value.
    No hidden cell holding people may have a feasible range narrower than 1."""
    from pipelines.disclosure.audit import feasible_ranges
    from pipelines.disclosure.problem import Problem

    # 0: total 17 = 1: a (2, small) + 2: b (6) + 3: c (9); 4: e (6) and 5: f (6) bound b.
    values = np.array([17, 2, 6, 9, 6, 6])
    problem = Problem(
        values,
        np.ones(6, dtype=bool),
        [np.array([0, 1, 2, 3])],
        [(np.array([5]), np.array([2])), (np.array([2]), np.array([4]))],
    )
    status = suppress(problem, threshold=5)
    hidden = np.flatnonzero(status != 0)
    assert 1 in hidden.tolist()
    ranges = feasible_ranges(problem, status != 0, [c for c in hidden.tolist() if values[c]])
    assert all(high - low >= 1 for low, high in ranges.values()), ranges


def _chain_of_bounds():
    """0: total 30 = 1: a (12) + 2: b (18); 3: c1, 4: c2, 5: c3, all 12, with
    c3 <= c2 <= c1 <= a (bounds 2, 1, 0)."""
    from pipelines.disclosure.problem import Problem

    values = np.array([30, 12, 18, 12, 12, 12])
    bounds = [
        (np.array([3]), np.array([1])),
        (np.array([4]), np.array([3])),
        (np.array([5]), np.array([4])),
    ]
    return Problem(values, np.ones(6, dtype=bool), [np.array([0, 1, 2])], bounds)


def test_a_range_pinned_through_a_chain_of_bounds_is_widened_at_the_chain_end():
    """A cell that moved by 1 since it was shown (12, last shown 11) must be hidden with a
    range reaching 11. Here its minimum is pinned at 12 by a chain of bounds through two
    cells kept hidden from an earlier publication, c3 <= c2 <= c1 <= a, ending at a shown
    cell c3 = 12: hiding cells around `a` (its sum, the ring of relations) never moves it.
    The binding constraints (LP duals) lead to c3."""
    from pipelines.disclosure.audit import Requirement, feasible_ranges, pinning_constraints

    problem = _chain_of_bounds()
    references = np.array([np.nan, 11.0, np.nan, np.nan, np.nan, np.nan])
    kept = np.array([False, False, False, True, True, False])

    hidden = np.array([False, True, True, True, True, False])
    pins = pinning_constraints(problem, hidden, {1: Requirement(5, (11.0,))})
    assert ("bound", 2) in pins[1]  # c3 <= c2: the only binding constraint with a shown cell

    status = suppress(problem, threshold=5, references=references, kept=kept)
    assert status[5] != PUBLISHED
    low, high = feasible_ranges(problem, status != PUBLISHED, [1])[1]
    assert low <= 11 and high - low >= 5


def test_pins_start_from_the_groups_the_audit_loaded(monkeypatch):
    """The protection asks for the binding constraints right after the audit of the same
    hidden cells: the large groups the audit loaded into HiGHS are solved on from where it
    left them (no second cold load), with the same constraints found as from scratch."""
    from pipelines.disclosure import audit
    from pipelines.disclosure.audit import Requirement, interval_violations, pinning_constraints

    monkeypatch.setattr(audit, "LOCAL_CELLS", 2)  # this small group counts as large
    problem = _chain_of_bounds()
    hidden = np.array([False, True, True, True, True, False])
    requirements = {1: Requirement(5, (11.0,))}
    loaded: dict = {}
    assert interval_violations(problem, hidden, requirements, exact=True, loaded=loaded) == [1]
    assert [len(polytopes) for polytopes in loaded.values()] == [1]

    made = []
    real_init = audit.Polytope.__init__
    monkeypatch.setattr(
        audit.Polytope, "__init__", lambda self, *a: made.append(a) or real_init(self, *a)
    )
    warm = pinning_constraints(problem, hidden, requirements, loaded=loaded)
    assert not made
    assert warm == pinning_constraints(problem, hidden, requirements)
    assert made  # from scratch it loads the group itself


@settings(max_examples=40, deadline=None)
@given(hierarchies(), st.integers(2, 6))
def test_the_second_exact_pass_reuses_the_first_passs_answers(problem, threshold):
    """After the interval stage the exact pass runs again over the same batches: a group no
    complement touched is not solved again (none at all when the interval stage hid
    nothing more), and the statuses are those of solving everything afresh."""
    from pipelines.disclosure import audit, suppression

    solved: list[int] = []
    passes: list[tuple[int, int]] = []  # solves before and after each exact pass
    changed: list[bool] = []
    real_solve, real_stage = audit._solve_group, suppression._exact_stage
    real_interval = suppression._interval_stage

    def counted_stage(problem, status, threshold, rounds, audited=None, *, fresh=False):
        before = len(solved)
        out = real_stage(problem, status, threshold, rounds, None if fresh else audited)
        passes.append((before, len(solved)))
        return out

    def watched_interval(problem, status, *args):
        out = real_interval(problem, status, *args)
        changed.append(not np.array_equal(out, status))
        return out

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(audit, "_solve_group", lambda rows: solved.append(1) or real_solve(rows))
        patch.setattr(suppression, "_interval_stage", watched_interval)
        patch.setattr(suppression, "_exact_stage", counted_stage)
        shared = suppress(problem, threshold)
        _, (second_start, second_end) = passes
        if not changed[0]:
            assert second_end == second_start  # nothing solved again
        patch.setattr(
            suppression, "_exact_stage", lambda *a, **k: counted_stage(*a, **k, fresh=True)
        )
        fresh = suppress(problem, threshold)
    assert np.array_equal(shared, fresh)
