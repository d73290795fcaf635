"""CTDC layout: column names, age bands and the mapping from our vocabularies."""

from __future__ import annotations

import datetime as dt

import pytest

from schemas.ctdc import (
    CTDC_AGE_BANDS,
    CTDC_COLUMNS,
    EXPLOITATION_FLAGS,
    EXPLOITATION_TO_CTDC,
    UNFILLED_COLUMNS,
    ctdc_age_band,
    majority_status,
    to_ctdc_row,
)
from schemas.vocabularies import AGE_BANDS, EXPLOITATION_TYPES


def test_layout_is_the_63_columns_of_the_global_dataset_in_order() -> None:
    assert len(CTDC_COLUMNS) == 63 and len(set(CTDC_COLUMNS)) == 63
    assert CTDC_COLUMNS[:8] == (
        "yearOfRegistration",
        "Datasource",
        "gender",
        "ageBroad",
        "majorityStatus",
        "majorityStatusAtExploit",
        "majorityEntry",
        "citizenship",
    )
    assert CTDC_COLUMNS[-6:] == (
        "CountryOfExploitation",
        "recruiterRelationIntimatePartner",
        "recruiterRelationFriend",
        "recruiterRelationFamily",
        "recruiterRelationOther",
        "recruiterRelationUnknown",
    )
    groups = {
        "meansOfControl": 19,
        "is": 9,
        "typeOfLabour": 14,
        "typeOfSex": 5,
        "recruiterRelation": 5,
    }
    for prefix, count in groups.items():
        found = [c for c in CTDC_COLUMNS if c.startswith(prefix) and c[len(prefix)].isupper()]
        assert len(found) == count, (prefix, found)
    assert "isSlaveryAndPractices" in CTDC_COLUMNS and "isAbduction" in CTDC_COLUMNS


def test_every_column_is_either_filled_or_declared_unfilled() -> None:
    row = to_ctdc_row(
        registration_date=dt.date(2024, 7, 16),
        sex="F",
        age=16,
        exploitation_types=["forced_begging"],
        destination_country="IN",
        citizenship="NP",
        datasource="Case Management",
    )
    assert tuple(row) == CTDC_COLUMNS
    filled = {c for c, v in row.items() if v is not None}
    assert filled.isdisjoint(UNFILLED_COLUMNS)
    assert set(CTDC_COLUMNS) == filled | set(UNFILLED_COLUMNS) | set(EXPLOITATION_FLAGS)
    assert "meansOfControlDebtBondage" in UNFILLED_COLUMNS
    assert "typeOfExploitConcatenated" in UNFILLED_COLUMNS


@pytest.mark.parametrize(
    ("value", "band"),
    [
        (0, "0--8"),
        (8, "0--8"),
        (9, "9--17"),
        (17, "9--17"),
        (18, "18--20"),
        (20, "18--20"),
        (21, "21--23"),
        (23, "21--23"),
        (24, "24--26"),
        (27, "27--29"),
        (29, "27--29"),
        (30, "30--38"),
        (38, "30--38"),
        (39, "39--47"),
        (47, "39--47"),
        (48, "48+"),
        (95, "48+"),
        ("25", "24--26"),
        ("9-17", "9--17"),
        ("09--17", "9--17"),
        ("48+", "48+"),
        ("12-17", "9--17"),
        ("50+", "48+"),
        ("0-11", None),
        ("18-24", None),
        ("25-34", None),
        ("35-49", None),
        (-1, None),
        (130, None),
        (None, None),
        ("adult", None),
        (True, None),
    ],
)
def test_ctdc_age_band(value: object, band: str | None) -> None:
    assert ctdc_age_band(value) == band  # type: ignore[arg-type]


def test_age_bands_are_ctdc_spelling_and_ours_nest_or_give_none() -> None:
    assert CTDC_AGE_BANDS == (
        "0--8",
        "9--17",
        "18--20",
        "21--23",
        "24--26",
        "27--29",
        "30--38",
        "39--47",
        "48+",
    )
    for band in AGE_BANDS:
        assert ctdc_age_band(band) in (None, *CTDC_AGE_BANDS)
    assert {b: ctdc_age_band(b) for b in AGE_BANDS if ctdc_age_band(b)} == {
        "12-17": "9--17",
        "50+": "48+",
    }


@pytest.mark.parametrize(
    ("value", "status"),
    [
        (5, "Minor"),
        (17, "Minor"),
        (18, "Adult"),
        ("12-17", "Minor"),
        ("0-11", "Minor"),
        ("18-24", "Adult"),
        ("9--17", "Minor"),
        ("48+", "Adult"),
        ("x", None),
        (None, None),
    ],
)
def test_majority_status(value: object, status: str | None) -> None:
    assert majority_status(value) == status  # type: ignore[arg-type]


def test_every_htcds_code_maps_to_ctdc_columns() -> None:
    assert set(EXPLOITATION_TO_CTDC) == set(EXPLOITATION_TYPES)
    for columns in EXPLOITATION_TO_CTDC.values():
        assert set(columns) <= set(CTDC_COLUMNS)


def test_mapping_example_girl_sexual_exploitation_in_india() -> None:
    row = to_ctdc_row(
        registration_date=dt.date(2024, 7, 16),
        sex="F",
        age_band="12-17",
        exploitation_types=["sexual_exploitation"],
        destination_country="IN",
    )
    assert row["yearOfRegistration"] == 2024
    assert row["gender"] == "Female"
    assert row["ageBroad"] == "9--17" and row["majorityStatus"] == "Minor"
    assert row["CountryOfExploitation"] == "IN"
    assert row["isSexualExploit"] == 1
    assert {f: row[f] for f in EXPLOITATION_FLAGS if f != "isSexualExploit"} == dict.fromkeys(
        [f for f in EXPLOITATION_FLAGS if f != "isSexualExploit"], 0
    )
    assert row["citizenship"] is None and row["Datasource"] is None
    assert row["majorityStatusAtExploit"] is None


def test_mapping_example_man_labour_and_sex_across_episodes() -> None:
    row = to_ctdc_row(
        sex="M", age=34, exploitation_types=["forced_labour", "sexual_exploitation", "servitude"]
    )
    assert row["gender"] == "Male" and row["ageBroad"] == "30--38"
    assert row["majorityStatus"] == "Adult"
    assert (row["isForcedLabour"], row["isSexualExploit"], row["isSexAndLabour"]) == (1, 1, 1)
    assert row["isSlaveryAndPractices"] == 1 and row["isOtherExploit"] == 0
    assert row["yearOfRegistration"] is None


@pytest.mark.parametrize(
    ("code", "ones"),
    [
        ("child_labour", {"isForcedLabour"}),
        ("forced_begging", {"isForcedLabour", "typeOfLabourBegging"}),
        ("surrogacy", {"isOtherExploit"}),
        ("organ_removal", {"isOrganRemoval"}),
        ("forced_marriage", {"isForcedMarriage"}),
    ],
)
def test_one_hot_columns_per_code(code: str, ones: set[str]) -> None:
    row = to_ctdc_row(exploitation_types=[code])
    assert {c for c, v in row.items() if v == 1} == ones


def test_unknown_values_stay_missing_or_raise() -> None:
    row = to_ctdc_row(sex="O", exploitation_types=[])
    assert row["gender"] is None
    assert all(row[f] is None for f in EXPLOITATION_FLAGS)  # unknown type: not 0
    with pytest.raises(ValueError, match="trafficking"):
        to_ctdc_row(exploitation_types=["trafficking"])
    with pytest.raises(ValueError, match="sex"):
        to_ctdc_row(sex="female")
