"""Agency-side review round trip (issue 18): request file -> the agency's signed decision
file (its own clear records side by side) -> the next run honours the decisions."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import linkage.matching as lm
from linkage.matching.agency_review import (
    apply_review_decisions,
    side_by_side,
    write_review_decisions,
    write_review_requests,
)
from tests.agency_signing import signing_key_for
from tests.matching.conftest import load
from tests.matching.fake_encoder import encode_records


def _ids(con) -> dict[str, str]:
    return dict(con.execute("SELECT record_token, survivor_id FROM linkage.memberships").fetchall())


def test_agency_review_round_trip(con, model, population, tmp_path):
    clear = population["batch1"] + population["batch2"]
    load(con, population["batch1"], "b1")
    load(con, population["batch2"], "b2")
    lm.link_new_records(con, model, run_id="run1")

    # Warehouse: one request file per agency, pairs of that agency's own records only.
    written = write_review_requests(con, tmp_path / "requests")
    assert set(written) == {"A1"}
    request = json.loads(written["A1"].read_text(encoding="utf-8"))
    assert request["pairs"]
    assert set(request["pairs"][0]) == {"review_id", "record_token_l", "record_token_r"}

    # Agency: its crosswalk (token -> local id) and its own register, on its own machine.
    crosswalk = pd.DataFrame(
        {
            "record_token": encode_records(clear)["record_token"].to_pylist(),
            "record_id": [r["record_id"] for r in clear],
        }
    )
    register = pd.DataFrame(clear)
    shown = side_by_side(request, crosswalk, register)
    assert len(shown) == len(request["pairs"])
    # The caseworker decides from the clear records: same person or not.
    decisions = {
        rid: "must_link" if left["person_id"] == right["person_id"] else "cannot_link"
        for rid, left, right in shown
    }
    key = signing_key_for("A1")
    decision_file = write_review_decisions(
        request, decisions, key, tmp_path / "A1.decisions.json", decided_by="caseworker-3"
    )

    # Warehouse: a file signed with another agency's key, or altered, is refused.
    with pytest.raises(ValueError, match="signature"):
        apply_review_decisions(
            con, decision_file, "A1", signing_key_for("A2").private_key.public_key()
        )
    tampered = json.loads(decision_file.read_text(encoding="utf-8"))
    for entry in tampered["decisions"]:
        entry["decision"] = "must_link"
    altered = tmp_path / "altered.json"
    altered.write_text(json.dumps(tampered), encoding="utf-8")
    if set(decisions.values()) != {"must_link"}:
        with pytest.raises(ValueError, match="signature"):
            apply_review_decisions(con, altered, "A1", key.private_key.public_key())

    stored = apply_review_decisions(con, decision_file, "A1", key.private_key.public_key())
    assert stored == len(decisions)
    lm.link_new_records(con, model, run_id="run2")
    ids = _ids(con)
    for pair in request["pairs"]:
        together = ids[pair["record_token_l"]] == ids[pair["record_token_r"]]
        assert together == (decisions[pair["review_id"]] == "must_link")
    # Decided pairs leave the queue and the next request.
    assert not any(
        p["review_id"] in decisions
        for pairs in [
            json.loads(p.read_text(encoding="utf-8"))["pairs"]
            for p in write_review_requests(con, tmp_path / "again").values()
        ]
        for p in pairs
    )


def test_an_agency_cannot_decide_on_another_agencys_records(con, model, population, tmp_path):
    load(con, population["batch1"][:20], "b1", agency_id="A1")
    load(con, population["batch2"][:10], "b2", agency_id="A2")
    lm.link_new_records(con, model, run_id="run1")
    a1 = encode_records(population["batch1"][:1], agency_id="A1")["record_token"][0].as_py()
    # The test loader keys every token like A1's tool; the store files this one under A2.
    a2 = encode_records(population["batch2"][:1])["record_token"][0].as_py()
    from linkage.matching.review import review_id

    request = {
        "agency_id": "A1",
        "pairs": [{"review_id": review_id(a1, a2), "record_token_l": a1, "record_token_r": a2}],
    }
    key = signing_key_for("A1")
    path = write_review_decisions(
        request, {review_id(a1, a2): "must_link"}, key, tmp_path / "d.json", decided_by="x"
    )
    with pytest.raises(ValueError, match="not a pair of two records of agency A1"):
        apply_review_decisions(con, path, "A1", key.private_key.public_key())
