"""Controlled vocabularies and their resolvers."""

from __future__ import annotations

import re

import pytest

from schemas import vocabularies as v


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("F", "F"),
        ("female", "F"),
        (" Female ", "F"),
        ("महिला", "F"),
        ("girl", "F"),
        ("M", "M"),
        ("male", "M"),
        ("MALE", "M"),
        ("पुरुष", "M"),
        ("o", "O"),
        ("other", "O"),
        ("third gender", "O"),
        ("तेस्रो लिङ्ग", "O"),
        ("अन्य", "O"),
    ],
)
def test_resolve_sex(text: str, code: str) -> None:
    assert v.resolve_sex(text) == code


@pytest.mark.parametrize("text", [None, "", "x", "unknown", "1"])
def test_resolve_sex_unknown(text: str | None) -> None:
    assert v.resolve_sex(text) is None


def test_sex_labels_cover_every_code() -> None:
    assert v.SEXES == ("F", "M", "O")
    assert set(v.SEX_LABELS) == set(v.SEX_LABELS_NE) == set(v.SEXES)


def test_exploitation_types_are_the_htcds_codes_with_nepali_labels() -> None:
    assert list(v.EXPLOITATION_TYPES) == [
        "forced_labour",
        "sexual_exploitation",
        "child_labour",
        "forced_marriage",
        "servitude",
        "forced_military",
        "organ_removal",
        "forced_begging",
        "forced_adoption",
        "surrogacy",
        "other",
    ]
    assert set(v.EXPLOITATION_TYPES_NE) == set(v.EXPLOITATION_TYPES)
    for label in v.EXPLOITATION_TYPES_NE.values():
        assert re.search(r"[\u0900-\u097f]", label)


def test_every_exploitation_code_and_label_resolves_to_itself() -> None:
    for code, label in v.EXPLOITATION_TYPES.items():
        assert v.resolve_exploitation_type(code) == code
        assert v.resolve_exploitation_type(label.upper()) == code
        assert v.resolve_exploitation_type(v.EXPLOITATION_TYPES_NE[code]) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("sex trafficking", "sexual_exploitation"),
        ("Forced prostitution", "sexual_exploitation"),
        ("labour", "forced_labour"),
        ("Forced-Labor", "forced_labour"),
        ("debt bondage", "forced_labour"),
        ("kidney", "organ_removal"),
        ("domestic servitude", "servitude"),
        ("child labor", "child_labour"),
        ("begging", "forced_begging"),
    ],
)
def test_exploitation_synonyms(text: str, code: str) -> None:
    assert v.resolve_exploitation_type(text) == code


def test_exploitation_unknown() -> None:
    assert v.resolve_exploitation_type("tourism") is None
    assert v.resolve_exploitation_type(None) is None


def test_countries_hold_every_iso_code_including_nepal() -> None:
    assert len(v.COUNTRIES) == 249
    assert all(re.fullmatch(r"[A-Z]{2}", code) for code in v.COUNTRIES)
    assert v.COUNTRIES["NP"] == "Nepal"
    assert v.COUNTRIES["SA"] == "Saudi Arabia"
    for code, name in v.COUNTRIES.items():
        assert v.resolve_country(code) == code
        assert v.resolve_country(name) == code, name


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("SA", "SA"),
        ("sa", "SA"),
        ("Saudi Arabia", "SA"),
        ("KSA", "SA"),
        ("साउदी अरब", "SA"),
        ("UAE", "AE"),
        ("U.A.E.", "AE"),
        ("Dubai", "AE"),
        ("दुबई", "AE"),
        ("Malaysia", "MY"),
        ("मलेसिया", "MY"),
        ("India", "IN"),
        ("भारत", "IN"),
        ("Korea", "KR"),
        ("South Korea", "KR"),
        ("कोरिया", "KR"),
        ("Qatar", "QA"),
        ("कतार", "QA"),
        ("Kuwait", "KW"),
        ("Nepal", "NP"),
        ("internal", "NP"),
        ("UK", "GB"),
        ("USA", "US"),
    ],
)
def test_resolve_country_common_destinations(text: str, code: str) -> None:
    assert v.resolve_country(text) == code


def test_resolve_country_unknown() -> None:
    assert v.resolve_country("XX") is None
    assert v.resolve_country("Atlantis") is None
    assert v.resolve_country("") is None


def test_services_follow_the_three_tiers() -> None:
    assert v.SERVICE_TIERS == ("immediate", "short_term", "long_term")
    by_tier = {t: [s.code for s in v.SERVICES.values() if s.tier == t] for t in v.SERVICE_TIERS}
    assert by_tier["immediate"] == [
        "assessment",
        "counselling",
        "health_check",
        "shelter",
        "food",
        "family_contact",
    ]
    assert by_tier["short_term"] == [
        "health_care",
        "security",
        "psychosocial_counselling",
        "legal_aid",
        "soft_loan_seed_money",
    ]
    assert by_tier["long_term"] == [
        "education",
        "skills_training",
        "legal_action",
        "family_community_counselling",
        "market_linkage",
        "grant",
        "job_placement",
    ]
    for code, service in v.SERVICES.items():
        assert service.code == code
        assert v.resolve_service(code) == code
        assert v.resolve_service(service.label_en) == code
        assert v.resolve_service(service.label_ne) == code
    assert set(v.SERVICE_TIER_LABELS_NE) == set(v.SERVICE_TIERS)


def test_service_synonyms_and_unknown() -> None:
    assert v.resolve_service("Seed Money") == "soft_loan_seed_money"
    assert v.resolve_service("vocational training") == "skills_training"
    assert v.resolve_service("psychosocial") == "psychosocial_counselling"
    assert v.resolve_service("karaoke") is None


def test_agency_types() -> None:
    assert list(v.AGENCY_TYPES) == ["shelter", "ocmc", "migration", "police", "other"]
    assert set(v.AGENCY_TYPES_NE) == set(v.AGENCY_TYPES)
    for code, label in v.AGENCY_TYPES.items():
        assert v.resolve_agency_type(code.upper()) == code
        assert v.resolve_agency_type(label) == code
        assert v.resolve_agency_type(v.AGENCY_TYPES_NE[code]) == code
    assert v.resolve_agency_type("DoFE") == "migration"
    assert v.resolve_agency_type("One-stop Crisis Management Center") == "ocmc"
    assert v.resolve_agency_type("bank") is None


def test_caste_ethnicity_groups() -> None:
    assert {
        "hill_brahmin_chhetri",
        "hill_janajati",
        "madhesi",
        "dalit",
        "muslim",
        "tarai_janajati",
        "newar",
        "other",
    } == set(v.CASTE_ETHNICITY_GROUPS)
    for code, label in v.CASTE_ETHNICITY_GROUPS.items():
        assert v.resolve_caste_ethnicity(code) == code
        assert v.resolve_caste_ethnicity(label) == code
        assert v.resolve_caste_ethnicity(v.CASTE_ETHNICITY_GROUPS_NE[code]) == code
    assert v.resolve_caste_ethnicity("Hill Brahmin / Chhetri") == "hill_brahmin_chhetri"
    # Surnames are deliberately not mapped.
    assert v.resolve_caste_ethnicity("Sharma") is None


@pytest.mark.parametrize(
    ("age", "band"),
    [
        (0, "0-11"),
        (11, "0-11"),
        (12, "12-17"),
        (17, "12-17"),
        (18, "18-24"),
        (24, "18-24"),
        (25, "25-34"),
        (34, "25-34"),
        (35, "35-49"),
        (49, "35-49"),
        (50, "50+"),
        (99, "50+"),
    ],
)
def test_age_band_boundaries(age: int, band: str) -> None:
    assert v.age_band(age) == band
    assert band in v.AGE_BANDS


@pytest.mark.parametrize("age", [None, -1, 121])
def test_age_band_unknown_or_implausible(age: int | None) -> None:
    assert v.age_band(age) is None
