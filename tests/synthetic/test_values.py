"""Every coded field resolves with the project's resolvers, to the true value where known."""

from __future__ import annotations

import pandas as pd

from schemas.geography import province_of, resolve_district, resolve_local_level, resolve_province
from schemas.vocabularies import (
    resolve_agency_type,
    resolve_caste_ethnicity,
    resolve_country,
    resolve_exploitation_type,
    resolve_service,
)


def _written(records: pd.DataFrame, column: str) -> pd.DataFrame:
    return records[records[column] != ""]


def test_every_district_resolves_to_the_true_district(records: pd.DataFrame) -> None:
    rows = _written(records, "district")
    resolved = rows["district"].map(resolve_district)
    assert resolved.notna().all(), rows.loc[resolved.isna(), "district"].unique()[:10]
    # A person who moved (hard case `moved`, linkage.synthetic.cases) gives another district
    # on her later records; every other record gives the home district.
    moved = rows["cases"].str.contains("moved")
    assert moved.any()
    assert (resolved[~moved] == rows.loc[~moved, "true_district_code"]).all()
    assert (resolved[moved] != rows.loc[moved, "true_district_code"]).all()
    # Written variously: English, Nepali, variant/suffixed spelling and bare codes all occur.
    assert rows["district"].str.fullmatch(r"\d{3}").any()
    assert rows["district"].str.contains(r"[\u0900-\u097f]").any()


def test_province_and_local_level_resolve_to_the_truth(records: pd.DataFrame) -> None:
    records = records[~records["cases"].str.contains("moved")]  # another district: above
    rows = _written(records, "province")
    truth = rows["true_district_code"].map(province_of)
    assert (rows["province"].map(resolve_province) == truth).all()
    rows = _written(records, "local_level")
    resolved = [
        resolve_local_level(text, district)
        for text, district in zip(rows["local_level"], rows["true_district_code"], strict=True)
    ]
    assert ((pd.Series(resolved, index=rows.index) == rows["true_local_level_code"]).mean()) > 0.97


def test_vocabulary_fields_resolve(records: pd.DataFrame) -> None:
    for column, resolve in (
        ("exploitation_type", resolve_exploitation_type),
        ("destination_country", resolve_country),
        ("caste_ethnicity", resolve_caste_ethnicity),
        ("referred_from", resolve_agency_type),
        ("referred_to", resolve_agency_type),
    ):
        values = _written(records, column)[column].unique()
        unresolved = [v for v in values if resolve(v) is None]
        assert not unresolved, (column, unresolved[:5])
    services = {s for cell in records["services"] if cell for s in cell.split(";")}
    assert all(resolve_service(s) for s in services)
    assert set(records["sex"]) <= {"F", "M", "O", ""}


def test_destinations_are_plausible(records: pd.DataFrame) -> None:
    rows = _written(_written(records, "destination_country"), "exploitation_type")
    country = rows["destination_country"].map(resolve_country)
    kind = rows["exploitation_type"].map(resolve_exploitation_type)
    sexual = country[kind == "sexual_exploitation"].value_counts(normalize=True)
    assert sexual.index[0] == "IN"
    labour = country[kind == "forced_labour"]
    assert labour.isin(["SA", "QA", "AE", "KW", "MY", "OM", "BH"]).mean() > 0.6


def test_identifier_formats(records: pd.DataFrame) -> None:
    phones = _written(records, "phone")["phone"]
    assert phones.str.fullmatch(r"(\+?977[- ])?9[68]\d{8}|9[68]\d{2}-\d{6}").all()
    for style in (r"9\d{9}", r"\+977-9\d{9}", r"977 9\d{9}"):
        assert phones.str.fullmatch(style).any(), style
    citizenship = _written(records, "citizenship_no")["citizenship_no"]
    assert citizenship.str.fullmatch(r"\d\d([-/]?)\d\d\1\d\d\1\d{5}").all()
    assert citizenship.str.contains("-").any() and (~citizenship.str.contains("[-/]")).any()
    passports = _written(records, "passport_no")["passport_no"]
    assert passports.str.fullmatch(r"(PA|pa) ?\d{7}").all()


def test_referrals_are_mostly_confirmed_by_a_later_record(episodes: pd.DataFrame) -> None:
    records = episodes  # confirmed by a later contact episode, not by a follow-up visit
    rows = _written(records, "referred_to").copy()
    rows["to_type"] = rows["referred_to"].map(resolve_agency_type)
    rows = rows[rows["to_type"].isin(["shelter", "ocmc", "migration"])]
    seen = records.groupby(["person_id", "source"])["contact_date"].max()
    confirmed = [
        (person, to) in seen.index and seen[(person, to)] > date
        for person, to, date in zip(
            rows["person_id"], rows["to_type"], rows["contact_date"], strict=True
        )
    ]
    share = sum(confirmed) / len(confirmed)
    assert 0.75 < share < 1.0  # most, and some referrals nobody confirms
