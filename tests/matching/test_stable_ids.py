"""Stable survivor IDs: the assignment rules, and their effect across real linkage runs."""

from __future__ import annotations

from datetime import datetime
from itertools import count

import linkage.matching as lm
from linkage.matching.stable_ids import assign_ids, new_survivor_id
from tests.matching.conftest import load
from tests.matching.fake_encoder import encode_records

OLD, NEW = datetime(2024, 1, 1), datetime(2024, 6, 1)


def _minter():
    numbers = count(1)
    return lambda: f"S-NEW{next(numbers)}"


def test_merge_keeps_the_id_held_by_most_members():
    out = assign_ids(
        [["a", "b", "c"]],
        {"a": "S-Y", "b": "S-Y", "c": "S-X"},
        {"S-Y": {"a", "b"}, "S-X": {"c"}},
        {"S-X": OLD, "S-Y": NEW},
        _minter(),
    )
    assert out.memberships == {"a": "S-Y", "b": "S-Y", "c": "S-Y"}
    assert out.retired == {"S-X": "S-Y"}
    events = {(e.event, e.survivor_id, e.other_survivor_id) for e in out.events}
    assert ("merged", "S-Y", "S-X") in events
    assert ("retired", "S-X", "S-Y") in events


def test_merge_tie_goes_to_the_oldest_id():
    out = assign_ids(
        [["a", "b"]],
        {"a": "S-Y", "b": "S-X"},
        {"S-Y": {"a"}, "S-X": {"b"}},
        {"S-X": OLD, "S-Y": NEW},
        _minter(),
    )
    assert set(out.memberships.values()) == {"S-X"}
    assert out.retired == {"S-Y": "S-X"}


def test_split_largest_part_keeps_id_others_mint():
    out = assign_ids(
        [["c"], ["a", "b"]],
        {"a": "S-X", "b": "S-X", "c": "S-X"},
        {"S-X": {"a", "b", "c"}},
        {"S-X": OLD},
        _minter(),
    )
    assert out.memberships["a"] == out.memberships["b"] == "S-X"
    assert out.memberships["c"] == "S-NEW1"
    assert out.minted == ["S-NEW1"]
    events = {(e.event, e.survivor_id, e.other_survivor_id, e.record_count) for e in out.events}
    assert ("split", "S-X", "S-NEW1", 1) in events
    assert ("member_removed", "S-X", None, 1) in events
    assert not out.retired


def test_ids_are_random_and_well_formed():
    ids = {new_survivor_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(i.startswith("S-") and len(i) == 12 for i in ids)


def _ids(con):
    return dict(con.execute("SELECT record_token, survivor_id FROM linkage.memberships").fetchall())


def test_second_batch_keeps_ids_of_untouched_survivors(con, model, population):
    load(con, population["batch1"], "b1")
    lm.link_new_records(con, model, run_id="run1")
    before = _ids(con)
    # One survivor per record, bar the odd pair of identical synthetic people.
    assert len(set(before.values())) >= 0.98 * len(before)

    load(con, population["batch2"], "b2")
    result = lm.link_new_records(con, model, run_id="run2")
    after = _ids(con)
    retired = dict(
        con.execute(
            "SELECT survivor_id, superseded_by FROM linkage.survivor_ids "
            "WHERE retired_at IS NOT NULL"
        ).fetchall()
    )
    new_tokens = set(after) - set(before)
    for token, sid in before.items():
        if sid in retired:
            assert after[token] == retired[sid]
        else:
            assert after[token] == sid
    # Survivors that gained no new member are exactly as before.
    for sid in set(before.values()) - set(retired):
        members_after = {t for t, s in after.items() if s == sid}
        if not members_after & new_tokens:
            assert members_after == {t for t, s in before.items() if s == sid}
    # Batch 2 holds duplicates of batch-1 people: most join an existing survivor.
    assert result.events.get("member_added", 0) > 0.8 * len(population["batch2"])
    logged = con.execute(
        "SELECT count(*) FROM linkage.id_changes WHERE event = 'member_added' AND run_id = 'run2'"
    ).fetchone()[0]
    assert logged == result.events["member_added"]
    merged = con.execute(
        "SELECT count(*) FROM linkage.id_changes WHERE event = 'merged' AND run_id = 'run2'"
    ).fetchone()[0]
    assert merged == len(retired)
    # Splink's working tables are dropped after linking: nothing accumulates per run.
    leftovers = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE starts_with(table_name, '__splink')"
    ).fetchone()[0]
    assert leftovers == 0


def test_must_link_merges_and_retires_the_younger_id(con, model, population):
    persons = population["batch1"]
    load(con, persons[:4], "b1")
    lm.link_new_records(con, model, run_id="run1")
    ids = _ids(con)
    tokens = list(encode_records(persons[:4])["record_token"].to_pylist())
    older, younger = ids[tokens[0]], ids[tokens[1]]
    # Make the first ID strictly older so the tie rule is tested, not row order.
    con.execute(
        "UPDATE linkage.survivor_ids SET minted_at = minted_at - INTERVAL 1 DAY "
        "WHERE survivor_id = ?",
        [older],
    )
    lm.record_review_decision(con, tokens[1], tokens[0], "must_link", decided_by="tester")
    result = lm.link_new_records(con, model, run_id="run2")
    after = _ids(con)
    assert after[tokens[0]] == after[tokens[1]] == older
    assert after[tokens[2]] == ids[tokens[2]]
    assert result.ids_retired == 1
    row = con.execute(
        "SELECT superseded_by, retired_at IS NOT NULL FROM linkage.survivor_ids "
        "WHERE survivor_id = ?",
        [younger],
    ).fetchone()
    assert row == (older, True)
    events = con.execute(
        "SELECT event, survivor_id, other_survivor_id FROM linkage.id_changes "
        "WHERE run_id = 'run2' ORDER BY event_id"
    ).fetchall()
    assert ("merged", older, younger) in events
    assert ("retired", younger, older) in events
