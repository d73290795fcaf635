"""The fast exact auditor (groups, singleton and leaf peeling, QR) against a plain reference.

The reference is the textbook test on the whole system at once: a hidden cell is recoverable
iff its row in a null-space basis of A_H (from an SVD) is zero. Any shortcut in the auditor
that loses exactness shows up as a disagreement on some random hierarchy and hidden set.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.disclosure import recoverable_in_problem, suppress
from pipelines.disclosure.problem import build_problem
from tests.pipelines.test_disclosure_suppression import hierarchies


def reference_recoverable(problem, hidden) -> list[int]:
    """Recoverable hidden cells by one SVD of the full hidden system (slow, obviously right)."""
    columns = np.flatnonzero(hidden)
    if not len(columns) or not problem.relations:
        return []
    matrix = problem.matrix().toarray()[:, columns]
    _, singular, vt = np.linalg.svd(matrix)
    rank = int((singular > 1e-9 * max(1.0, singular.max(initial=0.0))).sum())
    null_basis = vt[rank:].T
    return [
        int(cell)
        for j, cell in enumerate(columns)
        if null_basis.shape[1] == 0 or np.abs(null_basis[j]).max() < 1e-7
    ]


@settings(max_examples=80, deadline=None)
@given(hierarchies(), st.data())
def test_auditor_matches_reference(problem, data):
    hidden = np.array(
        data.draw(st.lists(st.booleans(), min_size=problem.size, max_size=problem.size))
    )
    hidden |= ~problem.published
    assert recoverable_in_problem(problem, hidden).tolist() == reference_recoverable(
        problem, hidden
    )


def test_subtraction_chain_next_to_a_cycle():
    # Visible totals r1 = a + b, r2 = c + d, k1 = a + c, k2 = b + d + e, r3 = e + f with
    # a..e hidden and f visible: e follows from r3, then a..d form a 2x2 cycle that stays
    # hidden (every solution shifts a, d up and b, c down by the same amount).
    problem = build_problem(
        np.array([10, 10, 10, 13, 7, 5, 5, 5, 5, 3, 4]),
        [
            (0, np.array([5, 6])),
            (1, np.array([7, 8])),
            (2, np.array([5, 7])),
            (3, np.array([6, 8, 9])),
            (4, np.array([9, 10])),
        ],
    )
    hidden = np.zeros(problem.size, dtype=bool)
    hidden[[5, 6, 7, 8, 9]] = True
    got = recoverable_in_problem(problem, hidden).tolist()
    assert got == reference_recoverable(problem, hidden)
    assert 9 in got and not {5, 6, 7, 8} & set(got)


def test_leaf_recoverable_only_through_a_combination():
    # t (visible) = j + a + b with j, a, b hidden; s (visible) = a + b: j = t - s although
    # neither a nor b is known. Leaf peeling must test "a + b", not "a and b".
    problem = build_problem(
        np.array([10, 6, 4, 3, 3]), [(0, np.array([2, 3, 4])), (1, np.array([3, 4]))]
    )
    # cells: 0 t=10, 1 s=6, 2 j=4, 3 a=3, 4 b=3 ... t = j + a + b = 4 + 3 + 3
    hidden = np.array([False, False, True, True, True])
    assert recoverable_in_problem(problem, hidden).tolist() == [2]
    assert reference_recoverable(problem, hidden) == [2]


@settings(max_examples=25, deadline=None)
@given(hierarchies(), st.integers(2, 6))
def test_suppression_passes_the_reference_auditor(problem, threshold):
    status = suppress(problem, threshold)
    hidden = ~problem.published | (status != 0)
    protected = (status != 0) | (
        ~problem.published & (problem.values >= 1) & (problem.values < threshold)
    )
    assert [c for c in reference_recoverable(problem, hidden) if protected[c]] == []
