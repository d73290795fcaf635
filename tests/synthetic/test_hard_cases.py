"""The hard cases for linkage appear in the proportions stated in `SynthConfig`.

Each rate is measured back from the extract text against the truth (true names, birth dates,
places), not read from the generator's internals. Tolerances are a few standard errors at
N=5000 people (~8,500 records), so a broken or missing corruption fails.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from linkage.synthetic import DEFAULT_CONFIG, SOURCE_TYPES, SyntheticData
from linkage.synthetic.corruption import swap_day_month, swappable_day_month
from linkage.synthetic.names import given_names, surnames
from tests.synthetic.conftest import PEOPLE

DEVANAGARI = r"[\u0900-\u097f]"


def _forms_by_canonical() -> dict[str, frozenset[str]]:
    """Canonical Latin name -> every listed spelling (both scripts), case-folded."""
    forms: dict[str, set[str]] = {}
    for table in (given_names()[0], surnames()):
        for latin, deva in zip(table.latin_forms, table.devanagari_forms, strict=True):
            forms.setdefault(latin[0], set()).update(f.casefold() for f in (*latin, *deva))
    return {k: frozenset(v) for k, v in forms.items()}


def _canonical(latin: str, devanagari: str) -> frozenset[str]:
    return frozenset({latin.casefold(), devanagari.casefold()})


@pytest.fixture(scope="module")
def names(records: pd.DataFrame) -> pd.DataFrame:
    """Per record: which true name each written name field is, if any (exact spellings)."""
    forms = _forms_by_canonical()
    rows = []
    for r in records.itertuples(index=False):
        given_forms = forms[r.true_given_name]
        family_forms = forms[r.true_family_name] | (
            forms[r.true_married_family_name] if r.true_married_family_name else frozenset()
        )
        married_forms = forms.get(r.true_married_family_name, frozenset())
        given, family = r.given_name.casefold(), r.family_name.casefold()
        swapped = given in family_forms and family in given_forms
        if swapped:
            given, family = family, given
        canon_given = _canonical(r.true_given_name, r.true_given_name_ne)
        canon_family = _canonical(r.true_family_name, r.true_family_name_ne) | _canonical(
            r.true_married_family_name, r.true_married_family_name_ne
        )
        known = given_forms | family_forms
        rows.append(
            {
                "swapped": swapped,
                "variant": (given in given_forms - canon_given)
                or (family in family_forms - canon_family),
                "typo": given not in known or family not in known,
                "married_name": family in married_forms,
                "has_married_name": bool(r.true_married_family_name),
            }
        )
    return pd.DataFrame(rows, index=records.index)


def test_share_of_persons_seen_by_more_than_one_agency(episodes: pd.DataFrame) -> None:
    agencies = episodes.groupby("person_id")["source"].nunique()
    assert agencies.max() == 3
    assert abs((agencies > 1).mean() - DEFAULT_CONFIG.multi_agency_share) < 0.025
    per_person = episodes.groupby("person_id").size()
    assert per_person.between(1, 4).all()


def test_returning_after_a_gap_of_six_months(data: SyntheticData, episodes: pd.DataFrame) -> None:
    records = episodes  # follow-up visits are months apart by design: not re-trafficking
    ordered = records.assign(date=pd.to_datetime(records["contact_date"])).sort_values(
        ["person_id", "date"]
    )
    ordered["gap"] = ordered.groupby("person_id")["date"].diff().dt.days
    gaps = ordered.groupby("person_id")["gap"].max()
    returned = (gaps >= 183).reindex(data.people["person_id"], fill_value=False)
    assert abs(returned.mean() - data.config.returning_share) < 0.015
    # Exactly the persons the generator made returning, and nobody else.
    assert (returned.to_numpy() == data.people["is_returning"].to_numpy()).all()


@pytest.mark.parametrize("source", SOURCE_TYPES)
def test_devanagari_names_by_source(
    data: SyntheticData, records: pd.DataFrame, source: str
) -> None:
    rows = records[records["source"] == source]
    share = rows["given_name"].str.contains(DEVANAGARI).mean()
    assert abs(share - data.config.devanagari_rate[source]) < 0.03


def test_variant_typo_and_swap_rates(data: SyntheticData, names: pd.DataFrame) -> None:
    config = data.config
    # A typo on the same field hides a variant or a swap from exact matching: expected values
    # account for that (the typo lands on one of the two name fields).
    assert abs(names["variant"].mean() - config.variant_rate * (1 - config.typo_rate / 2)) < 0.015
    assert abs(names["typo"].mean() - config.typo_rate) < 0.012
    assert abs(names["swapped"].mean() - config.swap_rate * (1 - config.typo_rate)) < 0.01


def test_married_surname_change(
    data: SyntheticData, records: pd.DataFrame, names: pd.DataFrame
) -> None:
    config = data.config
    married_records = names[names["has_married_name"]]
    expected = config.married_surname_record_rate * (1 - config.typo_rate / 2)
    assert abs(married_records["married_name"].mean() - expected) < 0.05
    first = records.groupby("person_id")["contact_date"].min()
    people = data.people.set_index("person_id")
    age = (pd.to_datetime(first) - pd.to_datetime(people["date_of_birth"])).dt.days / 365.2425
    adult_women = people[(people["sex"] == "F") & (age.reindex(people.index) >= 20.5)]
    married_share = (adult_women["married_family_name"] != "").mean()
    assert abs(married_share - config.married_share) < 0.04


@pytest.mark.parametrize("source", SOURCE_TYPES)
def test_age_instead_of_birth_date(data: SyntheticData, records: pd.DataFrame, source: str) -> None:
    rows = records[records["source"] == source]
    age_only = ((rows["age"] != "") & (rows["date_of_birth"] == "")).mean()
    assert abs(age_only - data.config.age_only_rate[source]) < 0.035
    ages = rows.loc[rows["age"] != "", "age"].astype(int)
    assert ages.between(0, 80).all()


def test_day_month_swaps(data: SyntheticData, records: pd.DataFrame) -> None:
    rows = records[records["date_of_birth"] != ""]
    true = rows["true_date_of_birth"].to_numpy().astype("datetime64[D]")
    written = rows["date_of_birth"].to_numpy().astype("datetime64[D]")
    swappable = swappable_day_month(true)
    swapped = swappable & (written == np.where(swappable, swap_day_month(true), true))
    # Every written birth date is either the true one or its day/month swap.
    assert ((written == true) | swapped).all()
    rate = swapped.sum() / swappable.sum()
    assert abs(rate - data.config.day_month_swap_rate) < 0.02


def test_siblings_share_surname_father_and_place(data: SyntheticData) -> None:
    people = data.people.set_index("person_id")
    younger = people[people["sibling_of"] != ""]
    assert len(younger) == round(data.config.sibling_share * PEOPLE)
    older = people.loc[younger["sibling_of"]]
    for column in ("family_name", "father_name", "district_code", "local_level_code"):
        assert (younger[column].to_numpy() == older[column].to_numpy()).all(), column
    assert (younger["date_of_birth"].to_numpy() > older["date_of_birth"].to_numpy()).mean() > 0.95


def test_namesakes_share_name_and_district_but_are_other_people(data: SyntheticData) -> None:
    people = data.people.set_index("person_id")
    copies = people[people["namesake_of"] != ""]
    assert len(copies) == round(data.config.namesake_share * PEOPLE)
    originals = people.loc[copies["namesake_of"]]
    for column in ("given_name", "family_name", "district_code"):
        assert (copies[column].to_numpy() == originals[column].to_numpy()).all(), column
    same_birth = copies["date_of_birth"].to_numpy() == originals["date_of_birth"].to_numpy()
    assert same_birth.mean() < 0.01
    # Common names: many people share a (given, family, district) with someone else.
    keys = people.groupby(["given_name", "family_name", "district_code"]).size()
    assert keys[keys > 1].sum() / len(people) > data.config.namesake_share


def test_missing_identifiers_follow_agency_practice(records: pd.DataFrame) -> None:
    present = records.groupby("source")[["citizenship_no", "passport_no", "phone"]].agg(
        lambda c: (c != "").mean()
    )
    assert present.loc["shelter", "citizenship_no"] < 0.15
    assert present.loc["migration", "passport_no"] > 0.75
    assert present.loc["shelter", "passport_no"] < 0.1
    assert 0.3 < present.loc["shelter", "phone"] < 0.8


def test_case_labels_in_the_truth_match_the_records(
    data: SyntheticData, records: pd.DataFrame, names: pd.DataFrame
) -> None:
    """The truth's `cases` column says which hard case each record is (issue 18)."""
    from linkage.synthetic.cases import CASES, parse

    labels = records["cases"].map(parse)
    assert set().union(*labels) <= set(CASES)
    has = {case: labels.map(lambda s, c=case: c in s) for case in CASES}
    assert (has["typo"] == names["typo"]).all()
    assert (has["age_only"] == ((records["age"] != "") & (records["date_of_birth"] == ""))).all()
    assert (has["no_birth"] == ((records["age"] == "") & (records["date_of_birth"] == ""))).all()
    people = data.people.set_index("person_id")
    related = set(people.index[people["namesake_of"] != ""]) | set(people["namesake_of"])
    assert (has["namesake"] == records["person_id"].isin(related)).all()
    assert (has["married"] == (records["true_married_family_name"] != "")).all()


def test_people_move_district_between_records(data: SyntheticData, records: pd.DataFrame) -> None:
    moved = records["cases"].str.contains("moved")
    per_person = records.groupby("person_id").size()
    movers = records.loc[moved, "person_id"].unique()
    several = (per_person >= 2).sum()
    assert abs(len(movers) / several - data.config.moved_share) < 0.015
    # Only later records move: each mover's first contact keeps the home district.
    first = records.sort_values("contact_date").groupby("person_id").head(1)
    assert not first["cases"].str.contains("moved").any()


def test_some_namesakes_share_the_father(data: SyntheticData) -> None:
    people = data.people.set_index("person_id")
    copies = people[people["namesake_of"] != ""]
    originals = people.loc[copies["namesake_of"]]
    same = copies["father_name"].to_numpy() == originals["father_name"].to_numpy()
    # The share given the same father, plus those whose fathers match by chance.
    assert abs(same.mean() - data.config.namesake_same_father_share) < 0.06
    assert same.mean() >= data.config.namesake_same_father_share - 0.03
