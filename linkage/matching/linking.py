"""Operations that change the linkage state: link a batch, remove a record, re-cluster.

Each operation scores first (outside the transaction; Splink creates scratch tables), then
writes pairs, memberships, survivor IDs and the ID change log in ONE transaction, so a
failure leaves the store as it was. Only the affected components are re-clustered: the new
or queued records, everything linked to them, and every record sharing a survivor ID with
any of those (closure computed in SQL).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from linkage.matching.clustering import Edge, cluster, components
from linkage.matching.evidence import chain_conflicts
from linkage.matching.review import size_review_queue
from linkage.matching.scoring import SCORED_TABLE, check_key_id, score_new_records
from linkage.matching.spec import TrainedModel
from linkage.matching.stable_ids import IdAssignment, assign_ids, new_survivor_id
from linkage.matching.store import GAMMA_COLUMNS, utc_now

if TYPE_CHECKING:
    from linkage.matching.spark_scoring import SparkEngine

logger = logging.getLogger(__name__)

AFFECTED_TABLE = "__pahichan_affected"


@dataclass
class LinkResult:
    """What one linkage run changed."""

    run_id: str
    model_version: str | None
    new_records: int = 0
    pairs_scored: int = 0
    auto_links: int = 0
    # Pairs awaiting review after this run (the sized queue, issue 18), and this run's
    # scored pairs below the auto-link threshold (the review band before sizing).
    review_pairs: int = 0
    scored_below_threshold: int = 0
    records_reclustered: int = 0
    clusters: int = 0
    ids_minted: int = 0
    ids_retired: int = 0
    links_demoted: int = 0
    chain_conflicts: int = 0  # unlinked pairs in linked components held apart (evidence)
    events: dict[str, int] = field(default_factory=dict)


def _store_scored_pairs(con: duckdb.DuckDBPyConnection, model: TrainedModel) -> None:
    gammas = ", ".join(GAMMA_COLUMNS)
    con.execute(
        f"""INSERT OR REPLACE INTO linkage.pairs
        SELECT record_token_l, record_token_r, match_weight, match_probability,
               CASE WHEN match_weight >= ? THEN 'auto_link' ELSE 'review' END, {gammas},
               ?, ?
        FROM {SCORED_TABLE}""",  # noqa: S608 - identifiers from code constants
        [model.upper_match_weight, model.model_version, utc_now()],
    )


def _expand_affected(con: duckdb.DuckDBPyConnection) -> int:
    """Grow AFFECTED_TABLE to the closure over links, must-links and shared survivor IDs."""
    while True:
        added = con.execute(
            f"""INSERT INTO {AFFECTED_TABLE}
            SELECT DISTINCT t FROM (
                SELECT p.record_token_r AS t FROM linkage.pairs AS p
                JOIN {AFFECTED_TABLE} AS a ON p.record_token_l = a.record_token
                WHERE p.decision = 'auto_link'
                UNION ALL
                SELECT p.record_token_l FROM linkage.pairs AS p
                JOIN {AFFECTED_TABLE} AS a ON p.record_token_r = a.record_token
                WHERE p.decision = 'auto_link'
                UNION ALL
                SELECT d.record_token_r FROM linkage.review_decisions AS d
                JOIN {AFFECTED_TABLE} AS a ON d.record_token_l = a.record_token
                WHERE d.decision = 'must_link'
                UNION ALL
                SELECT d.record_token_l FROM linkage.review_decisions AS d
                JOIN {AFFECTED_TABLE} AS a ON d.record_token_r = a.record_token
                WHERE d.decision = 'must_link'
                UNION ALL
                SELECT m2.record_token FROM linkage.memberships AS m1
                JOIN {AFFECTED_TABLE} AS a ON m1.record_token = a.record_token
                JOIN linkage.memberships AS m2 ON m1.survivor_id = m2.survivor_id
            ) WHERE t NOT IN (SELECT record_token FROM {AFFECTED_TABLE})
              AND t IN (SELECT record_token FROM linkage.records)"""  # noqa: S608
        ).fetchone()[0]
        if not added:
            break
    return int(con.execute(f"SELECT count(*) FROM {AFFECTED_TABLE}").fetchone()[0])  # noqa: S608


def _load_graph(
    con: duckdb.DuckDBPyConnection,
) -> tuple[list[str], list[Edge], set[frozenset[str]]]:
    nodes = [r[0] for r in con.execute(f"SELECT record_token FROM {AFFECTED_TABLE}").fetchall()]  # noqa: S608
    cannot_rows = con.execute(
        f"""SELECT record_token_l, record_token_r FROM linkage.review_decisions
        WHERE decision = 'cannot_link'
          AND record_token_l IN (SELECT record_token FROM {AFFECTED_TABLE})"""  # noqa: S608
    ).fetchall()
    cannot = {frozenset(row) for row in cannot_rows}
    rows = con.execute(
        f"""SELECT p.record_token_l, p.record_token_r, p.match_weight, FALSE
        FROM linkage.pairs AS p
        WHERE p.decision = 'auto_link'
          AND p.record_token_l IN (SELECT record_token FROM {AFFECTED_TABLE})
          AND p.record_token_r IN (SELECT record_token FROM {AFFECTED_TABLE})
          AND NOT EXISTS (SELECT 1 FROM linkage.review_decisions AS d
                WHERE d.record_token_l = p.record_token_l
                  AND d.record_token_r = p.record_token_r AND d.decision = 'cannot_link')
        UNION ALL
        SELECT d.record_token_l, d.record_token_r, NULL, TRUE
        FROM linkage.review_decisions AS d
        WHERE d.decision = 'must_link'
          AND d.record_token_l IN (SELECT record_token FROM {AFFECTED_TABLE})
          AND d.record_token_r IN (SELECT record_token FROM {AFFECTED_TABLE})"""  # noqa: S608
    ).fetchall()
    edges = [
        Edge(left, right, math.inf if weight is None else float(weight), bool(must))
        for left, right, weight, must in rows
    ]
    return nodes, edges, cannot


def _prior_state(
    con: duckdb.DuckDBPyConnection, extra_members: dict[str, set[str]] | None
) -> tuple[dict[str, str], dict[str, set[str]], dict]:
    rows = con.execute(
        f"""SELECT m.record_token, m.survivor_id FROM linkage.memberships AS m
        WHERE m.record_token IN (SELECT record_token FROM {AFFECTED_TABLE})"""  # noqa: S608
    ).fetchall()
    prior_membership = dict(rows)
    prior_members: dict[str, set[str]] = {}
    for token, sid in rows:
        prior_members.setdefault(sid, set()).add(token)
    for sid, tokens in (extra_members or {}).items():
        prior_members.setdefault(sid, set()).update(tokens)
    minted_at = {}
    if prior_members:
        ids = pa.table({"survivor_id": sorted(prior_members)})
        con.register("__pahichan_prior_ids", ids)
        try:
            minted_at = dict(
                con.execute(
                    """SELECT s.survivor_id, s.minted_at FROM linkage.survivor_ids AS s
                    JOIN __pahichan_prior_ids USING (survivor_id)"""
                ).fetchall()
            )
        finally:
            con.unregister("__pahichan_prior_ids")
    return prior_membership, prior_members, minted_at


def _minter(con: duckdb.DuckDBPyConnection):
    """A minting function that never repeats an ID of this run or of the store."""
    seen: set[str] = set()

    def mint() -> str:
        while True:
            candidate = new_survivor_id()
            if candidate in seen:
                continue
            exists = con.execute(
                "SELECT count(*) FROM linkage.survivor_ids WHERE survivor_id = ?", [candidate]
            ).fetchone()[0]
            if not exists:
                seen.add(candidate)
                return candidate

    return mint


def _bulk_minter(con: duckdb.DuckDBPyConnection, expected: int):
    """Mint many IDs at once: generate, drop collisions with the store in one query."""
    pool: list[str] = []

    def refill(n: int) -> None:
        fresh = list({new_survivor_id() for _ in range(n)})
        con.register("__pahichan_fresh_ids", pa.table({"survivor_id": fresh}))
        try:
            pool.extend(
                r[0]
                for r in con.execute(
                    """SELECT f.survivor_id FROM __pahichan_fresh_ids AS f
                    ANTI JOIN linkage.survivor_ids AS s USING (survivor_id)"""
                ).fetchall()
            )
        finally:
            con.unregister("__pahichan_fresh_ids")

    def mint() -> str:
        if not pool:
            refill(max(expected, 16))
        return pool.pop()

    return mint


def _write_assignment(
    con: duckdb.DuckDBPyConnection, assignment: IdAssignment, run_id: str
) -> None:
    now = utc_now()
    con.execute(
        f"DELETE FROM linkage.memberships WHERE record_token IN "  # noqa: S608
        f"(SELECT record_token FROM {AFFECTED_TABLE})"
    )
    memberships = pa.table(
        {
            "record_token": list(assignment.memberships.keys()),
            "survivor_id": list(assignment.memberships.values()),
        }
    )
    con.register("__pahichan_memberships", memberships)
    try:
        con.execute("INSERT INTO linkage.memberships SELECT * FROM __pahichan_memberships")
    finally:
        con.unregister("__pahichan_memberships")
    if assignment.minted:
        minted = pa.table({"survivor_id": assignment.minted})
        con.register("__pahichan_minted", minted)
        try:
            con.execute(
                """INSERT INTO linkage.survivor_ids
                SELECT survivor_id, ?, NULL, NULL FROM __pahichan_minted""",
                [now],
            )
        finally:
            con.unregister("__pahichan_minted")
    for sid, successor in assignment.retired.items():
        con.execute(
            """UPDATE linkage.survivor_ids SET retired_at = ?, superseded_by = ?
            WHERE survivor_id = ?""",
            [now, successor, sid],
        )
    if assignment.events:
        events = pa.table(
            {
                "event_at": [now] * len(assignment.events),
                "event": [e.event for e in assignment.events],
                "survivor_id": [e.survivor_id for e in assignment.events],
                "other_survivor_id": [e.other_survivor_id for e in assignment.events],
                "record_count": pa.array([e.record_count for e in assignment.events], pa.int32()),
                "run_id": [run_id] * len(assignment.events),
            }
        )
        con.register("__pahichan_events", events)
        try:
            con.execute(
                """INSERT INTO linkage.id_changes
                (event_at, event, survivor_id, other_survivor_id, record_count, run_id)
                SELECT event_at, event, survivor_id, other_survivor_id, record_count, run_id
                FROM __pahichan_events"""
            )
        finally:
            con.unregister("__pahichan_events")


def _demote(con: duckdb.DuckDBPyConnection, pairs: list[tuple[str, str]]) -> None:
    if not pairs:
        return
    table = pa.table(
        {
            "record_token_l": [min(p) for p in pairs],
            "record_token_r": [max(p) for p in pairs],
        }
    )
    con.register("__pahichan_demoted", table)
    try:
        con.execute(
            """UPDATE linkage.pairs AS p SET decision = 'review'
            FROM __pahichan_demoted AS d
            WHERE p.record_token_l = d.record_token_l AND p.record_token_r = d.record_token_r"""
        )
    finally:
        con.unregister("__pahichan_demoted")


def recluster_affected(
    con: duckdb.DuckDBPyConnection,
    model: TrainedModel,
    result: LinkResult,
    *,
    extra_prior_members: dict[str, set[str]] | None = None,
) -> None:
    """Re-cluster the closure of AFFECTED_TABLE and write IDs (inside the caller's txn)."""
    result.records_reclustered = _expand_affected(con)
    nodes, edges, cannot = _load_graph(con)
    # Both steps below start from the graph's components (2.7 s for 1M records).
    linked_components = components(nodes, edges)
    # Records chained through others whose own data say "two people" (issue 18): held
    # apart like reviewed cannot-links for this run, never stored as decisions.
    inferred = chain_conflicts(con, model, linked_components, edges)
    result.chain_conflicts = len(inferred - cannot)
    clustered = cluster(
        nodes,
        edges,
        cannot_links=cannot | inferred,
        upper_match_weight=model.upper_match_weight,
        max_cluster_size=model.settings.max_cluster_size,
        bridge_margin=model.settings.bridge_margin,
        linked_components=linked_components,
    )
    _demote(con, clustered.demoted)
    prior_membership, prior_members, minted_at = _prior_state(con, extra_prior_members)
    expected_new = max(0, len(clustered.clusters) - len(prior_members))
    mint = _bulk_minter(con, expected_new) if expected_new > 100 else _minter(con)
    assignment = assign_ids(clustered.clusters, prior_membership, prior_members, minted_at, mint)
    _write_assignment(con, assignment, result.run_id)
    con.execute(
        f"DELETE FROM linkage.recluster_queue WHERE record_token IN "  # noqa: S608
        f"(SELECT record_token FROM {AFFECTED_TABLE})"
    )
    result.clusters = len(clustered.clusters)
    result.ids_minted = len(assignment.minted)
    result.ids_retired = len(assignment.retired)
    result.links_demoted = len(clustered.demoted)
    for event in assignment.events:
        result.events[event.event] = result.events.get(event.event, 0) + 1


def _seed_affected(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> None:
    con.execute(f"CREATE OR REPLACE TEMP TABLE {AFFECTED_TABLE} (record_token VARCHAR)")
    con.execute(
        f"INSERT INTO {AFFECTED_TABLE} SELECT DISTINCT record_token FROM ({sql})",  # noqa: S608
        params or [],
    )


def link_pending(
    con: duckdb.DuckDBPyConnection,
    model: TrainedModel,
    *,
    run_id: str,
    spark: SparkEngine | None = None,
) -> LinkResult:
    """Score unclustered records, store their pairs and re-cluster what they touch."""
    result = LinkResult(run_id=run_id, model_version=model.model_version)
    check_key_id(con, model)
    result.new_records = int(
        con.execute(
            """SELECT count(*) FROM linkage.records WHERE record_token NOT IN
            (SELECT record_token FROM linkage.memberships)"""
        ).fetchone()[0]
    )
    result.pairs_scored = score_new_records(con, model, spark=spark)
    con.execute("BEGIN TRANSACTION")
    try:
        _store_scored_pairs(con, model)
        counts = con.execute(
            f"""SELECT count(*) FILTER (WHERE match_weight >= ?),
                       count(*) FILTER (WHERE match_weight < ?) FROM {SCORED_TABLE}""",  # noqa: S608
            [model.upper_match_weight, model.upper_match_weight],
        ).fetchone()
        result.auto_links, result.scored_below_threshold = int(counts[0]), int(counts[1])
        _seed_affected(
            con,
            """SELECT record_token FROM linkage.records WHERE record_token NOT IN
                (SELECT record_token FROM linkage.memberships)
               UNION ALL SELECT record_token FROM linkage.recluster_queue""",
        )
        recluster_affected(con, model, result)
        result.review_pairs = size_review_queue(con, model.settings.review_queue_share)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.execute(f"DROP TABLE IF EXISTS {SCORED_TABLE}")
    logger.info(
        "Run %s: %d new records, %d auto-links, %d review pairs, %d IDs minted, %d retired",
        run_id,
        result.new_records,
        result.auto_links,
        result.review_pairs,
        result.ids_minted,
        result.ids_retired,
    )
    return result


def remove_record(
    con: duckdb.DuckDBPyConnection, model: TrainedModel, record_token: str, *, run_id: str
) -> LinkResult:
    """Delete a record and everything derived from it; re-cluster its former component."""
    result = LinkResult(run_id=run_id, model_version=model.model_version)
    exists = con.execute(
        "SELECT count(*) FROM linkage.records WHERE record_token = ?", [record_token]
    ).fetchone()[0]
    if not exists:
        raise ValueError(
            f"record_token {record_token} is not in linkage.records (already removed, or "
            "never loaded): nothing to remove."
        )
    con.execute("BEGIN TRANSACTION")
    try:
        row = con.execute(
            "SELECT survivor_id FROM linkage.memberships WHERE record_token = ?", [record_token]
        ).fetchone()
        extra = {row[0]: {record_token}} if row else None
        _seed_affected(
            con,
            """SELECT m2.record_token FROM linkage.memberships AS m1
               JOIN linkage.memberships AS m2 USING (survivor_id)
               WHERE m1.record_token = ? AND m2.record_token <> ?""",
            [record_token, record_token],
        )
        for statement in (
            "DELETE FROM linkage.pairs WHERE record_token_l = ? OR record_token_r = ?",
            "DELETE FROM linkage.review_decisions WHERE record_token_l = ? OR record_token_r = ?",
        ):
            con.execute(statement, [record_token, record_token])
        for table in ("memberships", "record_blocking_keys", "recluster_queue", "records"):
            con.execute(
                f"DELETE FROM linkage.{table} WHERE record_token = ?",  # noqa: S608
                [record_token],
            )
        recluster_affected(con, model, result, extra_prior_members=extra)
        result.review_pairs = size_review_queue(con, model.settings.review_queue_share)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return result
