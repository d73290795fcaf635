"""Comparison levels of the spec compute what they claim, in DuckDB."""

from __future__ import annotations

import duckdb
import pytest

from linkage.encoding.identifiers import deletion_variants
from linkage.matching.spec import (
    BIRTH_NEAR_SLOTS,
    LinkageSettings,
    birth_comparison,
    document_comparison,
    name_comparison,
)
from tests.matching.fake_encoder import _token, birth_windows


def _case_sql(comparison: dict) -> str:
    """The comparison's levels as a CASE returning the level label (Splink's order)."""
    whens = [
        f"WHEN {lv['sql_condition']} THEN '{lv['label_for_charts']}'"
        for lv in comparison["comparison_levels"]
        if lv["sql_condition"] != "ELSE"
    ]
    return "CASE " + " ".join(whens) + " ELSE 'else' END"


def _filter(*positions: int) -> bytes:
    bits = bytearray(128)
    for p in positions:
        bits[p // 8] |= 0x80 >> (p % 8)
    return bytes(bits)


@pytest.mark.parametrize(
    ("left", "right", "dice"),
    [
        ((1, 2, 3, 4), (1, 2, 3, 4), 1.0),
        ((1, 2, 3, 4), (3, 4, 5, 6), 0.5),
        ((0, 1023), (1023,), 2 / 3),
        ((10, 20), (30, 40), 0.0),
    ],
)
def test_dice_sql_on_bloom_filters(left, right, dice):
    comparison = name_comparison("given_name", LinkageSettings())
    dice_level = next(
        lv for lv in comparison["comparison_levels"] if lv["label_for_charts"].startswith("dice")
    )
    dice_sql = dice_level["sql_condition"].split(" >= ")[0]
    con = duckdb.connect()
    con.execute(
        """CREATE TABLE p AS SELECT CAST(?::BLOB AS BIT) AS given_name_bits_l,
        CAST(?::BLOB AS BIT) AS given_name_bits_r""",
        [_filter(*left), _filter(*right)],
    )
    con.execute(
        "CREATE TABLE q AS SELECT *, bit_count(given_name_bits_l) AS given_name_ones_l, "
        "bit_count(given_name_bits_r) AS given_name_ones_r FROM p"
    )
    value = con.execute(f"SELECT {dice_sql} FROM q").fetchone()[0]  # noqa: S608
    assert value == pytest.approx(dice)


def _years(year: int | None, spread: int) -> list[str]:
    return [_token("yob", str(year + d)) for d in range(-spread, spread + 1)] if year else []


def _birth(encoding: int, year: int | None, day: str) -> dict:
    """One side's prepared birth columns, as `linkage.matching.prepare` derives them."""
    if year is None:
        return {"scheme": None, "year": None, "date": None, "near": [], "low": None, "high": None}
    if encoding == 1:
        return {
            "scheme": 1,
            "year": _token("yob", str(year)),
            "near": _years(year, 1),
            "date": _token("dob", f"{year}-{day}"),
        }
    windows = birth_windows(year)
    cell = "/".join(windows)
    return {"scheme": 2, "year": cell, "near": windows, "date": f"{_token('day', day)}/{cell}"}


def _levels(left: dict, right: dict) -> str:
    con = duckdb.connect()
    columns = {
        "scheme": "INTEGER",
        "year": "VARCHAR",
        "near": "VARCHAR[]",
        "date": "VARCHAR",
        "low": "INTEGER",
        "high": "INTEGER",
    }
    names = {
        "scheme": "birth_scheme",
        "year": "birth_year_token",
        "near": "birth_near_tokens",
        "date": "birth_date_token",
        "low": "birth_year_low",
        "high": "birth_year_high",
    }
    select = ", ".join(
        f"?::{kind} AS {names[key]}_{side}" for key, kind in columns.items() for side in "lr"
    )
    values = [side.get(key) for key in columns for side in (left, right)]
    con.execute(f"CREATE TABLE p AS SELECT {select}", values)
    # The list one token per column, as `prepare_input` lays it out.
    slots = ", ".join(
        f"birth_near_tokens_{side}[{slot}] AS birth_near_{slot}_{side}"
        for slot in range(1, BIRTH_NEAR_SLOTS + 1)
        for side in "lr"
    )
    con.execute(f"CREATE TABLE q AS SELECT *, {slots} FROM p")  # noqa: S608
    return con.execute(f"SELECT {_case_sql(birth_comparison())} FROM q").fetchone()[0]  # noqa: S608


# Fake windows (tests.matching.fake_encoder): 16 years, grids 8 apart, shift 5, so cells are
# 1987-1994, 1995-2002, ...; years 3-15 apart share one window when a grid holds both.
@pytest.mark.parametrize(
    ("encoding", "year_l", "year_r", "same_day", "label"),
    [
        (1, 1990, 1990, True, "same birth date"),
        (1, 1990, 1990, False, "same birth year"),
        (1, 1990, 1991, False, "birth year near"),
        (1, 1991, 1989, False, "birth year near"),
        (1, 1990, 1993, False, "else"),
        (1, 1990, None, False, "null"),
        (2, 1990, 1990, True, "same birth date"),
        (2, 1988, 1993, True, "same birth date"),  # same day and cell: the finest there is
        (2, 1990, 1990, False, "same birth year"),
        (2, 1987, 1994, False, "same birth year"),
        (2, 1994, 1995, False, "birth year near"),
        (2, 1990, 2001, False, "birth year near"),
        (2, 1990, 2003, False, "else"),
        (2, 1990, None, False, "null"),
    ],
)
def test_birth_year_levels(encoding, year_l, year_r, same_day, label):
    left, right = _birth(encoding, year_l, "01-02"), _birth(encoding, year_r, "01-02")
    if not same_day and right["date"] is not None:
        right["date"] += "x"
    assert _levels(left, right).split(" (")[0] == label


@pytest.mark.parametrize(
    ("ranges", "year_r", "label"),
    [
        # Clear age bands at the contact dates: birth years 1985-1991 and 1990-1996 overlap.
        (((1985, 1991), (1990, 1996)), 1993, "same window cell, ages agree)"),
        (((1985, 1991), (1992, 1998)), 1993, "same window cell, ages disagree)"),
        (((1985, 1991), (None, None)), 1993, "same window cell, ages agree)"),
        (((1985, 1991), (1990, 1996)), 1996, "a shared window)"),
        (((1985, 1991), (1995, 2001)), 1996, "a shared window, ages disagree)"),
    ],
)
def test_birth_window_levels_split_by_clear_age_bands(ranges, year_r, label):
    left, right = _birth(2, 1990, "01-02"), _birth(2, year_r, "03-04")
    (left["low"], left["high"]), (right["low"], right["high"]) = ranges
    assert _levels(left, right).endswith(label)


def test_birth_levels_do_not_compare_across_encodings():
    """An enc-1 record and an enc-2 record have tokens of different kinds: no evidence."""
    left, right = _birth(1, 1990, "01-02"), _birth(2, 1990, "01-02")
    assert _levels(left, right) == "null"


def _edit_tokens(number: str | None) -> list[str]:
    return [_token("citizenship_edit", v) for v in deletion_variants(number)]


@pytest.mark.parametrize(
    ("left", "right", "label"),
    [
        ("2271801", "2271801", "exact"),
        ("2271801", "2271081", "one keystroke apart"),  # swapped digits
        ("9100106", "9109106", "one keystroke apart"),  # wrong digit
        ("6692321", "669232", "one keystroke apart"),  # missing digit
        ("2271801", "7236834", "else"),
        ("2271801", "2281701", "else"),  # two digits changed
        ("2271801", None, "null"),
    ],
)
def test_document_number_levels(left, right, label):
    con = duckdb.connect()
    con.execute(
        """CREATE TABLE p AS SELECT ?::VARCHAR AS citizenship_token_l,
        ?::VARCHAR AS citizenship_token_r, ?::VARCHAR[] AS citizenship_edit_tokens_l,
        ?::VARCHAR[] AS citizenship_edit_tokens_r""",
        [
            _token("citizenship", left) if left else None,
            _token("citizenship", right) if right else None,
            _edit_tokens(left),
            _edit_tokens(right),
        ],
    )
    sql = _case_sql(document_comparison("citizenship"))
    assert con.execute(f"SELECT {sql} FROM p").fetchone()[0] == label  # noqa: S608


def test_deletion_variants_are_distinct_and_skip_short_numbers():
    assert deletion_variants("1123") == []  # shorter than EDIT_VARIANT_MIN_LENGTH
    assert deletion_variants(None) == []
    assert deletion_variants("112345") == [
        "11234",
        "112345",
        "11235",
        "11245",
        "11345",
        "12345",
    ]


def test_enc1_and_enc2_batches_load_and_prepare_side_by_side():
    """A pahichan-enc-1 batch (no window columns at all, as the older tool wrote it) and an
    enc-2 batch load into one store; each record gets the birth scheme of its encoding."""
    import linkage.matching as lm
    from linkage.matching.prepare import prepare_input
    from linkage.matching.spec import LinkageSettings
    from tests.matching.fake_encoder import encode_records

    con = duckdb.connect()
    lm.ensure_linkage_schema(con)
    person = {
        "record_id": "1",
        "given_name": "sita",
        "family_name": "tamang",
        "date_of_birth": "1990-01-02",
    }
    old = encode_records([person], agency_id="A1", encoding=1)
    old = old.drop_columns(["birth_window_tokens", "birth_day_token"])
    new = encode_records([person], agency_id="A2", encoding=2)
    for batch, agency in ((old, "A1"), (new, "A2")):
        lm.add_records(
            con, batch, batch_id=f"b-{agency}", source_type="shelter", agency_id=agency, key_id="k"
        )
    prepare_input(con, "prepared", LinkageSettings())
    rows = con.execute(
        "SELECT birth_scheme, len(birth_near_tokens), birth_year_token IS NOT NULL,"
        " birth_date_token IS NOT NULL FROM prepared ORDER BY birth_scheme"
    ).fetchall()
    assert rows == [(1, 3, True, True), (2, 2, True, True)]
    # The same tokens one per column for the spec's pairwise comparison, NULL past the end.
    slots = con.execute(
        "SELECT birth_near_tokens, [birth_near_1, birth_near_2, birth_near_3] FROM prepared"
        " ORDER BY birth_scheme"
    ).fetchall()
    assert [columns for _, columns in slots] == [
        tokens + [None] * (BIRTH_NEAR_SLOTS - len(tokens)) for tokens, _ in slots
    ]


def test_same_names_by_hash_agrees_with_the_filters():
    """The name edit rule's "not the same names" reads hashes of the two filters
    (pahichan-link-8): on every pair of prepared records, NULL names included, it gives what
    the same condition gives on the filters themselves, NULL where that is NULL."""
    import linkage.matching as lm
    from linkage.matching.prepare import prepare_input
    from linkage.matching.spec import _NOT_SAME_NAMES
    from tests.matching.fake_encoder import encode_records

    con = duckdb.connect()
    lm.ensure_linkage_schema(con)
    names = [
        ("sita", "tamang"),
        ("sita", "tamang"),
        ("gita", "tamang"),
        ("sita", "gurung"),
        ("sita", None),
        ("sita", None),
        (None, "tamang"),
        ("gita", None),
    ]
    people = [
        {"record_id": str(i), "given_name": given, "family_name": family}
        for i, (given, family) in enumerate(names)
    ]
    lm.add_records(
        con,
        encode_records(people, agency_id="A1"),
        batch_id="b",
        source_type="shelter",
        agency_id="A1",
        key_id="k",
    )
    prepare_input(con, "prepared", LinkageSettings())
    by_filters = _NOT_SAME_NAMES.replace("_name_hash", "_name_bits")
    assert by_filters != _NOT_SAME_NAMES
    rows = con.execute(
        f"SELECT {_NOT_SAME_NAMES}, {by_filters} FROM prepared AS l, prepared AS r"  # noqa: S608
    ).fetchall()
    assert len(rows) == len(names) ** 2
    assert all(hashed is by_bits for hashed, by_bits in rows)
    # Every outcome occurs: the same names, different names, and unknown.
    assert {by_bits for _, by_bits in rows} == {True, False, None}
