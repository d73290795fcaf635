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
# linkage.pairs.decision of a pair below the auto-link threshold that is kept as evidence
# but not put before a reviewer (beyond the queue's size, or already in one cluster).
UNQUEUED = "unqueued"

# Expected gain of reviewing a pair: the expected number of true record pairs a must-link
# would add, P(match) x the sizes of the two survivors it would join; 0 when both records
# already share a survivor ID (nothing to gain from a must-link). Needs p, ml, mr, sl, sr.
_GAIN = (
    "CASE WHEN ml.survivor_id = mr.survivor_id THEN 0.0 ELSE p.match_probability * sl.n * sr.n END"
)
_GAIN_JOINS = """JOIN linkage.memberships AS ml ON ml.record_token = p.record_token_l
        JOIN linkage.memberships AS mr ON mr.record_token = p.record_token_r
        JOIN (SELECT survivor_id, count(*) AS n FROM linkage.memberships GROUP BY 1) AS sl
          ON sl.survivor_id = ml.survivor_id
        JOIN (SELECT survivor_id, count(*) AS n FROM linkage.memberships GROUP BY 1) AS sr
          ON sr.survivor_id = mr.survivor_id"""


def size_review_queue(con: duckdb.DuckDBPyConnection, share: float) -> int:
    """Put the pairs of highest expected gain in the queue, at most `share` of the records.

    Every pair below the auto-link threshold without a reviewer's decision is ranked by
    expected gain (`_GAIN`); the first `floor(share x linkable records)` with a gain above
    0 are `review`, the rest `unqueued` (kept: a later run may queue them once clusters
    change). Runs inside the caller's transaction after clustering; returns the queue size.
    A data office cannot review a quarter of its records, and an unbounded queue hides the
    pairs that matter most behind pairs that cannot change anything.
    """
    records = con.execute(
        f"SELECT count(*) FROM linkage.records AS r WHERE {LINKABLE}"  # noqa: S608 - constant
    ).fetchone()[0]
    cap = math.floor(share * records)
    # Only the pairs whose decision changes are written: at 1M records the queue ranks
    # millions of pairs, and a month moves a few thousand of them.
    con.execute(
        f"""UPDATE linkage.pairs AS t SET decision = q.decision
        FROM (
            SELECT record_token_l, record_token_r, current,
                   CASE WHEN rank <= ? AND gain > 0 THEN 'review' ELSE '{UNQUEUED}' END
                       AS decision
            FROM (
                SELECT p.record_token_l, p.record_token_r, p.decision AS current,
                       {_GAIN} AS gain,
                       row_number() OVER (ORDER BY {_GAIN} DESC, p.match_weight DESC,
                                          p.record_token_l, p.record_token_r) AS rank
                FROM linkage.pairs AS p
                {_GAIN_JOINS}
                LEFT JOIN linkage.review_decisions AS d
                  ON d.record_token_l = p.record_token_l
                 AND d.record_token_r = p.record_token_r
                WHERE p.decision IN ('review', '{UNQUEUED}') AND d.decision IS NULL
            )
        ) AS q
        WHERE t.record_token_l = q.record_token_l AND t.record_token_r = q.record_token_r
          AND q.decision <> q.current""",  # noqa: S608 - constants
        [cap],
    )
    return int(
        con.execute("SELECT count(*) FROM linkage.pairs WHERE decision = 'review'").fetchone()[0]
    )


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
    """Pairs awaiting review, highest expected gain first (`size_review_queue`), one row per
    pair, no tokens or filters."""
    weights = level_weights(model)
    comparisons = list(weights)
    gamma_select = ", ".join(f"p.gamma_{c}" for c in comparisons)
    rows = con.execute(
        f"""SELECT p.record_token_l, p.record_token_r, p.match_weight, p.match_probability,
               {_GAIN} AS expected_gain, {gamma_select},
               l.source_type, l.sex, l.age_band, l.district_code, l.contact_date,
               r.source_type, r.sex, r.age_band, r.district_code, r.contact_date
        FROM linkage.pairs AS p
        JOIN linkage.records AS l ON l.record_token = p.record_token_l
        JOIN linkage.records AS r ON r.record_token = p.record_token_r
        {_GAIN_JOINS}
        LEFT JOIN linkage.review_decisions AS d
          ON d.record_token_l = p.record_token_l AND d.record_token_r = p.record_token_r
        WHERE p.decision = 'review' AND d.decision IS NULL
        ORDER BY expected_gain DESC, p.match_weight DESC, p.record_token_l LIMIT ?""",  # noqa: S608 - names from the model spec
        [limit],
    ).fetchall()
    records = []
    context = ("source_type", "sex", "age_band", "district_code", "contact_date")
    for row in rows:
        left, right, weight, probability, gain = row[:5]
        gammas = row[5 : 5 + len(comparisons)]
        sides = row[5 + len(comparisons) :]
        entry: dict[str, object] = {
            "review_id": review_id(left, right),
            "match_weight": round(weight, 2),
            "match_probability": round(probability, 4),
            "expected_gain": round(gain, 4),
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
