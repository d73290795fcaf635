"""Linear programs solved by HiGHS, called directly.

The interval audit solves tens of thousands of small LPs per publication. scipy's `linprog`
runs the same HiGHS but spends about a fifth of the time checking options and converting
inputs on every call; here the model goes to HiGHS as it is (sparse columns, bounds as
arrays). `minimise` solves one LP; `Polytope` keeps one set of constraints loaded for the
ranges of many cells, each solve starting from the last one's basis.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import highspy
import numpy as np
from scipy import sparse

_INF = highspy.kHighsInf
OPTIMAL, INFEASIBLE, UNBOUNDED = 0, 2, 3
# HiGHS stopped without an answer ("Unknown": numerical trouble, or a limit reached).
UNSOLVED = 4
# HiGHS's `simplex_strategy` values: dual simplex (its default) and primal simplex.
DUAL_SIMPLEX, PRIMAL_SIMPLEX = 1, 4
# From this many columns a cold solve uses the interior point method (with crossover, so
# the answer is a vertex as with simplex): on the groups of a 100k-record publication
# (16,000-21,000 columns) it took 30 s where dual simplex took 77 s for the same 20 LPs;
# below 1,000 columns simplex is as fast (nothing was measured in between).
INTERIOR_POINT_COLUMNS = 5_000


@dataclass(frozen=True)
class Result:
    """What `minimise` found: `status` (OPTIMAL, INFEASIBLE or UNBOUNDED, as `linprog`, or
    UNSOLVED), the optimum `fun` and the point `x` (both meaningful only when OPTIMAL)."""

    status: int
    fun: float
    x: np.ndarray
    message: str


@cache
def _banner_shown() -> bool:
    """HiGHS prints a banner to standard output when the first instance of a process is
    made, before any option can be set: make that first instance with the output muted."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 1)
            highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    return True


def _highs_model(
    cost: np.ndarray,
    a_ub: sparse.spmatrix,
    b_ub: np.ndarray,
    a_eq: sparse.spmatrix,
    b_eq: np.ndarray,
    bounds: tuple[float, float | None] | list[tuple[float, float | None]],
) -> highspy.Highs:
    """A quiet single-threaded HiGHS instance holding the LP (not yet solved)."""
    _banner_shown()
    n = len(cost)
    matrix = sparse.vstack(
        [
            sparse.csr_matrix(a_eq, shape=(a_eq.shape[0], n)),
            sparse.csr_matrix(a_ub, shape=(a_ub.shape[0], n)),
        ]
    ).tocsc()
    matrix.sort_indices()
    if isinstance(bounds, tuple):
        lower = np.full(n, float(bounds[0]))
        upper = np.full(n, _INF if bounds[1] is None else float(bounds[1]))
    else:
        lower = np.asarray([b[0] for b in bounds], dtype=np.float64)
        upper = np.asarray([_INF if b[1] is None else b[1] for b in bounds], dtype=np.float64)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, matrix.shape[0]
    lp.col_cost_ = np.asarray(cost, dtype=np.float64)
    lp.col_lower_, lp.col_upper_ = lower, upper
    lp.row_lower_ = np.r_[np.asarray(b_eq, dtype=np.float64), np.full(a_ub.shape[0], -_INF)]
    lp.row_upper_ = np.r_[np.asarray(b_eq, dtype=np.float64), np.asarray(b_ub, np.float64)]
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n, matrix.shape[0]
    lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = matrix.data.astype(np.float64)
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("threads", 1)
    if n >= INTERIOR_POINT_COLUMNS:
        highs.setOptionValue("solver", "ipm")
    highs.passModel(lp)
    return highs


def _solve(highs: highspy.Highs, n: int) -> Result:
    """Run HiGHS (from its current basis, if it has one) and read the result."""
    highs.run()
    status = highs.getModelStatus()
    message = highs.modelStatusToString(status)
    if status == highspy.HighsModelStatus.kOptimal:
        x = np.asarray(highs.getSolution().col_value)
        return Result(OPTIMAL, float(highs.getInfo().objective_function_value), x, message)
    if status in (
        highspy.HighsModelStatus.kUnbounded,
        highspy.HighsModelStatus.kUnboundedOrInfeasible,
    ):
        return Result(UNBOUNDED, -np.inf, np.zeros(n), message)
    if status == highspy.HighsModelStatus.kInfeasible:
        return Result(INFEASIBLE, np.nan, np.zeros(n), message)
    return Result(UNSOLVED, np.nan, np.zeros(n), message)


def _solve_or_retry(highs: highspy.Highs, n: int) -> Result:
    """`_solve`, and once more from scratch if HiGHS ended without an answer.

    Now and then HiGHS ends a solve in numerical trouble ("Unknown"): one warm-started LP
    of a 100k-record benchmark month did, and failed its publication. Solving again with
    the basis and solution dropped, by HiGHS's default method, gets past it; a second
    failure is reported.
    """
    result = _solve(highs, n)
    if result.status != UNSOLVED:
        return result
    highs.clearSolver()
    highs.setOptionValue("solver", "choose")
    highs.setOptionValue("simplex_strategy", DUAL_SIMPLEX)
    return _solve(highs, n)


def minimise(
    cost: np.ndarray,
    a_ub: sparse.spmatrix,
    b_ub: np.ndarray,
    a_eq: sparse.spmatrix,
    b_eq: np.ndarray,
    bounds: tuple[float, float | None] | list[tuple[float, float | None]],
) -> Result:
    """min cost @ x subject to a_ub @ x <= b_ub, a_eq @ x == b_eq and the column bounds
    (one (lower, upper) pair for every column, or a list; None is no upper bound)."""
    return _solve_or_retry(_highs_model(cost, a_ub, b_ub, a_eq, b_eq, bounds), len(cost))


class Polytope:
    """{x >= 0 : a_ub @ x <= b_ub, a_eq @ x == b_eq}, loaded into HiGHS once, for the lowest
    and highest value of one column after another (or of sums of columns).

    Only the cost changes between solves, so HiGHS starts each from the previous optimal
    basis (still feasible) instead of from scratch: on a group of thousands of hidden cells
    that is most of a cold solve saved per range.
    """

    def __init__(
        self, a_ub: sparse.spmatrix, b_ub: np.ndarray, a_eq: sparse.spmatrix, b_eq: np.ndarray
    ) -> None:
        self._n = a_eq.shape[1]
        self._highs = _highs_model(np.zeros(self._n), a_ub, b_ub, a_eq, b_eq, (0, None))
        self._costed = np.zeros(0, dtype=np.int32)  # the columns with a nonzero cost

    def optimise(self, column: int, sign: float) -> Result:
        """min sign * x[column] over the polytope."""
        return self.optimise_sum([column], sign)

    def optimise_sum(self, columns: Sequence[int], sign: float) -> Result:
        """min sign * (the sum of x over `columns`) over the polytope."""
        chosen = np.asarray(columns, dtype=np.int32)
        if len(self._costed):
            self._highs.changeColsCost(len(self._costed), self._costed, np.zeros(len(self._costed)))
        self._highs.changeColsCost(len(chosen), chosen, np.full(len(chosen), float(sign)))
        self._costed = chosen
        result = _solve_or_retry(self._highs, self._n)
        # From the first basis on, each start is primal feasible (only the cost moved):
        # primal simplex goes on from it, where dual simplex would first repair its duals
        # (measured ~0.8 s per LP on a 16,872-cell group, against ~8 s with dual).
        self._highs.setOptionValue("solver", "simplex")
        self._highs.setOptionValue("simplex_strategy", PRIMAL_SIMPLEX)
        return result

    def optimise_capped_sum(self, columns: Sequence[int], caps: Sequence[float]) -> Result:
        """max the sum of x over `columns`, each held at most its cap for this solve only
        (min -sum, as `optimise_sum` with sign -1). Capping only shrinks the polytope, so
        every point found lies in it; the result is INFEASIBLE when no point of the
        polytope has every column under its cap."""
        chosen = np.asarray(columns, dtype=np.int32)
        self._highs.changeColsBounds(
            len(chosen), chosen, np.zeros(len(chosen)), np.asarray(caps, dtype=np.float64)
        )
        try:
            return self.optimise_sum(chosen, -1.0)
        finally:
            self._highs.changeColsBounds(
                len(chosen), chosen, np.zeros(len(chosen)), np.full(len(chosen), _INF)
            )

    def row_duals(self) -> np.ndarray:
        """The last optimal solve's dual value per row: equality rows first, then the
        inequality rows (their order in the constructor). A row with a nonzero dual is one
        that binds the optimum: relaxing it is what can move it."""
        return np.asarray(self._highs.getSolution().row_dual)
