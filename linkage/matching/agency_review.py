"""Review at the agency (issue 18): pairs whose two records come from one agency.

The warehouse cannot see names; the agency that wrote both records can. Round trip:

1. Warehouse, `write_review_requests`: per agency, a JSON file of the queued pairs
   (`decision = 'review'`, no decision yet) whose two records that agency sent: review id
   and the two record tokens, nothing else (the tokens are the agency's own; no scores,
   no other agency's data).
2. Agency, on its own machine (`linkage.encoding.review`, `pahichan review-decide`):
   `side_by_side` joins each request to its crosswalk (record
   token -> local record id, written by the agency tool at encoding) and its own register,
   so a caseworker sees her agency's two clear records; `write_review_decisions` writes
   the decisions (`must_link` / `cannot_link` per review id) as a manifest signed with the
   agency's signing key (`linkage.encoding.signing`). Clear data never leave the agency.
3. Warehouse, `apply_review_decisions`: checks the signature against the agency's
   registered public key and that every pair is one of that agency's own pairs (an agency
   cannot decide on another agency's records), then stores each as a review decision
   (`decided_by = agency:<id>`); the next run honours it (`linkage.matching.review`).

Cross-agency pairs stay in the warehouse queue with the non-identifying context of
`review_queue`.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

# The agency side lives with the agency tool (no warehouse imports); re-exported here.
from linkage.encoding.review import (
    DECISION_KIND,
    REQUEST_KIND,
    side_by_side,
    write_review_decisions,
)
from linkage.encoding.signing import signature_is_valid
from linkage.matching.review import record_review_decision, review_id

__all__ = [
    "agency_review_requests",
    "apply_review_decisions",
    "side_by_side",
    "write_review_decisions",
    "write_review_requests",
]


def agency_review_requests(con: duckdb.DuckDBPyConnection) -> dict[str, list[dict[str, str]]]:
    """Agency id -> its queued pairs (review id and the two record tokens), both records its own."""
    rows = con.execute(
        """SELECT l.agency_id, p.record_token_l, p.record_token_r
        FROM linkage.pairs AS p
        JOIN linkage.records AS l ON l.record_token = p.record_token_l
        JOIN linkage.records AS r ON r.record_token = p.record_token_r
        LEFT JOIN linkage.review_decisions AS d
          ON d.record_token_l = p.record_token_l AND d.record_token_r = p.record_token_r
        WHERE p.decision = 'review' AND d.decision IS NULL AND l.agency_id = r.agency_id
        ORDER BY l.agency_id, p.record_token_l, p.record_token_r"""
    ).fetchall()
    out: dict[str, list[dict[str, str]]] = {}
    for agency, left, right in rows:
        out.setdefault(agency, []).append(
            {"review_id": review_id(left, right), "record_token_l": left, "record_token_r": right}
        )
    return out


def write_review_requests(con: duckdb.DuckDBPyConnection, folder: Path) -> dict[str, Path]:
    """One `<agency>.review-request.json` per agency with same-agency pairs in the queue."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for agency, pairs in agency_review_requests(con).items():
        path = folder / f"{agency}.review-request.json"
        body = {"kind": REQUEST_KIND, "agency_id": agency, "pairs": pairs}
        path.write_text(json.dumps(body, indent=2, sort_keys=True), encoding="utf-8")
        path.chmod(0o600)
        written[agency] = path
    return written


def apply_review_decisions(
    con: duckdb.DuckDBPyConnection, path: Path, agency_id: str, public_key: Ed25519PublicKey
) -> int:
    """Warehouse side: verify a signed decision file of `agency_id` and store its decisions.

    Refuses the whole file when the signature does not verify with the agency's key, when
    it names another agency, or when any pair is not two records of that agency (or its
    review id does not match its tokens). Returns the number of decisions stored.
    """
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("kind") != DECISION_KIND or manifest.get("agency_id") != agency_id:
        raise ValueError(f"{path.name} is not a review decision file of agency {agency_id}.")
    if not signature_is_valid(manifest, public_key):
        raise ValueError(f"{path.name}: the signature does not verify with {agency_id}'s key.")
    entries = manifest.get("decisions", [])
    for entry in entries:
        left, right = entry["record_token_l"], entry["record_token_r"]
        if review_id(left, right) != entry["review_id"]:
            raise ValueError(f"{entry['review_id']} does not match its record tokens.")
        agencies = con.execute(
            "SELECT list(DISTINCT agency_id), count(*) FROM linkage.records "
            "WHERE record_token IN (?, ?)",
            [left, right],
        ).fetchone()
        if agencies[1] != 2 or agencies[0] != [agency_id]:
            raise ValueError(
                f"{entry['review_id']} is not a pair of two records of agency {agency_id}."
            )
    decided_by = f"agency:{agency_id}:{manifest.get('decided_by', '')}"
    for entry in entries:
        record_review_decision(
            con,
            entry["record_token_l"],
            entry["record_token_r"],
            entry["decision"],
            decided_by=decided_by,
            note=f"agency review {entry['review_id']}",
        )
    return len(entries)
