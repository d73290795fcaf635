"""The auditor: which hidden cells can an attacker compute exactly from what is published?

An attacker knows every published value and every relation (the table layout says which
totals are sums of which cells). The hidden cells (suppressed cells and never-published
residuals) are the unknowns of a linear system `A_H x_H = b`, where `A_H` holds the relation
rows restricted to hidden cells. A hidden cell j is *recoverable* exactly when every solution
gives it the same value, i.e. when the unit vector e_j lies in the row space of `A_H`. This
catches what simple subtraction misses (chains across levels, linked tables, "bridge" cells
between two suppression cycles).

How it stays fast, with no approximation and nothing skipped:

1. Groups: connected components of hidden cells over the relations holding at least one
   hidden cell. Relations with no hidden cell say nothing about unknowns, and no relation
   spans two groups, so each group is solved on its own.
2. Reduction inside a group, both exact:
   - *singletons*: a relation with exactly one unknown determines it (recoverable); the cell
     then counts as known, which may make more singletons (what subtraction chains do);
   - *leaves*: a cell that appears in only one remaining relation r can absorb any value, so
     r constrains nothing else and is set aside; the leaf cell is recoverable iff the rest of
     r (as a combination of the other cells) is determined by what remains. Peeling repeats,
     so tree-shaped parts of a group vanish; what is left is the group's *core*.
3. Core: one rank-revealing QR of `A_core^T` (`scipy.linalg.qr`, column pivoting, economic)
   gives an orthonormal basis Q of the row space; a vector w is in it iff its projection
   `Q Q^T w` equals w. Every core cell (w = e_j) and every peeled leaf (w = the rest of its
   relation, after back-substituting later peels) is tested against the same basis.

The cost follows the size of the cores, not of the table.
"""

from __future__ import annotations

import contextlib
import heapq
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.linalg
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from pipelines.disclosure.lp import OPTIMAL, UNBOUNDED, Polytope, minimise
from pipelines.disclosure.problem import Problem

logger = logging.getLogger(__name__)
# Relative tolerance for rank and projection tests. Matrices hold 0/+1/-1 and cores have at
# most a few thousand columns, so true zeros and true non-zeros are far apart.
_RANK_TOLERANCE = 1e-9
_MEMBER_TOLERANCE = 1e-7


@dataclass
class AuditStats:
    """Sizes seen by the last audit (for logs and benchmarks)."""

    groups: int = 0
    largest_group: int = 0
    largest_core: int = 0


LAST_STATS = AuditStats()


def hidden_groups(matrix: sparse.csr_matrix, hidden: np.ndarray) -> list[np.ndarray]:
    """Relation indices of each group (relations linked through shared hidden cells).

    Only relations with at least one hidden cell take part.
    """
    restricted = matrix[:, np.flatnonzero(hidden)].tocsr()
    active = np.flatnonzero(np.diff(restricted.indptr) > 0)
    if not len(active):
        return []
    restricted = restricted[active]
    incidence = restricted.copy()
    incidence.data[:] = 1.0
    adjacency = (incidence @ incidence.T).tocsr()
    count, labels = connected_components(adjacency, directed=False)
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(count + 1))
    return [active[order[bounds[k] : bounds[k + 1]]] for k in range(count)]


def _row_space_basis(core: list[dict[int, float]], column: dict[int, int]) -> np.ndarray:
    """Orthonormal basis (columns, one row per core cell) of the row space of the core.

    Peeling can split a group's core into pieces that share no cell: each piece gets its
    own QR (block-diagonal basis), which costs far less than one QR of the whole core.
    """
    basis = np.zeros((len(column), 0))
    if not core:
        return basis
    data = np.concatenate([np.fromiter(r.values(), float, len(r)) for r in core])
    cols = np.concatenate([np.fromiter((column[c] for c in r), np.int64, len(r)) for r in core])
    row_ids = np.repeat(np.arange(len(core)), [len(r) for r in core])
    matrix = sparse.csr_matrix((data, (row_ids, cols)), shape=(len(core), len(column)))
    incidence = abs(matrix)
    count, labels = connected_components(incidence @ incidence.T, directed=False)
    blocks = []
    for label in range(count):
        piece_rows = np.flatnonzero(labels == label)
        piece = matrix[piece_rows]
        piece_cols = np.unique(piece.indices)
        LAST_STATS.largest_core = max(LAST_STATS.largest_core, len(piece_cols))
        dense = piece[:, piece_cols].toarray().T  # cells x relations
        q, r, _ = scipy.linalg.qr(dense, mode="economic", pivoting=True)
        diagonal = np.abs(np.diag(r))
        rank = int((diagonal > _RANK_TOLERANCE * max(1.0, diagonal.max(initial=0.0))).sum())
        block = np.zeros((len(column), rank))
        block[piece_cols] = q[:, :rank]
        blocks.append(block)
    return np.hstack([basis, *blocks])


def single_threaded_blas():
    """BLAS limited to one thread where threadpoolctl is installed: cores are small and the
    machine is shared, and oversubscribed BLAS threads made each QR ten times slower."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _cells_to_relations(rows: list[dict[int, float]]) -> dict[int, set[int]]:
    """Index of each hidden cell to the relations (row numbers) that hold it."""
    cell_rows: dict[int, set[int]] = {}
    for i, row in enumerate(rows):
        for cell in row:
            cell_rows.setdefault(cell, set()).add(i)
    return cell_rows


def _substitute_singletons(
    rows: list[dict[int, float]], cell_rows: dict[int, set[int]], alive: set[int]
) -> list[int]:
    """Cells determined by singleton relations, substituted as known (updates the arguments)."""
    recoverable: list[int] = []
    # Singletons: a relation with one unknown determines it; substitute it as known.
    queue = [i for i in alive if len(rows[i]) == 1]
    while queue:
        i = queue.pop()
        if i not in alive or len(rows[i]) != 1:
            if i in alive and not rows[i]:
                alive.discard(i)
            continue
        (cell,) = rows[i]
        recoverable.append(cell)
        for other in cell_rows.pop(cell):
            rows[other].pop(cell, None)
            if other in alive and len(rows[other]) == 1:
                queue.append(other)
            elif other in alive and not rows[other]:
                alive.discard(other)
        alive.discard(i)
    return recoverable


def _peel_leaves(
    rows: list[dict[int, float]], cell_rows: dict[int, set[int]], alive: set[int]
) -> list[tuple[int, int]]:
    """(leaf cell, its relation) in peel order; peeled relations leave `alive`."""
    # Leaves: a cell in a single relation; that relation is set aside.
    peels: list[tuple[int, int]] = []
    queue = [c for c, rs in cell_rows.items() if len(rs & alive) == 1]
    while queue:
        cell = queue.pop()
        live = cell_rows[cell] & alive
        if len(live) != 1:
            continue
        (i,) = live
        peels.append((cell, i))
        alive.discard(i)
        for other in rows[i]:
            if other != cell and len(cell_rows[other] & alive) == 1:
                queue.append(other)
    return peels


def _core_basis(
    rows: list[dict[int, float]], alive: set[int]
) -> tuple[dict[int, int], np.ndarray, list[int]]:
    """Core cell -> basis row, the core's row-space basis, and the recoverable core cells."""
    core_rows = sorted(alive)
    core_cells = sorted({c for i in core_rows for c in rows[i]})
    column = {c: j for j, c in enumerate(core_cells)}
    basis = _row_space_basis([rows[i] for i in core_rows], column)
    recoverable: list[int] = []
    if core_cells:
        residual_norms = 1.0 - (basis**2).sum(axis=1)
        recoverable += [c for c, j in column.items() if residual_norms[j] < _MEMBER_TOLERANCE]
    return column, basis, recoverable


def _back_substitute_leaves(
    rows: list[dict[int, float]], peels: list[tuple[int, int]], column: dict[int, int]
) -> tuple[list[int], list[tuple[int, dict[int, float]]]]:
    """Leaves known outright, and the leaves left to test as vectors over core cells."""
    # Peeled leaves, with back-substitution through the relations peeled after them.
    # A later peel's relation holds only cells peeled after it (or core cells), so taking
    # peeled cells in peel order (a heap) eliminates each exactly once.
    recoverable: list[int] = []
    peel_position = {cell: k for k, (cell, _) in enumerate(peels)}
    candidates: list[tuple[int, dict[int, float]]] = []
    for cell, i in peels:
        pivot = rows[i][cell]
        vector = {c: -v / pivot for c, v in rows[i].items() if c != cell}
        pending = [peel_position[c] for c in vector if c in peel_position]
        heapq.heapify(pending)
        while pending:
            later_cell, later = peels[heapq.heappop(pending)]
            weight = vector.pop(later_cell, 0.0)
            if abs(weight) <= _MEMBER_TOLERANCE:
                continue
            factor = weight / rows[later][later_cell]
            for c, v in rows[later].items():
                if c == later_cell:
                    continue
                if c in peel_position and c not in vector:
                    heapq.heappush(pending, peel_position[c])
                vector[c] = vector.get(c, 0.0) - factor * v
        vector = {c: v for c, v in vector.items() if abs(v) > _MEMBER_TOLERANCE}
        if not vector:
            recoverable.append(cell)  # the rest of its relation is known
        elif all(c in column for c in vector):  # a cell in no remaining relation is free
            candidates.append((cell, vector))
    return recoverable, candidates


def _leaves_in_row_space(
    candidates: list[tuple[int, dict[int, float]]], column: dict[int, int], basis: np.ndarray
) -> list[int]:
    """Leaf cells whose vector lies in the core's row space (they are recoverable)."""
    if not candidates:
        return []
    # Every remaining leaf against the core's basis at once: w is in the row space iff its
    # projection leaves no residual.
    vectors = np.zeros((len(column), len(candidates)))
    for k, (_, vector) in enumerate(candidates):
        for c, v in vector.items():
            vectors[column[c], k] = v
    residual = vectors - basis @ (basis.T @ vectors)
    scale = np.maximum(1.0, np.abs(vectors).max(axis=0))
    inside = np.abs(residual).max(axis=0) < _MEMBER_TOLERANCE * scale
    return [cell for (cell, _), ok in zip(candidates, inside, strict=True) if ok]


def _solve_group(rows: list[dict[int, float]]) -> list[int]:
    """Recoverable cells of one group; `rows` are relations as {hidden cell: coefficient}."""
    rows = [dict(r) for r in rows]
    cell_rows = _cells_to_relations(rows)
    alive = set(range(len(rows)))
    recoverable = _substitute_singletons(rows, cell_rows, alive)
    peels = _peel_leaves(rows, cell_rows, alive)
    column, basis, core_recoverable = _core_basis(rows, alive)
    recoverable += core_recoverable
    known_leaves, candidates = _back_substitute_leaves(rows, peels, column)
    recoverable += known_leaves
    recoverable += _leaves_in_row_space(candidates, column, basis)
    return recoverable


def _group_rows(
    restricted: sparse.csr_matrix, hidden_columns: np.ndarray, relation_ids: np.ndarray
) -> list[dict[int, float]]:
    """The group's relations as {hidden cell: coefficient} (zero coefficients dropped)."""
    indptr, indices, data = restricted.indptr, restricted.indices, restricted.data
    rows = []
    for r in relation_ids.tolist():
        start, end = indptr[r], indptr[r + 1]
        row: dict[int, float] = {}
        for cell, value in zip(
            hidden_columns[indices[start:end]].tolist(), data[start:end].tolist(), strict=True
        ):
            row[cell] = row.get(cell, 0.0) + value
        rows.append({c: v for c, v in row.items() if v != 0.0})
    return rows


def recoverable_in_problem(
    problem: Problem,
    hidden: np.ndarray,
    *,
    matrix: sparse.csr_matrix | None = None,
    cache: dict | None = None,
) -> np.ndarray:
    """Indices of hidden cells whose value follows exactly from the visible cells.

    Exact for every group, whatever its size (nothing is skipped). `matrix` may pass
    `problem.matrix()` when the caller already built it; `cache` (a dict the caller keeps)
    reuses the answer for groups whose relations and hidden cells did not change since an
    earlier call, which is what the secondary-suppression loop needs.
    """
    with single_threaded_blas():
        return _recoverable(
            problem,
            np.asarray(hidden, dtype=bool),
            problem.matrix() if matrix is None else matrix,
            cache,
        )


def _recoverable(
    problem: Problem, hidden: np.ndarray, matrix: sparse.csr_matrix, cache: dict | None
) -> np.ndarray:
    groups = hidden_groups(matrix, hidden)
    LAST_STATS.groups = len(groups)
    LAST_STATS.largest_group = 0
    LAST_STATS.largest_core = 0
    hidden_columns = np.flatnonzero(hidden)
    restricted = matrix[:, hidden_columns].tocsr()
    found: list[int] = []
    indptr, indices = restricted.indptr, restricted.indices
    for relation_ids in groups:
        columns = np.unique(
            np.concatenate([indices[indptr[r] : indptr[r + 1]] for r in relation_ids.tolist()])
        )
        LAST_STATS.largest_group = max(LAST_STATS.largest_group, len(columns))
        key = (relation_ids.tobytes(), hidden_columns[columns].tobytes())
        if cache is not None and key in cache:
            found += cache[key]
            continue
        result = _solve_group(_group_rows(restricted, hidden_columns, relation_ids))
        if cache is not None:
            cache[key] = result
        found += result
    return np.asarray(sorted(set(found)), dtype=np.int64)


def find_recoverable_cells(
    published: pd.DataFrame, unsuppressed: pd.DataFrame, kind: str, *, threshold: int = 5
) -> pd.DataFrame:
    """Rows of a published table whose suppressed value an attacker can compute exactly.

    `published` is the table as released (value NULL where suppressed); `unsuppressed` the
    same table before disclosure control (from the marts), used only to know the layout and
    where residuals exist, never as attacker knowledge. `kind` names the table
    (`survivor_statistics`, ...). Also returns never-published residual cells holding
    1..threshold-1 that became computable (with `value` NULL and `is_residual` True).
    An empty frame means nothing can be recovered.
    """
    from pipelines.disclosure.relations import problem_for  # local: avoids a cycle

    keys = [c for c in unsuppressed.columns if c != "value"]
    aligned = unsuppressed.merge(
        published[[*keys, "value"]]
        .assign(in_file=True)
        .rename(columns={"value": "published_value"}),
        on=keys,
        how="left",
        validate="one_to_one",
    )
    in_file = aligned["in_file"].fillna(False).astype(bool).to_numpy()
    aligned = aligned.drop(columns="in_file")
    # Rows of slices left out of the publication (`grid.dense_slices`) are unknowns here, like
    # hidden cells; every shown value must sit on a row of the unsuppressed table.
    if aligned["published_value"].notna().sum() != published["value"].notna().sum():
        raise ValueError("published rows missing from the unsuppressed table")
    problem = problem_for(kind, aligned[[*keys, "value"]])
    n = len(aligned)
    hidden = np.concatenate(
        [aligned["published_value"].isna().to_numpy(), np.ones(problem.size - n, dtype=bool)]
    )
    cells = recoverable_in_problem(problem, hidden)
    # A hidden cell of the file is a finding whatever its value; a row of a slice left out of
    # the file only when it holds 1..threshold-1 (computing a left-out count of 7 is no more
    # than publishing it would have been).
    values = aligned["value"].to_numpy()
    cells = [c for c in cells if c >= n or in_file[c] or 1 <= values[c] < threshold]
    rows = aligned.iloc[[c for c in cells if c < n]].copy()
    rows["is_residual"] = False
    residual_values = problem.values[[c for c in cells if c >= n]]
    sensitive = int(((residual_values >= 1) & (residual_values < threshold)).sum())
    if sensitive:
        extra = pd.DataFrame({"is_residual": [True] * sensitive})
        rows = pd.concat([rows, extra], ignore_index=True)
    return rows


# ----------------------------------------------------------------------------------------
# Interval audit: the feasible range of each sensitive hidden cell.
#
# Exactness is not enough: a hidden 2 known to lie in [1, 3] is nearly disclosed. The
# attacker's knowledge is a polytope: every relation (equalities, with published values as
# constants), every bound (inequalities), and non-negativity. For a sensitive hidden cell the
# auditor asks HiGHS for its smallest and largest feasible value. The cell is protected when
# that range includes every reference point (0 for a count of 1..k-1: "nobody" must stay
# possible; the previously published value for a cell whose change since then is small) and
# is at least k wide (tau-ARGUS protection levels: lower = the value, upper >= k - value).
#
# Speed: hidden cells split into groups (no relation or bound links two groups), only groups
# holding a sensitive cell are solved, and one LP serves many cells: minimising the sum of
# the unverified cells shows every cell that reaches 0 at once; maximising the sum of
# min(x, k) shows every cell that reaches k. Only cells left unverified get their own LP.
# ----------------------------------------------------------------------------------------

_LP_TOLERANCE = 1e-6
# Whole LP groups loaded into HiGHS by one audit, by the bytes of their hidden cells' numbers
# (a list holding the polytope once loaded): valid for one set of hidden cells only.
LoadedGroups = dict[bytes, list[Polytope]]


@dataclass(frozen=True)
class Requirement:
    """What a sensitive hidden cell's feasible range must satisfy."""

    width: int  # max - min >= width
    points: tuple[float, ...] = (0.0,)  # min <= p <= max for each p


def _lp_groups(
    eq: sparse.csr_matrix, ub: sparse.csr_matrix, hidden: np.ndarray
) -> tuple[np.ndarray, int]:
    """Group label per hidden column (position in `np.flatnonzero(hidden)`), and the count."""
    columns = np.flatnonzero(hidden)
    incidence = sparse.vstack([abs(eq[:, columns]), abs(ub[:, columns])]).tocsr()
    incidence.data[:] = 1.0
    count, labels = connected_components((incidence.T @ incidence).tocsr(), directed=False)
    return labels, count


# A group larger than this many hidden cells checks what its batched LPs left open on a local
# LP (the cells nearest the target free, every other hidden cell fixed at its true value)
# instead of on LPs over the whole group: HiGHS time grows fast with the group, and the
# largest groups of a 100k-record publication hold thousands of hidden cells.
LOCAL_CELLS = 200
# Targets that LOCAL_CELLS left open in the later rounds get a wider local LP before the
# whole group is loaded: republishing a 1M month took 41.4 s with 2,000 cells, 45.3 s
# with 5,000 and 49.1-51.8 s without (its largest group: 25,600 hidden cells).
WIDE_LOCAL_CELLS = 2_000
# Up to this many targets in a large group: local LPs first (see `_group_violations`).
FEW_TARGETS = 100
# Up to this many targets left open by the restrictions: settled on the whole group.
CONFIRM_TARGETS = 25


def _group_violations(
    a_eq,
    b_eq,
    a_ub,
    b_ub,
    targets: list[int],
    requirements: list[Requirement],
    values: np.ndarray,
    exact: bool = False,
    confirm: bool = False,
    loaded: list[Polytope] | None = None,
) -> list[int]:
    """Targets (local column numbers) whose feasible range misses its requirement.

    Exact (every range over the whole group) when `exact` or the group is small. A large
    group combines batched LPs over the whole group with local restrictions (the cells
    nearest a target free, every other cell fixed at its true value): fixing cells can only
    narrow a range, so a local range that meets the requirement proves the whole one does.
    With `confirm`, when at most `CONFIRM_TARGETS` are left open, they are settled on the
    whole group; otherwise a target neither shows is reported violated (safe: it gets a
    complement, or `exact` settles it when no complement is left). Asked about many targets,
    the batched LPs go first; asked about a few (the later rounds of the protection), the
    local LPs do (the nearest `LOCAL_CELLS`, then `WIDE_LOCAL_CELLS`), and the batched LPs,
    which cost as much for two targets as for two thousand, run only for the targets the
    local ones left open. `loaded`, an empty list, receives the whole group loaded into
    HiGHS if an LP needed it."""
    n = a_eq.shape[1]
    requirement_of = dict(zip(targets, requirements, strict=True))
    lows = {t: float(values[t]) for t in targets}
    highs = dict(lows)

    def open_targets() -> dict[int, Requirement]:
        return {t: r for t, r in requirement_of.items() if not _meets(lows[t], highs[t], r)}

    # The whole group in HiGHS, made on first use (in `loaded` when given, for the caller).
    whole: list[Polytope] = [] if loaded is None else loaded

    def whole_group() -> Polytope:
        if not whole:
            whole.append(Polytope(a_ub, b_ub, a_eq, b_eq))
        return whole[0]

    def batched() -> None:
        low, high = _batched_ranges(a_eq, b_eq, a_ub, b_ub, open_targets(), values, whole_group)
        for t in low:
            lows[t], highs[t] = min(lows[t], low[t]), max(highs[t], high[t])

    def one_by_one(neighbours: _Neighbourhoods | None, limit: int = LOCAL_CELLS) -> None:
        for t in open_targets():
            if neighbours is None:
                low, high = _range(whole_group(), t)
            else:
                cells = neighbours.around(t, limit)
                low, high = _local_range(a_eq, b_eq, a_ub, b_ub, values, cells)
            # The true range is an interval holding every value shown feasible.
            lows[t], highs[t] = min(lows[t], low), max(highs[t], high)

    if exact or n <= LOCAL_CELLS:
        batched()
        one_by_one(None)
        return sorted(open_targets())
    if len(targets) <= FEW_TARGETS:
        neighbours = _Neighbourhoods(a_eq, a_ub)
        one_by_one(neighbours)
        if n > WIDE_LOCAL_CELLS:
            one_by_one(neighbours, WIDE_LOCAL_CELLS)
        if open_targets():
            batched()
    else:
        batched()
        one_by_one(_Neighbourhoods(a_eq, a_ub))
    if confirm and len(open_targets()) <= CONFIRM_TARGETS:
        # Few left: settle them on the whole group, so a cell is reported only when its
        # range truly misses (a publication of unchanged data, whose cells all passed
        # before, then reports none and gives the same file).
        one_by_one(None)
    return sorted(open_targets())


def _meets(low: float, high: float, requirement: Requirement) -> bool:
    """Whether a feasible range [low, high] holds every point and is wide enough."""
    return (
        low <= min(requirement.points) + _LP_TOLERANCE
        and high >= max(requirement.points) - _LP_TOLERANCE
        and high - low >= requirement.width - _LP_TOLERANCE
    )


# Batched LPs per direction: each verifies fewer targets than the one before (those left
# need a LP of their own sooner or later); the first two verify nearly all of them.
_BATCH_ROUNDS = 2


# A minimising LP starts from the previous one's basis when its targets are at least this
# share of the previous one's; otherwise cold. Warm, with most of the cost unchanged, it took
# 0.01-0.2 s where a cold solve took 1.5-2 s (groups of 14,000 cells); after half of the
# targets were verified, warm took 6.9 s against 1.4 s cold.
WARM_SUM_SHARE = 0.8
# Up to this many targets a batched LP always runs warm on the loaded group: the later
# rounds of the protection ask about a handful of cells of the largest group. On a
# 25,600-cell group of a 1M-record month, after a first minimum over 1,136 targets, a warm
# minimum for 5-50 of them took 0.01-0.11 s and a warm maximum under caps 0.06-0.92 s,
# against 1.1-1.4 s for each cold LP (100 targets: 0.40 and 1.34 s; 200: 1.51 and 2.20 s).
WARM_FEW_TARGETS = 25


def _batched_ranges(
    a_eq,
    b_eq,
    a_ub,
    b_ub,
    requirement_of: dict[int, Requirement],
    values: np.ndarray,
    whole_group: Callable[[], Polytope],
) -> tuple[dict[int, float], dict[int, float]]:
    """The lowest and highest value seen feasible for each target, from the true values and a
    few LPs for all targets at once: minimising the sum of the targets not yet verified, then
    maximising the sum of min(x_t, the value t needs to reach). A target whose seen range
    meets its requirement is verified; the true range can only be wider. The first minimising
    LP runs on `whole_group()` (the group loaded once, also used for single ranges after),
    and so does the next one when its targets are mostly the same (`WARM_SUM_SHARE`) or
    few (`WARM_FEW_TARGETS`); for few targets the maximum runs there too, as the sum of the
    targets each capped at its need."""
    n = a_eq.shape[1]
    lows = {t: float(values[t]) for t in requirement_of}
    highs = dict(lows)

    def unverified() -> list[int]:
        return sorted(t for t, r in requirement_of.items() if not _meets(lows[t], highs[t], r))

    def seen(x: np.ndarray) -> None:
        for t in requirement_of:
            lows[t], highs[t] = min(lows[t], float(x[t])), max(highs[t], float(x[t]))

    pending = unverified()
    previous = 0
    for _ in range(_BATCH_ROUNDS):
        if not pending:
            break
        if previous and WARM_FEW_TARGETS < len(pending) < WARM_SUM_SHARE * previous:
            c = np.zeros(n)
            c[pending] = 1.0
            seen(_checked(minimise(c, a_ub, b_ub, a_eq, b_eq, (0, None))).x)
        else:
            seen(_checked(whole_group().optimise_sum(pending, 1.0)).x)
        previous = len(pending)
        still = unverified()
        if len(still) == len(pending):
            break
        pending = still
    pending = unverified()
    for _ in range(_BATCH_ROUNDS):
        if not pending:
            break
        m = len(pending)
        needed = [
            max(max(requirement_of[t].points), lows[t] + requirement_of[t].width) for t in pending
        ]
        x = None
        if m <= WARM_FEW_TARGETS:
            # Each target capped at what it needs instead of min(x, need) through extra
            # columns: the loaded group then starts warm. Should no point have them all
            # under their caps, the LP with extra columns settles it.
            capped = whole_group().optimise_capped_sum(pending, needed)
            x = capped.x if capped.status == OPTIMAL else None
        seen(_sum_of_minimums_point(a_eq, b_eq, a_ub, b_ub, pending, needed) if x is None else x)
        still = unverified()
        if len(still) == len(pending):
            break
        pending = still
    return lows, highs


def _sum_of_minimums_point(
    a_eq, b_eq, a_ub, b_ub, targets: list[int], needed: list[float]
) -> np.ndarray:
    """A point of the polytope maximising the sum of min(x_t, needed_t) over `targets` (one
    cold LP with a column y_t <= x_t, y_t <= needed_t per target)."""
    n, m = a_eq.shape[1], len(targets)
    y = sparse.csr_matrix(
        (
            np.r_[np.ones(m), -np.ones(m)],
            (np.r_[np.arange(m), np.arange(m)], np.r_[n + np.arange(m), targets]),
        ),
        shape=(m, n + m),
    )
    ub_rows = sparse.vstack([sparse.hstack([a_ub, sparse.csr_matrix((a_ub.shape[0], m))]), y])
    eq_rows = sparse.hstack([a_eq, sparse.csr_matrix((a_eq.shape[0], m))])
    c = np.r_[np.zeros(n), -np.ones(m)]
    bounds = [(0, None)] * n + [(0, w) for w in needed]
    result = minimise(c, ub_rows.tocsr(), np.r_[b_ub, np.zeros(m)], eq_rows.tocsr(), b_eq, bounds)
    return _checked(result).x[:n]


def _checked(result):
    if result.status != OPTIMAL:
        raise RuntimeError(f"interval audit LP failed: {result.message}")
    return result


def _signed_optimum(result, sign: float) -> float:
    """The smallest (sign 1) or largest (sign -1) feasible value from min sign * x."""
    if sign < 0 and result.status == UNBOUNDED:
        return np.inf
    return sign * float(_checked(result).fun)


def _range(polytope: Polytope, target: int) -> tuple[float, float]:
    """(smallest, largest) feasible value of one target over a loaded polytope."""
    return (
        _signed_optimum(polytope.optimise(target, 1.0), 1.0),
        _signed_optimum(polytope.optimise(target, -1.0), -1.0),
    )


class _Neighbourhoods:
    """Breadth-first neighbourhoods of a group's cells over the rows (relations and bounds)
    that hold them."""

    def __init__(self, a_eq: sparse.csr_matrix, a_ub: sparse.csr_matrix) -> None:
        incidence = sparse.vstack([abs(a_eq), abs(a_ub)]).tocsr()
        self._rows = incidence  # row -> cells
        self._cols = incidence.tocsc()  # cell -> rows

    def around(self, cell: int, limit: int) -> np.ndarray:
        """Up to `limit` cells nearest to `cell` (itself first), in breadth-first order."""
        rows, cols = self._rows, self._cols
        chosen = [cell]
        seen_cells, seen_rows = {cell}, set()
        frontier = [cell]
        while frontier and len(chosen) < limit:
            next_frontier = []
            for current in frontier:
                for r in cols.indices[cols.indptr[current] : cols.indptr[current + 1]].tolist():
                    if r in seen_rows:
                        continue
                    seen_rows.add(r)
                    for other in rows.indices[rows.indptr[r] : rows.indptr[r + 1]].tolist():
                        if other not in seen_cells and len(chosen) < limit:
                            seen_cells.add(other)
                            chosen.append(other)
                            next_frontier.append(other)
            frontier = next_frontier
        return np.asarray(chosen, dtype=np.int64)


def _restricted(a_eq, b_eq, a_ub, b_ub, values: np.ndarray, cells: np.ndarray):
    """The polytope with only `cells` free (columns in that order) and every other cell at
    its true value: a restriction, so each range in it lies inside the true one."""
    fixed = np.ones(a_eq.shape[1], dtype=bool)
    fixed[cells] = False
    known = np.where(fixed, values, 0.0)
    eq_rhs, ub_rhs = b_eq - a_eq @ known, b_ub - a_ub @ known
    eq_local, ub_local = a_eq[:, cells].tocsr(), a_ub[:, cells].tocsr()
    eq_rows = np.flatnonzero(np.diff(eq_local.indptr) > 0)
    ub_rows = np.flatnonzero(np.diff(ub_local.indptr) > 0)
    return eq_local[eq_rows], eq_rhs[eq_rows], ub_local[ub_rows], ub_rhs[ub_rows]


def _local_range(
    a_eq, b_eq, a_ub, b_ub, values: np.ndarray, cells: np.ndarray
) -> tuple[float, float]:
    """Range of `cells[0]` with only `cells` free (see `_restricted`)."""
    restricted = _restricted(a_eq, b_eq, a_ub, b_ub, values, cells)
    eq_local, eq_rhs, ub_local, ub_rhs = restricted
    return _range(Polytope(ub_local, ub_rhs, eq_local, eq_rhs), 0)


@dataclass(frozen=True)
class _HiddenSystem:
    """The attacker's equations restricted to the hidden cells: columns are the hidden
    cells (`position[cell]` is a cell's column), right-hand sides hold what is published,
    and `labels` names each column's LP group (no row links two groups)."""

    columns: np.ndarray
    position: np.ndarray
    labels: np.ndarray
    count: int
    eq_h: sparse.csc_matrix
    ub_h: sparse.csc_matrix
    eq_rhs: np.ndarray
    ub_rhs: np.ndarray

    @classmethod
    def of(
        cls,
        problem: Problem,
        hidden: np.ndarray,
        matrices: tuple[sparse.csr_matrix, sparse.csr_matrix] | None = None,
    ) -> _HiddenSystem:
        eq, ub = matrices if matrices is not None else (problem.matrix(), problem.bound_matrix())
        columns = np.flatnonzero(hidden)
        labels, count = _lp_groups(eq, ub, hidden)
        known = np.where(hidden, 0.0, problem.values.astype(np.float64))
        position = np.full(problem.size, -1, dtype=np.int64)
        position[columns] = np.arange(len(columns))
        return cls(
            columns,
            position,
            labels,
            count,
            eq[:, columns].tocsc(),
            ub[:, columns].tocsc(),
            -(eq @ known),
            -(ub @ known),
        )

    def polytopes(
        self, cells: list[int], loaded: LoadedGroups | None = None
    ) -> Iterator[tuple[np.ndarray, list[tuple[str, int]], Polytope, list[int]]]:
        """Per LP group holding some of the hidden `cells`: its members (positions among the
        hidden columns), its rows in LP order (("relation", index) then ("bound", index)
        into the problem's lists), those rows loaded into HiGHS (taken from `loaded` when
        an audit of the same hidden cells loaded it), and those of `cells` in it (in the
        order given)."""
        by_group: dict[int, list[int]] = {}
        for cell in cells:
            by_group.setdefault(int(self.labels[self.position[cell]]), []).append(cell)
        for label, group_cells in by_group.items():
            members = np.flatnonzero(self.labels == label)
            eq_rows, ub_rows = _lp_rows(self.eq_h, self.ub_h, members)
            rows = [("relation", int(r)) for r in eq_rows] + [("bound", int(b)) for b in ub_rows]
            known = loaded.get(self.columns[members].tobytes()) if loaded is not None else None
            if known:
                polytope = known[0]
            else:
                a_eq, b_eq, a_ub, b_ub = _lp_of(
                    self.eq_h, self.ub_h, self.eq_rhs, self.ub_rhs, members, eq_rows, ub_rows
                )
                polytope = Polytope(a_ub, b_ub, a_eq, b_eq)
            yield members, rows, polytope, group_cells


def _lp_rows(
    eq_h: sparse.csc_matrix, ub_h: sparse.csc_matrix, members: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The relation and bound rows of a group (`members`: positions among the hidden
    columns), ascending: the group's LP has its equalities in this order, then its
    inequalities. `pinning_constraints` reads the duals of a group `interval_violations`
    loaded by this order, so both build the LP here and in `_lp_of`."""
    return np.unique(eq_h[:, members].indices), np.unique(ub_h[:, members].indices)


def _lp_of(
    eq_h: sparse.csc_matrix,
    ub_h: sparse.csc_matrix,
    eq_rhs: np.ndarray,
    ub_rhs: np.ndarray,
    members: np.ndarray,
    eq_rows: np.ndarray,
    ub_rows: np.ndarray,
) -> tuple[sparse.csr_matrix, np.ndarray, sparse.csr_matrix, np.ndarray]:
    """(a_eq, b_eq, a_ub, b_ub) of a group over its members, rows as `_lp_rows` gives them."""
    return (
        eq_h[:, members].tocsr()[eq_rows],
        eq_rhs[eq_rows],
        ub_h[:, members].tocsr()[ub_rows],
        ub_rhs[ub_rows],
    )


def _targets_by_group(
    requirements: dict[int, Requirement],
    hidden: np.ndarray,
    labels: np.ndarray,
    position: np.ndarray,
) -> dict[int, list[int]]:
    """Hidden sensitive cells (sorted) grouped by the label of their LP group."""
    targets_by_group: dict[int, list[int]] = {}
    for cell in sorted(requirements):
        if hidden[cell]:
            targets_by_group.setdefault(int(labels[position[cell]]), []).append(cell)
    return targets_by_group


def _one_group_interval_violations(
    problem: Problem,
    columns: np.ndarray,
    members: np.ndarray,
    cells: list[int],
    requirements: dict[int, Requirement],
    eq_h: sparse.csc_matrix,
    ub_h: sparse.csc_matrix,
    eq_rhs: np.ndarray,
    ub_rhs: np.ndarray,
    exact: bool,
    confirm: bool,
    loaded: list[Polytope] | None = None,
) -> list[int]:
    """Sorted target `cells` of one group (`members`: positions among hidden columns) that
    miss their requirement (`loaded`: see `_group_violations`)."""
    eq_rows, ub_rows = _lp_rows(eq_h, ub_h, members)
    coefs = eq_h[eq_rows[0], members].toarray().ravel() if len(eq_rows) == 1 else np.zeros(0)
    if len(eq_rows) == 1 and not len(ub_rows) and len(np.unique(coefs)) == 1:
        # One sum of hidden cells (all on the same side), nothing else: each ranges
        # over [0, that sum] when it has two or more cells, else it is exact.
        total = abs(float(eq_rhs[eq_rows[0]]) / float(coefs[0]))
        low = 0.0 if len(members) >= 2 else total
        return [c for c in cells if not _meets(low, total, requirements[c])]
    a_eq, b_eq, a_ub, b_ub = _lp_of(eq_h, ub_h, eq_rhs, ub_rhs, members, eq_rows, ub_rows)
    local = {int(columns[m]): j for j, m in enumerate(members)}
    found = _group_violations(
        a_eq,
        b_eq,
        a_ub,
        b_ub,
        [local[c] for c in cells],
        [requirements[c] for c in cells],
        problem.values[columns[members]].astype(np.float64),
        exact,
        confirm,
        loaded,
    )
    inverse = {j: c for c, j in local.items()}
    return sorted(inverse[j] for j in found)


def interval_violations(
    problem: Problem,
    hidden: np.ndarray,
    requirements: dict[int, Requirement],
    *,
    matrices: tuple[sparse.csr_matrix, sparse.csr_matrix] | None = None,
    cache: dict | None = None,
    exact: bool = False,
    confirm: bool = False,
    loaded: LoadedGroups | None = None,
) -> list[int]:
    """Sensitive hidden cells (keys of `requirements`) whose feasible range, derived from
    everything published with every relation and bound, misses their requirement.

    A cell reported is one whose range could not be shown to meet its requirement: in a
    large group that may be judged on a local restriction (see `_group_violations`);
    `exact` asks for whole-group ranges; `confirm` for them where a few cells of a large
    group are left open. A cell not reported always meets it.
    `cache` (kept by the caller) reuses the answer of groups unchanged since an earlier call.
    `loaded` (kept by the caller for these `hidden` cells only) receives the groups of more
    than `LOCAL_CELLS` cells that were loaded into HiGHS, for `pinning_constraints` to
    start from instead of loading and solving them cold again.
    """
    hidden = np.asarray(hidden, dtype=bool)
    if not hidden.any():
        return []
    system = _HiddenSystem.of(problem, hidden, matrices)
    columns, labels, position = system.columns, system.labels, system.position
    eq_h, ub_h, eq_rhs, ub_rhs = system.eq_h, system.ub_h, system.eq_rhs, system.ub_rhs
    targets_by_group = _targets_by_group(requirements, hidden, labels, position)
    order = np.argsort(labels, kind="stable")
    starts = np.searchsorted(labels[order], np.arange(system.count + 1))
    violated: list[int] = []
    with single_threaded_blas():
        for label, cells in sorted(targets_by_group.items()):
            members = order[starts[label] : starts[label + 1]]  # positions among hidden columns
            key = (columns[members].tobytes(), tuple(cells), exact, confirm)
            if cache is not None and key in cache:
                violated += cache[key]
                continue
            group_loaded = (
                loaded.setdefault(columns[members].tobytes(), [])
                if loaded is not None and len(members) > LOCAL_CELLS
                else None
            )
            result = _one_group_interval_violations(
                problem,
                columns,
                members,
                cells,
                requirements,
                eq_h,
                ub_h,
                eq_rhs,
                ub_rhs,
                exact,
                confirm,
                group_loaded,
            )
            if cache is not None:
                cache[key] = result
            violated += result
    return sorted(violated)


def feasible_ranges(
    problem: Problem, hidden: np.ndarray, cells: list[int]
) -> dict[int, tuple[float, float]]:
    """(min, max) of each hidden cell in `cells` (one pair of LPs per cell; for audits and
    benchmarks, not for the protection loop)."""
    system = _HiddenSystem.of(problem, np.asarray(hidden, dtype=bool))
    out: dict[int, tuple[float, float]] = {}
    for members, _, polytope, group_cells in system.polytopes(cells):
        for cell in group_cells:
            out[cell] = _range(polytope, int(np.searchsorted(members, system.position[cell])))
    return {cell: out[cell] for cell in cells}


def pinning_constraints(
    problem: Problem,
    hidden: np.ndarray,
    requirements: dict[int, Requirement],
    matrices: tuple[sparse.csr_matrix, sparse.csr_matrix] | None = None,
    loaded: LoadedGroups | None = None,
) -> dict[int, list[tuple[str, int]]]:
    """For each hidden cell of `requirements` whose whole-group range misses it, the
    constraints that bind the offending optimum (the minimum when it is above a required
    point, the maximum when below, both when the range is too narrow), strongest first:
    ("relation", index) or ("bound", index) into the problem's lists. Cells that meet
    their requirement are left out.

    They come from the LP's dual values: only a binding constraint can move the optimum
    when one of its published cells is hidden. Where a range is pinned by a chain of bounds
    and sums far from the cell, these are the constraints at the chain's end, which the
    rings of relations around the cell need many rounds to reach. `loaded`: the groups an
    `interval_violations` call on the same hidden cells loaded, solved from where it left
    them (warm) instead of cold.
    """
    system = _HiddenSystem.of(problem, np.asarray(hidden, dtype=bool), matrices)
    out: dict[int, list[tuple[str, int]]] = {}
    for members, rows, polytope, cells in system.polytopes(sorted(requirements), loaded):
        for cell in cells:
            target = int(np.searchsorted(members, system.position[cell]))
            requirement = requirements[cell]
            ends = {}
            for sign in (1.0, -1.0):
                result = polytope.optimise(target, sign)
                duals = np.abs(polytope.row_duals()) if result.status == OPTIMAL else None
                ends[sign] = (_signed_optimum(result, sign), duals)
            (low, low_duals), (high, high_duals) = ends[1.0], ends[-1.0]
            if _meets(low, high, requirement):
                continue
            narrow = high - low < requirement.width - _LP_TOLERANCE
            strength: dict[tuple[str, int], float] = {}
            for duals, pinned in (
                (low_duals, narrow or low > min(requirement.points) + _LP_TOLERANCE),
                (high_duals, narrow or high < max(requirement.points) - _LP_TOLERANCE),
            ):
                if not pinned or duals is None:
                    continue
                for j in np.flatnonzero(duals > _LP_TOLERANCE).tolist():
                    strength[rows[j]] = max(strength.get(rows[j], 0.0), float(duals[j]))
            out[cell] = sorted(strength, key=lambda row: (-strength[row], row))
    return out


@dataclass(frozen=True)
class SmallCellAudit:
    """The feasible ranges of (a deterministic sample of) the hidden cells holding 1..k-1."""

    cells_checked: int
    narrowest_range: float  # nan when none was checked
    highest_lower_bound: float

    def passed(self, threshold: int) -> bool:
        return self.cells_checked == 0 or (
            self.narrowest_range >= threshold - _LP_TOLERANCE
            and self.highest_lower_bound <= _LP_TOLERANCE
        )


def audit_small_cells(
    problem: Problem, status: np.ndarray, threshold: int, sample: int = 0
) -> SmallCellAudit:
    """LP ranges of the hidden small cells of a protected problem (`sample` > 0: that many,
    drawn with a fixed seed, so the same publication gives the same audit)."""
    hidden = ~problem.published | (status != 0)
    small = np.flatnonzero(
        hidden & problem.published & (problem.values >= 1) & (problem.values < threshold)
    )
    if sample and len(small) > sample:
        small = np.sort(np.random.default_rng(0).choice(small, sample, replace=False))
    ranges = feasible_ranges(problem, hidden, small.tolist())
    if not ranges:
        return SmallCellAudit(0, float("nan"), float("nan"))
    return SmallCellAudit(
        len(ranges),
        min(high - low for low, high in ranges.values()),
        max(low for low, _ in ranges.values()),
    )
