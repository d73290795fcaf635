"""Review decisions survive re-runs; re-loading is idempotent; removal re-clusters."""

from __future__ import annotations

import pytest

import linkage.matching as lm
from tests.matching.conftest import load
from tests.matching.fake_encoder import encode_records

TABLES = ("records", "pairs", "memberships", "survivor_ids", "review_decisions")


def _ids(con):
    return dict(con.execute("SELECT record_token, survivor_id FROM linkage.memberships").fetchall())


def _snapshot(con):
    snapshot = {}
    for table in TABLES:
        columns = "* EXCLUDE (scored_at)" if table == "pairs" else "*"
        rows = con.execute(f"SELECT {columns} FROM linkage.{table}").fetchall()  # noqa: S608
        snapshot[table] = sorted(map(repr, rows))
    return snapshot


def _linked_pair(con):
    return con.execute(
        "SELECT record_token_l, record_token_r FROM linkage.pairs WHERE decision = 'auto_link' "
        "ORDER BY match_weight DESC LIMIT 1"
    ).fetchone()


def test_cannot_link_survives_reruns(con, model, population):
    load(con, population["batch1"][:40], "b1")
    load(con, population["batch2"][:20], "b2")
    lm.link_new_records(con, model, run_id="run1")
    left, right = _linked_pair(con)
    assert _ids(con)[left] == _ids(con)[right]

    lm.record_review_decision(con, left, right, "cannot_link", decided_by="officer-1")
    lm.link_new_records(con, model, run_id="run2")
    assert _ids(con)[left] != _ids(con)[right]

    # A later batch re-clusters the same component: the decision still holds.
    load(con, population["batch2"][20:40], "b3")
    lm.link_new_records(con, model, run_id="run3")
    assert _ids(con)[left] != _ids(con)[right]
    stored = con.execute("SELECT decision, decided_by FROM linkage.review_decisions").fetchall()
    assert stored == [("cannot_link", "officer-1")]


def test_decision_rejects_bad_input(con, model, population):
    load(con, population["batch1"][:3], "b1")
    tokens = encode_records(population["batch1"][:3])["record_token"].to_pylist()
    with pytest.raises(ValueError, match="decision must be"):
        lm.record_review_decision(con, tokens[0], tokens[1], "maybe", decided_by="x")
    with pytest.raises(ValueError, match=r"linkage\.records"):
        lm.record_review_decision(con, tokens[0], "f" * 32, "must_link", decided_by="x")


def test_re_adding_a_batch_is_idempotent(con, model, population):
    assert load(con, population["batch1"][:50], "b1") == 50
    assert load(con, population["batch2"][:25], "b2") == 25
    lm.link_new_records(con, model, run_id="run1")
    first = _snapshot(con)
    assert load(con, population["batch1"][:50], "b1") == 0
    assert load(con, population["batch2"][:25], "b2") == 0
    result = lm.link_new_records(con, model, run_id="run2")
    assert result.new_records == 0 and result.ids_minted == 0
    assert _snapshot(con) == first


def test_removing_a_bridge_splits_and_largest_part_keeps_id(con, model, population):
    people = population["batch1"]
    # Three different people: a, the bridge b, and c. Reviewers linked a-b and b-c.
    load(con, people[:3], "b1")
    a, b, c = encode_records(people[:3])["record_token"].to_pylist()
    # c gets a second record (a noisy duplicate found by the model) to be the larger part.
    c2 = {**people[2], "record_id": "c-dup"}
    load(con, [c2], "b2")
    lm.record_review_decision(con, a, b, "must_link", decided_by="officer")
    lm.record_review_decision(con, b, c, "must_link", decided_by="officer")
    lm.link_new_records(con, model, run_id="run1")
    ids = _ids(con)
    assert len(set(ids.values())) == 1
    (original,) = set(ids.values())

    result = lm.remove_record(con, b, run_id="run2", model=model)
    after = _ids(con)
    assert b not in after
    c2_token = encode_records([c2])["record_token"][0].as_py()
    assert after[c] == after[c2_token] == original  # the larger part keeps the ID
    assert after[a] != original
    assert result.ids_minted == 1
    events = con.execute(
        "SELECT event, survivor_id, other_survivor_id, record_count FROM linkage.id_changes "
        "WHERE run_id = 'run2' ORDER BY event_id"
    ).fetchall()
    assert ("split", original, after[a], 1) in events
    assert ("minted", after[a], None, 1) in events
    for table, column in (("records", "record_token"), ("review_decisions", "record_token_l")):
        assert (
            con.execute(
                f"SELECT count(*) FROM linkage.{table} WHERE {column} = ?",  # noqa: S608
                [b],
            ).fetchone()[0]
            == 0
        )
    assert (
        con.execute(
            "SELECT count(*) FROM linkage.review_decisions WHERE record_token_r = ?", [b]
        ).fetchone()[0]
        == 0
    )


def test_removing_a_singleton_retires_its_id(con, model, population):
    load(con, population["batch1"][:2], "b1")
    lm.link_new_records(con, model, run_id="run1")
    token = encode_records(population["batch1"][:1])["record_token"][0].as_py()
    sid = _ids(con)[token]
    lm.remove_record(con, token, run_id="run2", model=model)
    assert con.execute(
        "SELECT retired_at IS NOT NULL, superseded_by FROM linkage.survivor_ids "
        "WHERE survivor_id = ?",
        [sid],
    ).fetchone() == (True, None)
    with pytest.raises(ValueError, match=r"not in linkage\.records"):
        lm.remove_record(con, token, run_id="run3", model=model)


def test_model_refuses_a_foreign_key_id(con, model, population):
    load(con, population["batch1"][:5], "b1", key_id="some-other-key")
    with pytest.raises(ValueError, match="key_id"):
        lm.link_new_records(con, model, run_id="run1")
    assert con.execute("SELECT count(*) FROM linkage.memberships").fetchone()[0] == 0
