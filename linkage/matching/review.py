"""The clerical review queue and reviewers' decisions.

The queue shows, per pair in the review band, the agreement level of every field and its
contribution to the match weight (waterfall style: log2(m/u) of the level), plus coarse,
non-identifying context (sex, age band, district code, contact date, source type). It never
shows record tokens, name filters or any `_token` / `_key` value: a pair is addressed by a
`review_id`, a short digest of the pair that the decision function resolves.

Decisions (`must_link` / `cannot_link`) are stored in `linkage.review_decisions` (latest
decision per pair wins) and queue both records for re-clustering at the next run, where
they are respected: a must-link is always an edge, a cannot-link never is, and clusters
are rebuilt so a cannot-link pair never shares a survivor ID.
"""

from __future__ import annotations

import hashlib
import math

import duckdb
import pandas as pd

from linkage.matching.prepare import LINKABLE
from linkage.matching.spec import TrainedModel
from linkage.matching.store import utc_now

DECISIONS = ("must_link", "cannot_link")


def review_id(left: str, right: str) -> str:
    low, high = sorted((left, right))
    return "R-" + hashlib.sha256(f"{low}|{high}".encode()).hexdigest()[:12]


# Records of a pair that may never be linked (contract 1.2 consent scope).
_WHERE_UNLINKABLE = f"r.record_token IN (?, ?) AND NOT ({LINKABLE})"
_COUNT_UNLINKABLE = f"SELECT count(*) FROM linkage.records AS r WHERE {_WHERE_UNLINKABLE}"  # noqa: S608


def record_review_decision(
    con: duckdb.DuckDBPyConnection,
    left: str,
    right: str,
    decision: str,
    *,
    decided_by: str,
    note: str | None = None,
) -> None:
    """Store a reviewer's decision on the pair (left, right); the next run applies it."""
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
    if left == right:
        raise ValueError("A review decision needs two different records.")
    low, high = sorted((left, right))
    found = con.execute(
        "SELECT count(*) FROM linkage.records WHERE record_token IN (?, ?)", [low, high]
    ).fetchone()[0]
    if found != 2:
        raise ValueError(
            "Both records of a review decision must be in linkage.records; one of them is "
            "not (removed after consent withdrawal, or a mistyped reference)."
        )
    if decision == "must_link":
        unlinkable = con.execute(_COUNT_UNLINKABLE, [low, high]).fetchone()[0]
        if unlinkable:
            raise ValueError(
                "One of these records has consent_scope statistics_only: it may be counted "
                "but never linked to another record, so it cannot be must_linked."
            )
    now = utc_now()
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            """INSERT OR REPLACE INTO linkage.review_decisions VALUES (?, ?, ?, ?, ?, ?)""",
            [low, high, decision, decided_by, now, note],
        )
        con.execute(
            "INSERT OR REPLACE INTO linkage.recluster_queue VALUES (?, ?), (?, ?)",
            [low, now, high, now],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def resolve_review_id(con: duckdb.DuckDBPyConnection, rid: str) -> tuple[str, str]:
    """The record tokens of a queued pair, from its `review_id`."""
    for left, right in con.execute(
        "SELECT record_token_l, record_token_r FROM linkage.pairs WHERE decision = 'review'"
    ).fetchall():
        if review_id(left, right) == rid:
            return left, right
    raise ValueError(f"No pair awaiting review has review_id {rid}.")


def level_weights(model: TrainedModel) -> dict[str, dict[int, tuple[str, float]]]:
    """comparison -> gamma value -> (level label, log2(m/u)); null levels weigh 0."""
    out: dict[str, dict[int, tuple[str, float]]] = {}
    for comparison in model.splink_model["comparisons"]:
        levels = comparison["comparison_levels"]
        non_null = [lv for lv in levels if not lv.get("is_null_level")]
        table: dict[int, tuple[str, float]] = {-1: ("null", 0.0)}
        for position, level in enumerate(non_null):
            gamma = len(non_null) - 1 - position
            m, u = level.get("m_probability"), level.get("u_probability")
            weight = math.log2(m / u) if m and u else 0.0
            table[gamma] = (level.get("label_for_charts", str(gamma)), weight)
        out[comparison["output_column_name"]] = table
    return out


def review_queue(
    con: duckdb.DuckDBPyConnection, model: TrainedModel, *, limit: int = 50
) -> pd.DataFrame:
    """Pairs awaiting review, strongest first, one row per pair, no tokens or filters."""
    weights = level_weights(model)
    comparisons = list(weights)
    gamma_select = ", ".join(f"p.gamma_{c}" for c in comparisons)
    rows = con.execute(
        f"""SELECT p.record_token_l, p.record_token_r, p.match_weight, p.match_probability,
               {gamma_select},
               l.source_type, l.sex, l.age_band, l.district_code, l.contact_date,
               r.source_type, r.sex, r.age_band, r.district_code, r.contact_date
        FROM linkage.pairs AS p
        JOIN linkage.records AS l ON l.record_token = p.record_token_l
        JOIN linkage.records AS r ON r.record_token = p.record_token_r
        LEFT JOIN linkage.review_decisions AS d
          ON d.record_token_l = p.record_token_l AND d.record_token_r = p.record_token_r
        WHERE p.decision = 'review' AND d.decision IS NULL
        ORDER BY p.match_weight DESC LIMIT ?""",  # noqa: S608 - names from the model spec
        [limit],
    ).fetchall()
    records = []
    context = ("source_type", "sex", "age_band", "district_code", "contact_date")
    for row in rows:
        left, right, weight, probability = row[:4]
        gammas = row[4 : 4 + len(comparisons)]
        sides = row[4 + len(comparisons) :]
        entry: dict[str, object] = {
            "review_id": review_id(left, right),
            "match_weight": round(weight, 2),
            "match_probability": round(probability, 4),
        }
        for name, gamma in zip(comparisons, gammas, strict=True):
            label, contribution = weights[name].get(-1 if gamma is None else gamma, ("?", 0.0))
            entry[f"{name}_level"] = label
            entry[f"{name}_weight"] = round(contribution, 2)
        for i, column in enumerate(context):
            entry[f"{column}_l"] = sides[i]
            entry[f"{column}_r"] = sides[len(context) + i]
        records.append(entry)
    return pd.DataFrame.from_records(records)
