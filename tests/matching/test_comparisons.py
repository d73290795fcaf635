"""Comparison levels of the spec compute what they claim, in DuckDB."""

from __future__ import annotations

import duckdb
import pytest

from linkage.matching.spec import LinkageSettings, birth_comparison, name_comparison
from tests.matching.fake_encoder import _token


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
    dice_sql = comparison["comparison_levels"][2]["sql_condition"].split(" >= ")[0]
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


@pytest.mark.parametrize(
    ("year_l", "year_r", "same_date", "label"),
    [
        (1990, 1990, True, "same birth date"),
        (1990, 1990, False, "same birth year"),
        (1990, 1991, False, "birth year +-1"),
        (1991, 1989, False, "birth year +-2"),
        (1990, 1993, False, "else"),
        (1990, None, False, "null"),
    ],
)
def test_birth_year_levels(year_l, year_r, same_date, label):
    con = duckdb.connect()
    con.execute(
        """CREATE TABLE p AS SELECT ?::VARCHAR AS birth_year_token_l,
        ?::VARCHAR AS birth_year_token_r,
        ?::VARCHAR[] AS birth_year_pm1_tokens_l, ?::VARCHAR[] AS birth_year_pm1_tokens_r,
        ?::VARCHAR[] AS birth_year_pm2_tokens_l, ?::VARCHAR[] AS birth_year_pm2_tokens_r,
        ? AS birth_date_token_l, ? AS birth_date_token_r""",
        [
            _token("yob", str(year_l)) if year_l else None,
            _token("yob", str(year_r)) if year_r else None,
            _years(year_l, 1),
            _years(year_r, 1),
            _years(year_l, 2),
            _years(year_r, 2),
            "d1",
            "d1" if same_date else "d2",
        ],
    )
    got = con.execute(f"SELECT {_case_sql(birth_comparison())} FROM p").fetchone()[0]  # noqa: S608
    assert got == label
