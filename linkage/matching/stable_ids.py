"""Stable survivor IDs: which cluster keeps which ID, and the events that explain it.

Rules (applied to the re-clustered, affected components only):
- a cluster keeps the prior ID held by most of its members (tie: the oldest ID, then the
  smaller ID); an ID goes to at most one cluster, so when an ID's records are split, the
  largest part keeps it and the other parts mint new IDs (`split` events);
- a prior ID that no cluster keeps is retired, `superseded_by` the ID of the cluster that
  holds most of its former records (`merged` + `retired` events), or NULL when none of its
  records remain (all removed);
- clusters with no prior ID mint a new random ID (`minted`); IDs are never reused.

IDs are `S-` + 10 base32 characters from `secrets` (50 bits): random, never derived from
tokens, so an ID reveals nothing about the person and cannot be recomputed from the data.
"""

from __future__ import annotations

import base64
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

ID_PREFIX = "S-"


def new_survivor_id() -> str:
    return ID_PREFIX + base64.b32encode(secrets.token_bytes(7)).decode("ascii")[:10]


@dataclass(frozen=True)
class IdEvent:
    event: str
    survivor_id: str
    other_survivor_id: str | None
    record_count: int


@dataclass
class IdAssignment:
    memberships: dict[str, str] = field(default_factory=dict)  # record_token -> survivor_id
    minted: list[str] = field(default_factory=list)
    retired: dict[str, str | None] = field(default_factory=dict)  # id -> superseded_by
    events: list[IdEvent] = field(default_factory=list)


def assign_ids(
    clusters: list[list[str]],
    prior_membership: dict[str, str],
    prior_members: dict[str, set[str]],
    minted_at: dict[str, datetime],
    mint: callable = new_survivor_id,  # type: ignore[valid-type]
) -> IdAssignment:
    """Assign IDs to `clusters`.

    `prior_membership`: record -> ID before this run, for records that had one.
    `prior_members`: ID -> all its records before this run (including removed records), for
    every prior ID involved.
    """
    out = IdAssignment()
    candidates = []
    for index, cluster in enumerate(clusters):
        counts = Counter(prior_membership[t] for t in cluster if t in prior_membership)
        for sid, count in counts.items():
            candidates.append((-count, minted_at[sid], sid, index))
    candidates.sort()
    kept_by_cluster: dict[int, str] = {}
    cluster_of_id: dict[str, int] = {}
    for _, _, sid, index in candidates:
        if index in kept_by_cluster or sid in cluster_of_id:
            continue
        kept_by_cluster[index] = sid
        cluster_of_id[sid] = index

    final_ids: list[str] = []
    for index, cluster in enumerate(clusters):
        sid = kept_by_cluster.get(index)
        if sid is None:
            sid = mint()
            out.minted.append(sid)
            out.events.append(IdEvent("minted", sid, None, len(cluster)))
        final_ids.append(sid)
        for token in cluster:
            out.memberships[token] = sid

    for index, cluster in enumerate(clusters):
        sid = final_ids[index]
        members = set(cluster)
        origins = Counter(prior_membership[t] for t in cluster if t in prior_membership)
        if kept_by_cluster.get(index) == sid:
            before = prior_members.get(sid, set())
            added, removed = len(members - before), len(before - members)
            if added:
                out.events.append(IdEvent("member_added", sid, None, added))
            if removed:
                out.events.append(IdEvent("member_removed", sid, None, removed))
        else:
            # A minted cluster made of records split off IDs that live on elsewhere.
            for origin, count in sorted(origins.items()):
                if origin in cluster_of_id:
                    out.events.append(IdEvent("split", origin, sid, count))

    for sid in sorted(prior_members):
        if sid in cluster_of_id:
            continue
        where = Counter(out.memberships[t] for t in prior_members[sid] if t in out.memberships)
        successor = min(where, key=lambda s: (-where[s], s)) if where else None
        out.retired[sid] = successor
        if successor is not None:
            out.events.append(IdEvent("merged", successor, sid, where[successor]))
        out.events.append(IdEvent("retired", sid, successor, len(prior_members[sid])))
    return out
