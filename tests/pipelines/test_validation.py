"""Row validation: bad rows are quarantined with an actionable reason; nothing is lost."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from linkage.encoding.schema import BATCH_COLUMNS
from pipelines.defs.ingest.inbox import SOURCE_TYPES, find_batches
from pipelines.defs.ingest.load import load_batch
from pipelines.defs.ingest.suites import load_suite_spec
from pipelines.defs.ingest.warehouse import row_balance
from tests.pipelines.conftest import make_rows, write_batch


@pytest.mark.parametrize("source_type", SOURCE_TYPES)
def test_every_suite_resolves_with_unique_rule_names(source_type: str) -> None:
    spec = load_suite_spec(source_type, dt.date(2025, 1, 1))
    rules = [item["meta"]["rule"] for item in spec]
    assert len(rules) == len(set(rules)) > 30
    by_rule = {item["meta"]["rule"]: item for item in spec}
    districts = by_rule["district_code_known"]["kwargs"]["value_set"]
    assert len(districts) == 77 and "101" in districts
    assert by_rule["contact_date_in_range"]["kwargs"]["max_value"] == dt.date(2025, 1, 1)
    assert all(item["meta"]["reason"] for item in spec)


@pytest.mark.parametrize("source_type", SOURCE_TYPES)
def test_every_column_documented_as_hex_is_checked_as_hex(source_type: str) -> None:
    """A token the contract documents as N hex characters has that regex in the suite: a
    malformed one is quarantined, never loaded for linkage to compare."""
    regex_of = {
        item["kwargs"]["column"]: item["kwargs"]["regex"]
        for item in load_suite_spec(source_type, dt.date(2025, 1, 1))
        if item["type"] == "expect_column_values_to_match_regex"
    }
    documented = {c.name: c.doc_format for c in BATCH_COLUMNS if c.doc_format}
    assert documented  # the contract does document formats
    for name, doc_format in documented.items():
        digits = int(doc_format.removesuffix(" hex"))
        assert regex_of.get(name) == f"^[0-9a-f]{{{digits}}}$", name


def test_bad_rows_are_quarantined_with_reasons(con, inbox: Path) -> None:
    rows = make_rows(40, seed=11)
    rows[1]["sex"] = "X"
    rows[2]["district_code"] = "999"
    rows[3]["record_token"] = "not-hex"
    rows[4]["record_token"] = rows[5]["record_token"]  # repeated record: both rows held
    rows[6]["contact_date"] = dt.date(2031, 1, 1)
    rows[7]["given_name_bf"] = b"\x00" * 100
    for name in ("given_name_bf", "family_name_bf", "father_name_bf", "full_name_bf"):
        rows[8][name] = None
    rows[9]["services"] = ["counselling", "teleportation"]
    rows[10]["exploitation_type"] = "unknown_kind"
    rows[11]["sex"] = "Z"  # two problems in one row: counted once
    rows[11]["destination_country"] = "XX"
    # Birth token lists the encoder never writes (linkage compares at most three tokens).
    rows[12]["birth_year_pm1_tokens"] = rows[12]["birth_year_pm1_tokens"][:1]
    rows[13]["birth_year_pm1_tokens"] = [*rows[13]["birth_year_pm1_tokens"], "ab" * 8]
    rows[14]["ward_token"] = "WARD-7"  # not the encoder's 16 hex characters
    write_batch(inbox, batch_id="mixed", rows=rows)
    (files,) = find_batches(inbox)
    outcome = load_batch(con, files, configured_key_id=None, run_id="t", today=dt.date(2025, 6, 1))

    assert outcome.status == "accepted"
    assert outcome.rows_quarantined == 14
    assert outcome.rows_loaded == 26
    loaded, quarantined = row_balance(con, "shelter", "mixed")
    assert (loaded, quarantined) == (26, 14)
    assert loaded + quarantined == outcome.rows_received == 40

    found = {
        (row_number, rule): (column, reason, token)
        for row_number, rule, column, reason, token in con.execute(
            'SELECT row_number, rule, "column", reason, record_token FROM ops.quarantine'
        ).fetchall()
    }
    assert found[(2, "sex_known")][1].startswith("sex 'X' is not one of F, M, O")
    assert "district_code '999'" in found[(3, "district_code_known")][1]
    assert (4, "record_token_is_32_hex") in found
    assert {(5, "record_token_unique_in_batch"), (6, "record_token_unique_in_batch")} <= set(found)
    assert "2031-01-01" in found[(7, "contact_date_in_range")][1]
    assert found[(8, "given_name_bf_is_128_bytes")][0] == "given_name_bf"
    assert (9, "has_a_name_filter") in found
    assert "teleportation" in found[(10, "services_known")][1]
    assert (11, "exploitation_type_known") in found
    assert {(12, "sex_known"), (12, "destination_country_known")} <= set(found)
    for row_number in (13, 14):
        column, reason, _ = found[(row_number, "birth_tokens_as_encoded")]
        assert column == "birth_window_tokens, birth_year_pm1_tokens"
        assert "2 windows or 3 years" in reason
    assert found[(15, "ward_token_is_16_hex")][0] == "ward_token"
    assert "WARD-7" not in found[(15, "ward_token_is_16_hex")][1]
    # The agency finds the row through its crosswalk: the token is there.
    assert found[(2, "sex_known")][2] == rows[1]["record_token"]
    # Token and filter values are never echoed into reasons.
    assert "not-hex" not in found[(4, "record_token_is_32_hex")][1]
    staged = {r[0] for r in con.execute("SELECT source_row FROM staging.shelter").fetchall()}
    assert staged.isdisjoint({2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})


def test_gx_gets_only_the_columns_the_suite_reads() -> None:
    """Columns no expectation names stay out of the GX frame (GX copies the frame for every
    expectation); a table-level expectation, which names no column, keeps them all."""
    from pipelines.defs.ingest.validation import ROW_INDEX, _columns_read

    spec = load_suite_spec("ocmc", dt.date(2025, 1, 1))
    named = _columns_read(spec)
    assert named is not None
    assert {"ward_token", "services_unknown", "given_name_bf_bytes"} <= named
    assert "ri_income" not in named and ROW_INDEX not in named
    table_level = {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}}
    assert _columns_read([*spec, table_level]) is None
    pair = {
        "type": "expect_column_pair_values_to_be_equal",
        "kwargs": {"column_A": "x", "column_B": "y"},
    }
    assert {"x", "y"} <= _columns_read([*spec, pair])
