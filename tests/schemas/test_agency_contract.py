"""Agency extract contract: YAML content, column mappings and header checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas import contract
from schemas.contract import (
    COMPATIBLE_CONTRACT_VERSIONS,
    CONTRACT_VERSION,
    VOCABULARY_RESOLVERS,
    check_headers,
    followup_columns,
    identifier_columns,
    load_column_mapping,
    load_contract,
    record_kind_problems,
)
from schemas.reintegration import load_indicator_config

CANONICAL = [
    "record_id",
    "given_name",
    "family_name",
    "father_name",
    "sex",
    "date_of_birth",
    "age",
    "citizenship_no",
    "passport_no",
    "phone",
    "district",
    "province",
    "local_level",
    "ward",
    "caste_ethnicity",
    "contact_date",
    "exploitation_type",
    "destination_country",
    "services",
    "referred_from",
    "referred_to",
]
VERSION_1 = CANONICAL
INDICATORS = [i.code for i in load_indicator_config("v1").indicators]
CANONICAL = [*VERSION_1, "record_kind", *INDICATORS, "consent_scope"]


def test_contract_lists_the_canonical_columns_in_order() -> None:
    assert CONTRACT_VERSION == "1.2"
    assert COMPATIBLE_CONTRACT_VERSIONS == ("1", "1.1", "1.2")
    columns = load_contract()
    # 1.1 and 1.2 are additive: the version-1 columns come first, unchanged, then the new ones.
    assert [c.name for c in columns] == CANONICAL
    assert {c.name for c in columns if c.required} == {"record_id", "contact_date"}
    for c in columns:
        assert c.description and c.example, c.name
        assert c.kind in contract.KINDS


def test_identifiers_are_marked() -> None:
    assert set(identifier_columns()) == {
        "record_id",
        "given_name",
        "family_name",
        "father_name",
        "date_of_birth",
        "citizenship_no",
        "passport_no",
        "phone",
    }


def test_every_named_vocabulary_has_a_resolver_that_accepts_the_example() -> None:
    for c in load_contract():
        if c.vocabulary is None or c.vocabulary == "geography.local_level":
            continue
        resolve = VOCABULARY_RESOLVERS[c.vocabulary]
        for part in c.example.replace(";", "/").split("/"):
            assert resolve(part.strip()) is not None, (c.name, part)


def test_canonical_headers_pass() -> None:
    check = check_headers(CANONICAL)
    assert check.ok
    assert check.renamed == {name: name for name in CANONICAL}
    assert check.missing_required == [] and check.unknown == [] and check.duplicated == []


def test_minimal_export_needs_record_id_a_name_and_contact_date() -> None:
    for name in ("given_name", "family_name", "father_name"):
        assert check_headers(["record_id", name, "contact_date"]).ok
    check = check_headers(["record_id", "sex", "contact_date"])
    assert not check.ok
    assert check.missing_required == ["given_name or family_name or father_name"]
    check = check_headers(["given_name"])
    assert check.missing_required == ["record_id", "contact_date"]


def test_headers_match_loosely_and_unknown_ones_are_listed_in_order() -> None:
    check = check_headers(["\ufeffRecord ID", "Given Name", "contact-date", "Remarks", "Notes"])
    assert check.renamed == {
        "\ufeffRecord ID": "record_id",
        "Given Name": "given_name",
        "contact-date": "contact_date",
    }
    assert check.unknown == ["Remarks", "Notes"]
    assert check.ok


def test_mapping_renames_agency_headers(tmp_path: Path) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text(
        "Reg No: record_id\nनाम: given_name\nथर: family_name\nDate of contact: contact_date\n"
        "Jilla: district\n",
        encoding="utf-8",
    )
    mapping = load_column_mapping(path)
    assert mapping["नाम"] == "given_name"
    check = check_headers(["Reg No", "नाम", "थर", "date of contact", "Jilla", "Age"], mapping)
    assert check.renamed == {
        "Reg No": "record_id",
        "नाम": "given_name",
        "थर": "family_name",
        "date of contact": "contact_date",
        "Jilla": "district",
        "Age": "age",
    }
    assert check.ok and check.unknown == []


def test_two_headers_for_one_column_are_reported(tmp_path: Path) -> None:
    check = check_headers(
        ["record_id", "Name", "given_name", "contact_date"], {"Name": "given_name"}
    )
    assert check.duplicated == ["given_name"]
    assert not check.ok


def test_mapping_with_unknown_canonical_names_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text("Reg No: record_id\nName: full_name\nVillage: vdc\n", encoding="utf-8")
    with pytest.raises(ValueError, match="full_name, vdc") as caught:
        load_column_mapping(path)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize("text", ["- record_id\n- given_name\n", "a: [1, 2]\n", "a: : b\n"])
def test_malformed_mapping_files_are_rejected(tmp_path: Path, text: str) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=str(path)):
        load_column_mapping(path)


def test_empty_mapping_file_is_an_empty_mapping(tmp_path: Path) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text("", encoding="utf-8")
    assert load_column_mapping(path) == {}


def test_version_1_export_is_still_valid() -> None:
    check = check_headers(VERSION_1)
    assert check.ok and check.unknown == []
    assert record_kind_problems({"record_id": "A-1", "given_name": "Sita"}) == []


def test_followup_columns_are_the_indicator_codes_of_the_config() -> None:
    assert list(followup_columns()) == INDICATORS
    config = load_indicator_config("v1")
    by_name = {c.name: c for c in load_contract()}
    for indicator in config.indicators:
        column = by_name[indicator.code]
        assert not column.required and column.kind == "attribute"
        assert column.vocabulary == f"reintegration.{indicator.scale}"
        assert indicator.dimension in column.description
    assert by_name["record_kind"].vocabulary == "record_kind"


@pytest.mark.parametrize(
    ("row", "fragment"),
    [
        ({"record_kind": "followup", "ri_income": "4", "ri_work": "yes"}, None),
        ({"record_kind": "Follow-up", "ri_stress": "सधैं"}, None),
        ({"record_kind": "", "ri_income": ""}, None),
        ({"record_kind": None}, None),
        ({"record_kind": "episode", "ri_income": "4"}, "on an episode row"),
        ({"ri_documents": "no"}, "ri_documents"),
        ({"record_kind": "followup", "ri_income": "9"}, "ri_income: answer '9'"),
        ({"record_kind": "followup", "ri_work": "1"}, "yes_partly_no"),
        ({"record_kind": "revisit"}, "record_kind 'revisit'"),
    ],
)
def test_record_kind_problems(row: dict, fragment: str | None) -> None:
    problems = record_kind_problems(row)
    if fragment is None:
        assert problems == []
    else:
        assert len(problems) == 1 and fragment in problems[0], problems


def test_followup_row_with_the_usual_identifiers_passes_the_header_check() -> None:
    headers = [
        "record_id",
        "given_name",
        "family_name",
        "date_of_birth",
        "district",
        "contact_date",
        "record_kind",
        "ri_income",
        "ri_wellbeing",
    ]
    check = check_headers(headers)
    assert check.ok and check.unknown == []
