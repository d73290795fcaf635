"""Clustering guards on small hand-made graphs, and bridge side sizes against brute force."""

from __future__ import annotations

import random

from linkage.matching.clustering import Edge, _bridges, cluster, components

UPPER = 10.0


def _cluster(nodes, edges, cannot=frozenset(), max_size=50):
    return cluster(
        nodes,
        edges,
        cannot_links=set(cannot),
        upper_match_weight=UPPER,
        max_cluster_size=max_size,
        bridge_margin=2.0,
    )


def test_a_weak_bridge_between_two_groups_is_demoted_not_merged() -> None:
    edges = [Edge("a1", "a2", 20), Edge("b1", "b2", 20), Edge("a2", "b1", 11)]
    result = _cluster(["a1", "a2", "b1", "b2"], edges)
    assert sorted(result.clusters) == [["a1", "a2"], ["b1", "b2"]]
    assert result.demoted == [("a2", "b1")]


def test_a_weak_link_to_a_single_record_or_a_strong_bridge_is_kept() -> None:
    leaf = [Edge("a1", "a2", 20), Edge("a2", "a3", 20), Edge("a3", "x", 11)]
    assert _cluster(["a1", "a2", "a3", "x"], leaf).clusters == [["a1", "a2", "a3", "x"]]
    strong = [Edge("a1", "a2", 20), Edge("b1", "b2", 20), Edge("a2", "b1", 15)]
    assert _cluster(["a1", "a2", "b1", "b2"], strong).demoted == []


def test_oversized_and_cannot_link_components_are_rebuilt_within_the_limits() -> None:
    nodes = [f"n{i}" for i in range(6)]
    chain = [Edge(nodes[i], nodes[i + 1], 30 - i) for i in range(5)]
    result = _cluster(nodes, chain, max_size=3)
    assert max(len(c) for c in result.clusters) <= 3
    assert sorted(t for c in result.clusters for t in c) == sorted(nodes)
    cannot = {frozenset(("n0", "n5"))}
    result = _cluster(nodes, chain, cannot=cannot)
    assert not any({"n0", "n5"} <= set(c) for c in result.clusters)
    assert sorted(t for c in result.clusters for t in c) == sorted(nodes)


def test_bridge_side_sizes_match_removing_the_bridge() -> None:
    rng = random.Random(3)
    for _ in range(200):
        n = rng.randint(2, 30)
        nodes = [f"r{i}" for i in range(n)]
        # A random tree (connected) plus a few extra edges, some parallel.
        edges = [Edge(nodes[i], nodes[rng.randrange(i)], 1.0) for i in range(1, n)]
        edges += [Edge(*rng.sample(nodes, 2), 1.0) for _ in range(rng.randint(0, n // 3))]
        for bridge, far_side in _bridges(nodes, edges):
            parts = components(nodes, [e for e in edges if e is not bridge])
            assert len(parts) == 2
            assert sorted(map(len, parts)) == sorted((far_side, n - far_side))


def test_clusters_do_not_depend_on_the_order_the_links_arrive_in() -> None:
    """Links with equal weights (one agreement pattern) arrive in whatever order the engine
    returns them (DuckDB's threads, Spark's partitions); the clusters must not follow it.

    A chain a-b-c-d of equal-weight links with a cannot-link between a and d: the
    constrained union must drop the same link whichever order the links came in.
    """
    nodes = ["a", "b", "c", "d", "e"]
    edges = [Edge("a", "b", 12.5), Edge("b", "c", 12.5), Edge("c", "d", 12.5), Edge("d", "e", 30)]
    # Engines may differ in a weight's last digits (their sums run in different orders).
    drift = [Edge(e.left, e.right, e.weight + 1e-13 * i) for i, e in enumerate(edges)]
    seen = set()
    rng = random.Random(5)
    for links in (edges, drift):
        for _ in range(30):
            shuffled = rng.sample(links, len(links))
            result = _cluster(nodes, shuffled, cannot={frozenset(("a", "d"))}, max_size=50)
            seen.add((frozenset(map(tuple, result.clusters)), frozenset(result.demoted)))
    assert len(seen) == 1, seen


def test_large_graphs_get_the_same_components_as_small_ones(monkeypatch) -> None:
    """Graphs from `_SCIPY_FROM` records go to scipy: same components, same order."""
    import linkage.matching.clustering as clustering

    rng = random.Random(11)
    for size in (clustering._SCIPY_FROM, 3 * clustering._SCIPY_FROM):
        nodes = [f"r{i:06d}" for i in rng.sample(range(10**6), size)]
        edges = [Edge(rng.choice(nodes), rng.choice(nodes), 12.0) for _ in range(size)]
        by_scipy = components(nodes, edges)
        monkeypatch.setattr(clustering, "_SCIPY_FROM", 10**9)
        assert by_scipy == components(nodes, edges)
        monkeypatch.undo()
        assert 1 < len(by_scipy) < size
    # A node listed twice: union-find's answer (scipy needs each node once).
    repeated = [f"r{i:06d}" for i in range(clustering._SCIPY_FROM)] + ["r000000"]
    edges = [Edge("r000000", "r000001", 12.0)]
    found = components(repeated, edges)
    assert found[0] == ["r000000", "r000001", "r000000"]
