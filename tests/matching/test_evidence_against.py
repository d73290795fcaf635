"""Evidence against a link (issue 18): clustering does not chain two records whose direct
comparison is strongly negative, even when a third record links to both."""

from __future__ import annotations

import linkage.matching as lm
from tests.matching.conftest import load
from tests.matching.fake_encoder import encode_records

# One name in one district: A and C are two people (different fathers, births 20 years
# apart). B carries no father and no birth year, and C's citizenship number: it links to A
# by name and place, and to C by name, place and ID number.
_COMMON = {"given_name": "sunita", "family_name": "tamang", "sex": "F", "district": "Sindhupalchok"}
A = {**_COMMON, "record_id": "A", "father_name": "bahadurman", "birth_year": 1980}
B = {**_COMMON, "record_id": "B", "citizenship_no": "27-55123"}
C = {
    **_COMMON,
    "record_id": "C",
    "father_name": "krishnaman",
    "birth_year": 2000,
    "citizenship_no": "27-55123",
}


def _token(record: dict) -> str:
    return encode_records([record])["record_token"][0].as_py()


def _ids(con) -> dict[str, str]:
    return dict(con.execute("SELECT record_token, survivor_id FROM linkage.memberships").fetchall())


def test_a_third_record_does_not_chain_two_conflicting_records(con, model):
    load(con, [A, B, C], "b1")
    lm.link_new_records(con, model, run_id="run1")
    a, b, c = _token(A), _token(B), _token(C)
    auto = {
        frozenset(row)
        for row in con.execute(
            "SELECT record_token_l, record_token_r FROM linkage.pairs WHERE decision = 'auto_link'"
        ).fetchall()
    }
    # The scenario holds: B is linked to both, A and C are not linked directly.
    assert frozenset((b, c)) in auto
    assert frozenset((a, c)) not in auto
    ids = _ids(con)
    assert ids[a] != ids[c]
    # C keeps B (same ID number); A is a survivor of her own.
    assert ids[b] == ids[c]


def test_direct_evidence_weighs_father_and_birth_against(con, model):
    from linkage.matching.evidence import direct_evidence

    load(con, [A, B, C], "b1")
    a, b, c = _token(A), _token(B), _token(C)
    evidence = direct_evidence(con, model, [(a, c), (a, b)])
    _, against_ac = evidence[tuple(sorted((a, c)))]
    _, against_ab = evidence[tuple(sorted((a, b)))]
    assert against_ac <= -model.settings.cannot_link_bits
    assert against_ab == 0.0  # B has no father, birth or ID to disagree with
