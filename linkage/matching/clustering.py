"""Clusters of records from links, guarded against chaining.

Input: the records of the affected components and their edges: auto-links and reviewed
must-links (cannot-link pairs never form an edge). Output: one cluster (list of
record_tokens) per connected component after the guards, plus the auto-link edges that the
guards demoted to review.

Guards, because one wrong link can fuse two people (and then everything linked to them):
- a *weak bridge*: an auto-link whose removal would split a component into two groups of
  >= 2 records each, with weight below the auto-link threshold + `bridge_margin`, is demoted
  to review: two groups held together by one barely-sure link are not merged automatically;
- an *oversized* component (> `max_cluster_size` records) or one that contains a
  cannot-link pair (reviewed, or inferred for this run from the pair's own evidence
  against, `linkage.matching.evidence.chain_conflicts`) is rebuilt by a constrained
  union: must-links first, then auto-links by descending weight, skipping a link that
  would exceed the size limit or join a cannot-link pair. Skipped links become review
  pairs.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Edge:
    left: str
    right: str
    weight: float
    must_link: bool = False


@dataclass
class ClusterResult:
    clusters: list[list[str]]
    demoted: list[tuple[str, str]] = field(default_factory=list)


# From this many records components come from scipy, whose ~0.6 ms of set-up per call no
# longer matters: on the whole graph of 1M synthetic records union-find in Python took 4.4 s,
# scipy 2.7 s (most of it finding the tokens' positions).
_SCIPY_FROM = 1_000


def components(nodes: list[str], edges: list[Edge]) -> list[list[str]]:
    """Connected components of `nodes` over `edges`: each in the order of `nodes`, the
    components in the order of their first record.

    Called once for the whole graph and again for components split by the guards: scipy's
    sparse graph routines cost ~0.6 ms of set-up per call, which dominated linking on 100k
    records (28k calls), while union-find over a few edges costs microseconds. Large
    inputs go to scipy.
    """
    if len(nodes) >= _SCIPY_FROM:
        position = pd.Index(nodes)
        if position.is_unique:  # (a repeated node stays with union-find, as it always was)
            return _scipy_components(nodes, position, edges)
    parent = {token: token for token in nodes}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for edge in edges:
        a, b = find(edge.left), find(edge.right)
        if a != b:
            parent[b] = a
    groups: dict[str, list[str]] = defaultdict(list)
    for token in nodes:
        groups[find(token)].append(token)
    return list(groups.values())


def _scipy_components(nodes: list[str], position: pd.Index, edges: list[Edge]) -> list[list[str]]:
    """`components` by scipy's connected_components, in the same order (`position`: the
    nodes as a unique index)."""
    left = position.get_indexer([e.left for e in edges])
    right = position.get_indexer([e.right for e in edges])
    if (left < 0).any() or (right < 0).any():
        raise ValueError("an edge has a record that is not among the nodes")
    graph = sparse.coo_matrix(
        (np.ones(len(edges), dtype=np.int32), (left, right)), shape=(len(nodes), len(nodes))
    )
    _, labels = connected_components(graph, directed=False)
    # Members in node order (a stable sort by label), components by their first member.
    by_label = np.argsort(labels, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(labels[by_label]) != 0])
    ends = np.r_[starts[1:], len(nodes)]
    in_order = np.argsort(by_label[starts])
    members = by_label.tolist()
    return [
        [nodes[i] for i in members[start:end]]
        for start, end in zip(starts[in_order].tolist(), ends[in_order].tolist(), strict=True)
    ]


def _bridges(nodes: list[str], edges: list[Edge]) -> list[tuple[Edge, int]]:
    """Bridge edges of one connected component, each with the number of records on its far
    side (iterative Tarjan, parallel edges counted).

    The far side of a bridge is the depth-first subtree below it, so its size comes from
    the same pass: recomputing components per bridge was quadratic on large components.
    """
    adjacency: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for i, e in enumerate(edges):
        adjacency[e.left].append((e.right, i))
        adjacency[e.right].append((e.left, i))
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    size: dict[str, int] = {}
    bridges: list[tuple[Edge, int]] = []
    counter = 0
    for root in nodes:
        if root in order:
            continue
        order[root] = low[root] = counter
        size[root] = 1
        counter += 1
        stack = [(root, -1, iter(adjacency[root]))]
        while stack:
            node, parent_edge, neighbours = stack[-1]
            advanced = False
            for neighbour, edge_index in neighbours:
                if edge_index == parent_edge:
                    continue
                if neighbour in order:
                    low[node] = min(low[node], order[neighbour])
                else:
                    order[neighbour] = low[neighbour] = counter
                    size[neighbour] = 1
                    counter += 1
                    stack.append((neighbour, edge_index, iter(adjacency[neighbour])))
                    advanced = True
                    break
            if not advanced:
                stack.pop()
                if stack:
                    parent = stack[-1][0]
                    low[parent] = min(low[parent], low[node])
                    size[parent] += size[node]
                    if low[node] > order[parent]:
                        bridges.append((edges[parent_edge], size[node]))
    return bridges


def _conflicts(first: set[str], second: set[str], cannot_of: dict[str, set[str]]) -> bool:
    """Whether any record of one group has a cannot-link with a record of the other."""
    if not cannot_of:
        return False
    small, large = (first, second) if len(first) <= len(second) else (second, first)
    return any(not cannot_of.get(x, set()).isdisjoint(large) for x in small)


def _union_order(edge: Edge) -> tuple[bool, float, str, str]:
    """Must-links first, then descending weight, then the tokens: a total order.

    Links of one agreement pattern tie on weight and arrive in whatever order the engine
    returns them (DuckDB's threads, Spark's partitions); without the tokens as the last
    key, which link a cannot-link drops would follow that order. Weights are compared to
    1e-9 bits because the two engines sum them in different orders (last digits differ).
    """
    return (not edge.must_link, -round(edge.weight, 9), edge.left, edge.right)


def conflicts_by_record(pairs: set[frozenset[str]]) -> dict[str, set[str]]:
    """Record -> the records it may not share a cluster with (built once per run)."""
    out: dict[str, set[str]] = defaultdict(set)
    for pair in pairs:
        x, y = tuple(pair)
        out[x].add(y)
        out[y].add(x)
    return out


def _constrained_union(
    nodes: list[str], edges: list[Edge], cannot_of: dict[str, set[str]], max_size: int
) -> tuple[list[list[str]], list[Edge]]:
    """Union of one component's links in `_union_order` within the size and cannot-link
    limits; `cannot_of` is the whole run's map (a merge is checked from the smaller side,
    not by testing every pair of members, which is quadratic on large components)."""
    parent = {n: n for n in nodes}
    members: dict[str, set[str]] = {n: {n} for n in nodes}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    skipped: list[Edge] = []
    for edge in sorted(edges, key=_union_order):
        a, b = find(edge.left), find(edge.right)
        if a == b:
            continue
        merged_size = len(members[a]) + len(members[b])
        conflict = _conflicts(members[a], members[b], cannot_of)
        if conflict or (merged_size > max_size and not edge.must_link):
            skipped.append(edge)
            continue
        if len(members[a]) < len(members[b]):
            a, b = b, a
        parent[b] = a
        members[a] |= members.pop(b)
    return [sorted(group) for group in members.values()], skipped


def _edges_by_part(parts: list[list[str]], edges: list[Edge]) -> list[list[Edge]]:
    """Each part's edges (every edge lies inside one part), in one pass: filtering all the
    edges per part was quadratic when a large component broke into many parts."""
    part_of = {n: i for i, part in enumerate(parts) for n in part}
    edges_of: list[list[Edge]] = [[] for _ in parts]
    for e in edges:
        edges_of[part_of[e.left]].append(e)
    return edges_of


def cluster(
    nodes: list[str],
    edges: list[Edge],
    *,
    cannot_links: set[frozenset[str]],
    upper_match_weight: float,
    max_cluster_size: int,
    bridge_margin: float,
    linked_components: list[list[str]] | None = None,
) -> ClusterResult:
    """Cluster `nodes` over `edges` with the chaining guards described in the module doc.

    `linked_components`: `components(nodes, edges)` when the caller has them already.
    """
    result = ClusterResult(clusters=[])
    # Cannot-link partners per record, once: a part is checked through its own members, not
    # by testing every cannot-link against every part (100k records: ~30k parts). Built per
    # rebuilt component instead, it cost #components x #cannot-links: over 20 minutes at 1M
    # records.
    cannot_of = conflicts_by_record(cannot_links)
    by_node: dict[str, list[Edge]] = defaultdict(list)
    for e in edges:
        by_node[e.left].append(e)
    if linked_components is None:
        linked_components = components(nodes, edges)
    for component in linked_components:
        if len(component) == 1:
            result.clusters.append(component)
            continue
        members = set(component)
        local = [e for n in component for e in by_node[n] if e.right in members]
        # Connected by `local`, unless a weak bridge is taken out.
        parts, edges_of = [component], [local]
        if len(component) >= 4:
            weak = [
                b
                for b, far_side in _bridges(component, local)
                if not b.must_link
                and b.weight < upper_match_weight + bridge_margin
                and min(far_side, len(component) - far_side) >= 2
            ]
            if weak:
                result.demoted += [(b.left, b.right) for b in weak]
                weak_ids = {id(b) for b in weak}
                local = [e for e in local if id(e) not in weak_ids]
                parts = components(component, local)
                edges_of = _edges_by_part(parts, local)
        for part, part_edges in zip(parts, edges_of, strict=True):
            part_set = set(part)
            has_conflict = len(part) > 1 and any(
                not cannot_of[x].isdisjoint(part_set) for x in part if x in cannot_of
            )
            if len(part) > max_cluster_size or has_conflict:
                groups, skipped = _constrained_union(part, part_edges, cannot_of, max_cluster_size)
                result.clusters += groups
                result.demoted += [(e.left, e.right) for e in skipped if not e.must_link]
                logger.info(
                    "Component of %d records rebuilt (%s); %d links sent to review",
                    len(part),
                    "cannot-link" if has_conflict else "oversized",
                    len(skipped),
                )
            else:
                result.clusters.append(sorted(part))
    return result
