"""Agency extract contract: YAML content, column mappings and header checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas import contract
from schemas.contract import (
    CONTRACT_VERSION,
    VOCABULARY_RESOLVERS,
    check_headers,
    identifier_columns,
    load_column_mapping,
    load_contract,
)

CANONICAL = [
    "record_id", "given_name", "family_name", "father_name", "sex", "date_of_birth", "age",
    "citizenship_no", "passport_no", "phone", "district", "province", "local_level", "ward",
    "caste_ethnicity", "contact_date", "exploitation_type", "destination_country", "services",
    "referred_from", "referred_to",
]  # fmt: skip


def test_contract_lists_the_canonical_columns_in_order() -> None:
    assert CONTRACT_VERSION == "1"
    columns = load_contract()
    assert [c.name for c in columns] == CANONICAL
    assert {c.name for c in columns if c.required} == {"record_id", "contact_date"}
    for c in columns:
        assert c.description and c.example, c.name
        assert c.kind in contract.KINDS


def test_identifiers_are_marked() -> None:
    assert set(identifier_columns()) == {
        "record_id", "given_name", "family_name", "father_name", "date_of_birth",
        "citizenship_no", "passport_no", "phone",
    }  # fmt: skip


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
        "\ufeffRecord ID": "record_id", "Given Name": "given_name", "contact-date": "contact_date"
    }  # fmt: skip
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
        "Reg No": "record_id", "नाम": "given_name", "थर": "family_name",
        "date of contact": "contact_date", "Jilla": "district", "Age": "age",
    }  # fmt: skip
    assert check.ok and check.unknown == []


def test_two_headers_for_one_column_are_reported(tmp_path: Path) -> None:
    check = check_headers(["record_id", "Name", "given_name", "contact_date"],
                          {"Name": "given_name"})  # fmt: skip
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
