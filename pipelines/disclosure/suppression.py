"""Primary and secondary cell suppression for frequency tables.

Primary: a published count of 1..threshold-1 is suppressed (zeros are published: "nobody"
singles out no one, and hiding zeros would hide where services are missing).

Secondary (a heuristic, see `docs/data-dictionary.md` and the module `relations` for the
relations protected): after primary suppression, repeat until nothing changes:

1. Propagate what an attacker can compute: in any relation with exactly one unknown cell,
   that cell follows by subtraction. A computed never-published residual that is not itself
   sensitive is harmless and becomes "known" for the next relations (that is how chains of
   subtraction work); a computed *suppressed* (or sensitive residual) cell is a violation.
2. For every violated relation, suppress one more cell of it (a complement): the smallest
   non-zero published cell, children before the total (totals are the most used numbers),
   and a zero only when no non-zero cell is left.
3. When no relation has a single unknown, run the exact auditor (`audit`): it catches cells
   recoverable only by combining several relations (e.g. a bridge between two suppression
   cycles, or across linked tables). For each such cell add a complement in the relation
   around it with the fewest unknowns, and go back to 1.

The loop ends because every pass suppresses at least one more cell and the table is finite;
when it ends the auditor has found nothing, in every group, however large (no group is ever
skipped). It is not optimal (tau-ARGUS' OPT minimises the suppressed total), but it is
predictable. Independent parts of a table (no relation between them, e.g. different measures
or periods of a non-additive measure) are protected one batch at a time, and the auditor
caches its answer for groups that did not change between rounds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import numpy as np
from scipy import sparse

from pipelines.disclosure.audit import (
    LAST_STATS,
    LoadedGroups,
    Requirement,
    interval_violations,
    pinning_constraints,
    recoverable_in_problem,
)
from pipelines.disclosure.problem import Problem

logger = logging.getLogger(__name__)

PUBLISHED, PRIMARY, SECONDARY = 0, 1, 2


class CannotWiden(RuntimeError):
    """Hidden small cells whose range stays too narrow with every cell around them hidden,
    and no way to leave them out of the publication (see `suppress`'s `leave_out`)."""

    def __init__(self, cells: list[int]) -> None:
        super().__init__(f"cannot widen {len(cells)} ranges: no publishable cell left")
        self.cells = cells


DEFAULT_THRESHOLD = 5
# Takes cells out of the publication: marks them never published in the problem and returns
# the mask of every cell it took out (None when it cannot).
LeaveOut = Callable[[list[int]], "np.ndarray | None"]


def primary_mask(values: np.ndarray, threshold: int) -> np.ndarray:
    """True where a count is 1..threshold-1 (must not be published)."""
    values = np.asarray(values)
    return (values >= 1) & (values < threshold)


def _complement(problem: Problem, status: np.ndarray, relation: np.ndarray) -> int | None:
    """The cell of `relation` to suppress next, or None when none is publishable."""
    candidates = [int(c) for c in relation if problem.published[c] and status[c] == PUBLISHED]
    if not candidates:
        return None
    total = int(relation[0])

    def rank(cell: int) -> tuple[int, int, int, int]:
        value = int(problem.values[cell])
        return (value == 0, cell == total, value, cell)

    return min(candidates, key=rank)


def _propagate(
    problem: Problem,
    status: np.ndarray,
    must_protect: np.ndarray,
    member: list[list[int]],
    counter: sparse.csr_matrix,
) -> list[int]:
    """Relations where a protected cell follows by subtraction (after known residuals)."""
    known = problem.published & (status == PUBLISHED)
    unknown_count = np.rint(counter @ (~known).astype(np.float64)).astype(np.int64)
    queue = np.flatnonzero(unknown_count == 1).tolist()
    violated: set[int] = set()
    while queue:
        r = queue.pop()
        relation = problem.relations[r]
        unknown = relation[~known[relation]]
        if len(unknown) != 1:
            continue
        cell = int(unknown[0])
        if must_protect[cell]:
            violated.add(r)
            continue
        known[cell] = True  # a harmless residual the attacker can now compute
        for other in member[cell]:
            unknown_count[other] -= 1
            if unknown_count[other] == 1:
                queue.append(other)
    return sorted(violated)


# Independent parts are protected in batches of about this many cells: one batch per part
# would cost a Python round trip per tiny part; one batch for everything would re-run the
# heuristic over the whole table for every complement.
_BATCH_CELLS = 20_000


def suppress(
    problem: Problem,
    threshold: int = DEFAULT_THRESHOLD,
    *,
    max_rounds: int = 10_000,
    references: np.ndarray | None = None,
    intervals: bool = True,
    kept: np.ndarray | None = None,
    leave_out: LeaveOut | None = None,
    left_out: np.ndarray | None = None,
) -> np.ndarray:
    """Status per cell: PUBLISHED, PRIMARY or SECONDARY (virtual cells stay PUBLISHED).

    Primary suppression of published cells holding 1..threshold-1 (and, with `references`,
    of cells whose value moved by 1..threshold-1 since the value published before: NaN where
    none), then secondary suppression until no suppressed cell and no sensitive residual can
    be computed (the exact auditor confirms it for every group, however large), then, with
    `intervals`, until every sensitive hidden cell's feasible range (LP over all relations
    and bounds) includes 0 (and its reference) and is at least `threshold` wide.
    `kept` marks cells that stay hidden whatever their value (earlier suppressions in force).
    `leave_out(cells)`, when given, is asked to take out of the publication the cells whose
    range stays too narrow with everything around them hidden (their whole slices): it marks
    them never published in `problem` and returns them; they then need no range, only not
    to be exactly computable when small (like a never-published residual). Without it, or
    when it returns None, `CannotWiden` is raised. `left_out` marks cells already out of
    the publication (never published in `problem`, no range required).
    Deterministic: ties are broken by cell number (the caller numbers cells in key order).
    """
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    status = np.full(problem.size, PUBLISHED, dtype=np.int8)
    status[problem.published & primary_mask(problem.values, threshold)] = PRIMARY
    moved = _moved(problem, references, threshold)
    status[moved] = PRIMARY
    if kept is not None:
        # Hidden by the latest publication and unchanged since: showing it now would reveal
        # what that file hid.
        status[np.asarray(kept, dtype=bool) & problem.published] = PRIMARY
    if not problem.relations and not problem.bounds:
        return status
    audited: dict[bytes, dict] = {}  # the exact auditor's answers per batch, for both passes
    status = _exact_stage(problem, status, threshold, max_rounds, audited)
    if intervals:
        status = _interval_stage(
            problem, status, threshold, references, moved, max_rounds, leave_out, left_out
        )
        # Complements the interval stage added must not be exactly computable either; hiding
        # more only widens ranges, so the interval guarantee survives this second pass. Its
        # batches are the first pass's: groups no complement touched are not solved again.
        status = _exact_stage(problem, status, threshold, max_rounds, audited)
    return status


def _moved(problem: Problem, references: np.ndarray | None, threshold: int) -> np.ndarray:
    """Published cells whose change since their last published value is 1..threshold-1."""
    if references is None:
        return np.zeros(problem.size, dtype=bool)
    references = np.asarray(references, dtype=np.float64)
    change = np.abs(problem.values - np.nan_to_num(references, nan=0.0))
    return problem.published & ~np.isnan(references) & (change >= 1) & (change < threshold)


def requirements_for(
    problem: Problem,
    hidden: np.ndarray,
    threshold: int,
    references: np.ndarray | None = None,
    moved: np.ndarray | None = None,
) -> dict[int, Requirement]:
    """What each hidden cell's feasible range must satisfy: a count of 1..threshold-1
    (published or virtual) must reach 0 and span `threshold`; a cell that moved by a small
    amount since its last published value must also reach that value; any other hidden cell
    of the file holding people must not be pinned to its value (a range at least 1 wide:
    the equalities alone may leave it free while bounds pin it)."""
    small = primary_mask(problem.values, threshold) & hidden
    moved = np.zeros(problem.size, dtype=bool) if moved is None else moved & hidden
    out: dict[int, Requirement] = {}
    for cell in np.flatnonzero(small | moved).tolist():
        points: tuple[float, ...] = (0.0,) if small[cell] else ()
        if moved[cell]:
            points = (*points, float(references[cell]))
        out[cell] = Requirement(threshold, points)
    others = hidden & problem.published & ~small & ~moved & (problem.values > 0)
    for cell in np.flatnonzero(others).tolist():
        out[cell] = Requirement(1, (float(problem.values[cell]),))
    return out


def _bound_memberships(problem: Problem) -> list[list[int]]:
    """For each cell, the indices of the bounds that mention it."""
    bound_member: list[list[int]] = [[] for _ in range(problem.size)]
    for b, (small, large) in enumerate(problem.bounds):
        for cell in {*small.tolist(), *large.tolist()}:
            bound_member[cell].append(b)
    return bound_member


def _round_requirements(
    problem: Problem,
    hidden: np.ndarray,
    threshold: int,
    references: np.ndarray | None,
    moved: np.ndarray,
    exempt: np.ndarray,
    unverified: set[int] | None,
) -> dict[int, Requirement]:
    """Requirements to audit this round: not exempt, and (after the first) still unverified."""
    requirements = requirements_for(problem, hidden, threshold, references, moved)
    requirements = {c: r for c, r in requirements.items() if not exempt[c]}
    if unverified is not None:
        # Hiding more cells only turns known numbers into unknowns, so a range that met
        # its requirement still does: only the cells that failed are asked again.
        requirements = {c: r for c, r in requirements.items() if c in unverified}
    return requirements


def _add_interval_complements(
    problem: Problem,
    status: np.ndarray,
    violated: list[int],
    member: list[list[int]],
    bound_member: list[list[int]],
    threshold: int,
    seen: dict[int, int],
    pins: dict[int, list[tuple[str, int]]],
) -> int:
    """Hide complements around the violated cells (updates `status`, `seen`); how many.
    `pins`: the constraints binding the range of cells violated before (`pinning_constraints`)."""
    touched: set[int] = set()
    added = 0
    for cell in violated:
        around = {int(c) for r in member[cell] for c in problem.relations[r]}
        if touched & around:
            continue  # a complement added this round already changed its relations
        seen[cell] = seen.get(cell, 0) + 1
        if seen[cell] == 1:
            complements = [
                _interval_complement(problem, status, cell, member, bound_member, threshold)
            ]
        else:
            # Still too narrow after a complement next to it: hide cells of the
            # constraints that bind its range, wherever they are (one the second time,
            # then twice as many each time: a range pinned through a long chain would
            # otherwise take a round per link); failing that, one complement in every
            # relation of its nearest ring.
            complements = _pinned_complements(
                problem, status, pins.get(cell, []), threshold, 2 ** (seen[cell] - 2)
            )
            if not complements:
                complements = _frontier_complements(problem, status, cell, member, threshold)
        for complement in complements:
            if complement is not None and status[complement] == PUBLISHED:
                status[complement] = SECONDARY
                touched.add(complement)
                added += 1
    return added


def _pinned_complements(
    problem: Problem,
    status: np.ndarray,
    constraints: list[tuple[str, int]],
    threshold: int,
    count: int,
) -> list[int]:
    """A publishable cell from each of the `count` strongest binding constraints that have
    one."""
    chosen: list[int] = []
    for kind, index in constraints:
        if len(chosen) == count:
            break
        if kind == "relation":
            cells = problem.relations[index]
        else:
            small, large = problem.bounds[index]
            cells = np.concatenate([small, large])
        complement = _wide_complement(problem, status, cells, threshold)
        if complement is not None and complement not in chosen:
            chosen.append(complement)
    return chosen


def _interval_stage(
    problem: Problem,
    status: np.ndarray,
    threshold: int,
    references: np.ndarray | None,
    moved: np.ndarray,
    max_rounds: int,
    leave_out: LeaveOut | None = None,
    left_out: np.ndarray | None = None,
) -> np.ndarray:
    """Add complements until every sensitive hidden cell passes the interval audit (or, with
    `leave_out`, is taken out of the publication when nothing is left to hide around it)."""
    status = status.copy()
    # Taken out of the publication: no range required.
    exempt = np.zeros(problem.size, dtype=bool) if left_out is None else left_out.copy()
    matrices = (problem.matrix(), problem.bound_matrix())
    member = problem.memberships()
    bound_member = _bound_memberships(problem)
    cache: dict = {}
    seen: dict[int, int] = {}
    unverified: set[int] | None = None  # None: every sensitive cell (first round)
    for _ in range(max_rounds):
        hidden = ~problem.published | (status != PUBLISHED)
        requirements = _round_requirements(
            problem, hidden, threshold, references, moved, exempt, unverified
        )
        # The first round confirms what the restrictions leave open: a publication of
        # unchanged data, whose cells all passed before, then adds nothing (same file).
        loaded: LoadedGroups = {}  # this round's large groups in HiGHS, for the pins
        violated = interval_violations(
            problem,
            hidden,
            requirements,
            matrices=matrices,
            cache=cache,
            confirm=unverified is None,
            loaded=loaded,
        )
        unverified = set(violated)
        logger.debug(
            "interval audit: %d of %d sensitive cells violated", len(violated), len(requirements)
        )
        if not violated:
            return status
        again = {c: requirements[c] for c in violated if seen.get(c, 0) >= 1}
        pins = pinning_constraints(problem, hidden, again, matrices, loaded) if again else {}
        loaded.clear()
        added = _add_interval_complements(
            problem, status, violated, member, bound_member, threshold, seen, pins
        )
        if not added:
            # Nothing left to hide around them: judge them on their whole groups (the
            # round's answer may have come from local restrictions) before giving up.
            stuck = interval_violations(
                problem,
                hidden,
                {c: requirements[c] for c in violated},
                matrices=matrices,
                exact=True,
            )
            if not stuck:
                return status
            taken = leave_out(stuck) if leave_out is not None else None
            if taken is None:
                raise CannotWiden(stuck)
            # Never-published cells only widen every range: what passed still passes.
            exempt |= taken
            unverified = set(stuck)
    raise RuntimeError("interval protection did not converge")


def _wide_complement(
    problem: Problem, status: np.ndarray, relation: np.ndarray, threshold: int
) -> int | None:
    """The cell of `relation` to hide for a too-narrow range: the smallest that holds at
    least `threshold` (one such cell gives the hidden cells of the relation room to span
    the threshold), else the largest; children before the total; never a zero first."""
    candidates = [int(c) for c in relation if problem.published[c] and status[c] == PUBLISHED]
    if not candidates:
        return None
    total = int(relation[0])

    def rank(cell: int) -> tuple[bool, bool, bool, int, int]:
        value = int(problem.values[cell])
        wide = value >= threshold
        return (value == 0, cell == total, not wide, value if wide else -value, cell)

    return min(candidates, key=rank)


def _rings(problem: Problem, cell: int, member: list[list[int]]) -> Iterator[list[int]]:
    """Breadth-first through the cells around `cell`: the relations of each ring, nearest
    first (ring 1: the relations of `cell`; ring 2: those of their other cells; ...)."""
    seen_cells, seen_relations = {cell}, set()
    frontier = [cell]
    while frontier:
        ring: list[int] = []
        next_frontier = []
        for current in frontier:
            for r in member[current]:
                if r in seen_relations:
                    continue
                seen_relations.add(r)
                ring.append(r)
                for other in problem.relations[r]:
                    if int(other) not in seen_cells:
                        seen_cells.add(int(other))
                        next_frontier.append(int(other))
        yield ring
        frontier = next_frontier


def _frontier_complements(
    problem: Problem, status: np.ndarray, cell: int, member: list[list[int]], threshold: int
) -> list[int | None]:
    """For a cell one complement did not widen: one wide complement in every relation of the
    nearest ring that has a publishable cell. Hiding a whole ring at once converges in a
    round or two where one cell per round took ~30 rounds (the narrowing came from relations
    several steps away)."""
    for ring in _rings(problem, cell, member):
        found = [_wide_complement(problem, status, problem.relations[r], threshold) for r in ring]
        if any(c is not None for c in found):
            return found
    return []


def _interval_complement(
    problem: Problem,
    status: np.ndarray,
    cell: int,
    member: list[list[int]],
    bound_member: list[list[int]],
    threshold: int,
) -> int | None:
    """The next cell to hide for a cell whose range is too narrow: in its relation with the
    fewest unknowns, else in a bound holding it, else the nearest publishable cell."""
    options = sorted(
        member[cell],
        key=lambda r: (
            int(
                (
                    ~(
                        problem.published[problem.relations[r]]
                        & (status[problem.relations[r]] == PUBLISHED)
                    )
                ).sum()
            ),
            r,
        ),
    )
    for r in options:
        complement = _wide_complement(problem, status, problem.relations[r], threshold)
        if complement is not None:
            return complement
    for b in bound_member[cell]:
        small, large = problem.bounds[b]
        candidates = [
            int(c)
            for c in np.concatenate([small, large])
            if problem.published[c] and status[c] == PUBLISHED
        ]
        if candidates:
            return min(
                candidates, key=lambda c: (int(problem.values[c]) == 0, int(problem.values[c]), c)
            )
    return _nearest_complement(problem, status, cell, member)


def _exact_stage(
    problem: Problem,
    status: np.ndarray,
    threshold: int,
    max_rounds: int,
    audited: dict[bytes, dict] | None = None,
) -> np.ndarray:
    """Secondary suppression until nothing sensitive is exactly recoverable. `audited` (kept
    by the caller) holds the auditor's cache of each batch (by its cells), for a later pass
    over the same problem."""
    status = status.copy()
    if not problem.relations:
        return status
    parts = [p for p in problem.parts() if len(p) > 1]
    batch: list[np.ndarray] = []
    size = 0
    for part in [*parts, None]:
        if part is not None:
            batch.append(part)
            size += len(part)
        if batch and (part is None or size >= _BATCH_CELLS):
            cells = np.concatenate(batch)
            sub = problem.subproblem(cells)
            cache = {} if audited is None else audited.setdefault(cells.tobytes(), {})
            status[cells] = _suppress_connected(sub, status[cells], threshold, max_rounds, cache)
            logger.debug("protected %d cells in %d parts", len(cells), len(batch))
            batch, size = [], 0
    return status


def _suppress_connected(
    problem: Problem, status: np.ndarray, threshold: int, max_rounds: int, cache: dict
) -> np.ndarray:
    """Secondary suppression on one batch of parts (statuses already hold the primaries;
    `cache`: the auditor's answers for this batch, see `recoverable_in_problem`)."""
    status = status.copy()
    sensitive_residual = ~problem.published & primary_mask(problem.values, threshold)
    member = problem.memberships()
    matrix = problem.matrix()
    counter = abs(matrix).tocsr()
    for _ in range(max_rounds):
        must_protect = (status != PUBLISHED) | sensitive_residual
        violated = _propagate(problem, status, must_protect, member, counter)
        added = 0
        touched: set[int] = set()
        for r in violated:
            if touched.intersection(member_cells(problem.relations[r])):
                continue  # a complement chosen this round already changed this relation
            relation = problem.relations[r]
            cell = _complement(problem, status, relation)
            if cell is None:
                cell = _neighbour_complement(problem, status, relation, member)
            if cell is not None:
                status[cell] = SECONDARY
                touched.add(cell)
                added += 1
        if added:
            continue
        hidden = ~problem.published | (status != PUBLISHED)
        recovered = [
            int(c)
            for c in recoverable_in_problem(problem, hidden, matrix=matrix, cache=cache)
            if must_protect[c]
        ]
        logger.debug(
            "audit round: %d groups, largest %d hidden cells (core %d), %d recovered",
            LAST_STATS.groups,
            LAST_STATS.largest_group,
            LAST_STATS.largest_core,
            len(recovered),
        )
        if not recovered:
            return status
        for cell in recovered:
            options = sorted(
                member[cell],
                key=lambda r: int(
                    (
                        ~(
                            problem.published[problem.relations[r]]
                            & (status[problem.relations[r]] == 0)
                        )
                    ).sum()
                ),
            )
            complement = None
            for r in options:
                complement = _complement(problem, status, problem.relations[r])
                if complement is not None:
                    break
            if complement is None:
                complement = _nearest_complement(problem, status, cell, member)
            if complement is not None:
                status[complement] = SECONDARY
                added += 1
        if not added:
            raise RuntimeError(
                f"cannot protect {len(recovered)} cells: no publishable cell left around them"
            )
    raise RuntimeError("secondary suppression did not converge")


def _nearest_complement(
    problem: Problem, status: np.ndarray, cell: int, member: list[list[int]]
) -> int | None:
    """Breadth-first through hidden cells: the first relation with a publishable cell."""
    for ring in _rings(problem, cell, member):
        for r in ring:
            candidate = _complement(problem, status, problem.relations[r])
            if candidate is not None:
                return candidate
    return None


def member_cells(relation: np.ndarray) -> set[int]:
    """The cells of a relation as a set of ints."""
    return {int(c) for c in relation}


def _neighbour_complement(
    problem: Problem, status: np.ndarray, relation: np.ndarray, member: list[list[int]]
) -> int | None:
    """A complement in a relation sharing a residual of `relation` (when it has no candidate)."""
    for cell in relation:
        if problem.published[cell]:
            continue
        for r in member[int(cell)]:
            candidate = _complement(problem, status, problem.relations[r])
            if candidate is not None:
                return candidate
    return None
