"""Contract 1.2: statistics_only records are never compared, so never linked to anyone.

Even an exact duplicate of another agency's record stays a survivor of its own; a re-sent
record whose consent narrowed to statistics_only is unlinked at the next run; a reviewer
cannot must_link it; records of older batches (no consent_scope) link as before.
"""

from __future__ import annotations

import pyarrow as pa
import pytest

import linkage.matching as lm
from tests.matching.conftest import KEY_ID
from tests.matching.fake_encoder import encode_records


def _with_scope(records: list[dict], scope: str | None) -> pa.Table:
    table = encode_records(records)
    return table.append_column("consent_scope", pa.array([scope] * table.num_rows, pa.string()))


def _add(con, table: pa.Table, batch_id: str, agency_id: str) -> None:  # type: ignore[no-untyped-def]
    lm.add_records(
        con, table, batch_id=batch_id, source_type="ocmc", agency_id=agency_id, key_id=KEY_ID
    )


def _ids(con) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return dict(con.execute("SELECT record_token, survivor_id FROM linkage.memberships").fetchall())


def _token(table: pa.Table, index: int) -> str:
    return table.column("record_token")[index].as_py()


def test_exact_duplicates_with_statistics_only_stay_alone(con, model, population) -> None:
    persons = population["batch1"][:30]
    shelter = encode_records(persons)  # an older batch: no consent_scope column
    _add(con, shelter, "b1", "shelter-1")
    # The OCMC's records are exact duplicates (same encodings, other record ids).
    duplicates = [dict(p, record_id=f"dup-{p['record_id']}") for p in persons]
    restricted = _with_scope(duplicates[:15], "statistics_only")
    linkable = _with_scope(duplicates[15:], "linkage_and_statistics")
    _add(con, restricted, "b2", "ocmc-2")
    _add(con, linkable, "b3", "ocmc-2")
    result = lm.link_new_records(con, model, run_id="run1")
    ids = _ids(con)
    restricted_tokens = restricted.column("record_token").to_pylist()
    pairs = con.execute(
        "SELECT count(*) FROM linkage.pairs "
        "WHERE list_contains(?, record_token_l) OR list_contains(?, record_token_r)",
        [restricted_tokens, restricted_tokens],
    ).fetchone()[0]
    assert pairs == 0
    members: dict[str, int] = {}
    for survivor in ids.values():
        members[survivor] = members.get(survivor, 0) + 1
    for index, token in enumerate(restricted_tokens):
        assert members[ids[token]] == 1
        assert ids[token] != ids[_token(shelter, index)]
    # Control: the linkable duplicates (and the shelter's records without the column) link.
    for index in range(15):
        assert ids[_token(linkable, index)] == ids[_token(shelter, 15 + index)]
    assert result.auto_links >= 15


def test_narrowed_consent_unlinks_a_stored_record(con, model, population) -> None:
    persons = population["batch1"][:10]
    shelter = encode_records(persons)
    _add(con, shelter, "b1", "shelter-1")
    duplicates = [dict(p, record_id=f"dup-{p['record_id']}") for p in persons]
    first = _with_scope(duplicates, None)
    _add(con, first, "b2", "ocmc-2")
    lm.link_new_records(con, model, run_id="run1")
    token = _token(first, 0)
    partner = con.execute(
        "SELECT record_token FROM linkage.memberships WHERE survivor_id = ? AND record_token <> ?",
        [_ids(con)[token], token],
    ).fetchall()
    assert partner, "the duplicate should link before its consent narrows"
    with pytest.raises(ValueError, match="statistics_only"):
        _add(con, _with_scope(duplicates[:1], "statistics_only"), "b3", "ocmc-2")
        lm.record_review_decision(con, token, partner[0][0], "must_link", decided_by="officer")
    lm.link_new_records(con, model, run_id="run2")
    ids = _ids(con)
    assert list(ids.values()).count(ids[token]) == 1
    assert ids[partner[0][0]] != ids[token]
    assert (
        con.execute(
            "SELECT count(*) FROM linkage.pairs WHERE ? IN (record_token_l, record_token_r)",
            [token],
        ).fetchone()[0]
        == 0
    )
    # The rest of the store is untouched: the other duplicates are still linked.
    assert ids[_token(first, 1)] == ids[_token(shelter, 1)]
