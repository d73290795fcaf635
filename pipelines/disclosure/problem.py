"""The disclosure problem: cells and the additive relations between them.

A relation `[t, c1, c2, ...]` states `value[t] == value[c1] + value[c2] + ...` exactly. Cells
are either published (a row of a published table) or *virtual*: a residual that is never
published, e.g. the survivors of a province whose district is unknown (province total minus
the published districts). Virtual cells make every relation exact, so the auditor can treat
them like any other unknown; a virtual cell holding 1..threshold-1 people is as sensitive as
a suppressed one and must not be derivable either.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components


@dataclass
class Problem:
    """Cells (index 0..n-1) and relations over them.

    `values`: true counts; `published`: False for virtual (never published) cells;
    `relations`: each an int array `[total, child, child, ...]`; `bounds`: inequalities
    `(small, large)` meaning sum(values[small]) <= sum(values[large]) (known to an attacker,
    used by the interval audit; the exact auditor and `parts` look at relations only).
    """

    values: np.ndarray
    published: np.ndarray
    relations: list[np.ndarray] = field(default_factory=list)
    bounds: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.values)

    def check(self) -> None:
        """Raise ValueError when a relation does not hold (a bug in the relation builder)."""
        for relation in self.relations:
            total, children = relation[0], relation[1:]
            if self.values[total] != self.values[children].sum():
                raise ValueError(
                    f"relation {relation.tolist()} does not add up: "
                    f"{self.values[total]} != {self.values[children].tolist()}"
                )
        for small, large in self.bounds:
            if self.values[small].sum() > self.values[large].sum():
                raise ValueError(f"bound {small.tolist()} <= {large.tolist()} does not hold")

    def bound_matrix(self) -> sparse.csr_matrix:
        """Bounds as a sparse matrix B with `B @ values <= 0` (+1 small, -1 large)."""
        rows, cols, data = [], [], []
        for r, (small, large) in enumerate(self.bounds):
            rows += [r] * (len(small) + len(large))
            cols += [*small.tolist(), *large.tolist()]
            data += [1.0] * len(small) + [-1.0] * len(large)
        matrix = sparse.csr_matrix((data, (rows, cols)), shape=(len(self.bounds), self.size))
        matrix.sum_duplicates()
        return matrix

    def matrix(self) -> sparse.csr_matrix:
        """Relations as a sparse matrix (one row per relation): +1 on the total, -1 on each
        child, so `matrix @ values == 0`. Built once per call; callers keep it."""
        if not self.relations:
            return sparse.csr_matrix((0, self.size), dtype=np.float64)
        lengths = np.fromiter(
            (len(r) for r in self.relations), dtype=np.int64, count=len(self.relations)
        )
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        indices = np.concatenate(self.relations).astype(np.int64)
        data = -np.ones(len(indices))
        data[indptr[:-1]] = 1.0
        return sparse.csr_matrix((data, indices, indptr), shape=(len(self.relations), self.size))

    def parts(self) -> list[np.ndarray]:
        """Cell indices of the independent parts: connected components of the graph in which
        cells sharing a relation are linked. No relation crosses two parts, so each part can
        be protected (and audited) on its own, whatever is hidden."""
        incidence = self.matrix()
        incidence.data[:] = 1.0
        adjacency = (incidence.T @ incidence).tocsr()
        count, labels = connected_components(adjacency, directed=False)
        order = np.argsort(labels, kind="stable")
        bounds = np.searchsorted(labels[order], np.arange(count + 1))
        return [order[bounds[k] : bounds[k + 1]] for k in range(count)]

    def subproblem(self, cells: np.ndarray) -> Problem:
        """The problem restricted to `cells` (a union of parts), cells renumbered 0..k-1 in
        the order given."""
        position = np.full(self.size, -1, dtype=np.int64)
        position[cells] = np.arange(len(cells))
        relations = [position[r] for r in self.relations if position[r[0]] >= 0]
        # Which bounds lie wholly inside, for all bounds at once (two numpy reductions per
        # bound took ~1.5 s of a 1M-record publication, whose ~65,000 bounds are scanned
        # once per batch of parts).
        sides = [side for bound in self.bounds for side in bound]
        outside = np.bincount(
            np.repeat(np.arange(len(sides)) // 2, [len(side) for side in sides]),
            weights=position[np.concatenate(sides)] < 0 if sides else None,
            minlength=len(self.bounds),
        )
        bounds = [
            (position[s], position[t])
            for (s, t), out in zip(self.bounds, outside.tolist(), strict=True)
            if not out
        ]
        return Problem(self.values[cells], self.published[cells], relations, bounds)

    def memberships(self) -> list[list[int]]:
        """For every cell, the indices of the relations it takes part in."""
        member: list[list[int]] = [[] for _ in range(self.size)]
        for r, relation in enumerate(self.relations):
            for cell in relation:
                member[int(cell)].append(r)
        return member


def build_problem(
    values: np.ndarray, groups: list[tuple[int, np.ndarray]], *, exact: bool = True
) -> Problem:
    """A Problem from published `values` and (total index, children indices) groups.

    Where the children do not add up to the total (a residual: unknown place or category),
    a virtual cell holding the residual is appended and joins the relation, so every relation
    is an exact sum. A residual of zero adds nothing: the relation is treated as closed, the
    conservative choice (an attacker may well guess that nothing is unknown).
    """
    values = np.asarray(values, dtype=np.int64)
    extra: list[int] = []
    relations: list[np.ndarray] = []
    n = len(values)
    for total, children in groups:
        children = np.asarray(children, dtype=np.int64)
        residual = int(values[total]) - int(values[children].sum())
        if residual < 0 and exact:
            raise ValueError(
                f"children exceed their total at cell {total}: {values[children].sum()} > "
                f"{values[total]}"
            )
        members = [int(total), *children.tolist()]
        if residual > 0:
            members.append(n + len(extra))
            extra.append(residual)
        relations.append(np.asarray(members, dtype=np.int64))
    all_values = np.concatenate([values, np.asarray(extra, dtype=np.int64)])
    published = np.concatenate([np.ones(n, dtype=bool), np.zeros(len(extra), dtype=bool)])
    return Problem(all_values, published, relations)
