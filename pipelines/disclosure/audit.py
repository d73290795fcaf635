"""The auditor: which hidden cells can an attacker compute exactly from what is published?

An attacker knows every published value and every relation (the table layout says which
totals are sums of which cells). The hidden cells (suppressed cells and never-published
residuals) are unknowns of a linear system `A x = b`. A hidden cell is *recoverable* exactly
when its unit vector lies in the row space of `A`, i.e. when every solution of the system
gives it the same value: equivalently its row in a basis of the null space of `A` is zero.
This is exact (up to floating point on small integer matrices) and catches what simple
subtraction misses (chains across levels, linked tables, "bridge" cells between two cycles).

It is solved per connected component (relations linked through shared hidden cells), so the
cost follows the size of the suppression patterns, not of the table.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from pipelines.disclosure.problem import Problem

logger = logging.getLogger(__name__)
_TOLERANCE = 1e-8


def _components(problem: Problem, hidden: np.ndarray) -> list[tuple[list[int], list[int]]]:
    """Connected components as (hidden cells, relations) pairs, by union-find."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    rel_hidden: list[list[int]] = []
    for relation in problem.relations:
        cells = [int(c) for c in relation if hidden[c]]
        rel_hidden.append(cells)
        for cell in cells:
            find(cell)
        for a, b in zip(cells, cells[1:], strict=False):
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[ra] = rb
    groups: dict[int, tuple[list[int], list[int]]] = {}
    for cell in parent:
        groups.setdefault(find(cell), ([], []))[0].append(cell)
    for r, cells in enumerate(rel_hidden):
        if cells:
            groups[find(cells[0])][1].append(r)
    return list(groups.values())


def recoverable_in_problem(
    problem: Problem, hidden: np.ndarray, *, max_component: int | None = None
) -> np.ndarray:
    """Indices of hidden cells whose value follows exactly from the visible cells.

    `max_component` skips (with a warning) components with more hidden cells than that:
    the SVD costs O(n^3) and the secondary-suppression loop calls this every round.
    """
    hidden = np.asarray(hidden, dtype=bool)
    found: list[int] = []
    for cells, relation_ids in _components(problem, hidden):
        if not relation_ids:
            continue
        if max_component is not None and len(cells) > max_component:
            logger.warning(
                "exact audit skipped for a component of %d hidden cells (limit %d)",
                len(cells), max_component,
            )
            continue
        column = {cell: j for j, cell in enumerate(sorted(cells))}
        matrix = np.zeros((len(relation_ids), len(column)))
        for i, r in enumerate(relation_ids):
            relation = problem.relations[r]
            for position, cell in enumerate(relation):
                cell = int(cell)
                if cell in column:
                    matrix[i, column[cell]] += 1.0 if position == 0 else -1.0
        _, singular, vt = np.linalg.svd(matrix)
        rank = int((singular > _TOLERANCE * max(1.0, singular.max(initial=0.0))).sum())
        null_basis = vt[rank:].T  # columns span the null space
        for cell, j in column.items():
            if null_basis.shape[1] == 0 or np.abs(null_basis[j]).max() < 1e-7:
                found.append(cell)
    return np.asarray(sorted(found), dtype=np.int64)


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
        published[[*keys, "value"]].rename(columns={"value": "published_value"}),
        on=keys, how="left", validate="one_to_one",
    )
    if aligned["published_value"].isna().sum() != published["value"].isna().sum():
        raise ValueError("published and unsuppressed tables do not have the same rows")
    problem = problem_for(kind, aligned[[*keys, "value"]])
    n = len(aligned)
    hidden = np.concatenate([aligned["published_value"].isna().to_numpy(),
                             np.ones(problem.size - n, dtype=bool)])
    cells = recoverable_in_problem(problem, hidden)
    rows = aligned.iloc[[c for c in cells if c < n]].copy()
    rows["is_residual"] = False
    residual_values = problem.values[[c for c in cells if c >= n]]
    sensitive = int(((residual_values >= 1) & (residual_values < threshold)).sum())
    if sensitive:
        extra = pd.DataFrame({"is_residual": [True] * sensitive})
        rows = pd.concat([rows, extra], ignore_index=True)
    return rows
