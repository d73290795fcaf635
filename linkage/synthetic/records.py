"""What each agency wrote: one extract row per episode, in the agency extract contract.

Grain of what `build_records` returns: one element per contact episode in every column of
docs/interfaces.md section 1 (as text, "" when the agency left it blank). Script, spelling
variants, typos, swapped names, married surnames, age instead of birth date and day/month
swaps are applied here at the rates of `SynthConfig`; identifier formats come from
`corruption.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from linkage.synthetic import corruption
from linkage.synthetic.config import SOURCE_TYPES, SynthConfig
from linkage.synthetic.episodes import FOLLOWUP, NO_REFERRAL, REFERRAL_TYPES, Episodes
from linkage.synthetic.followups import answer_columns, record_kind_column
from linkage.synthetic.names import NameTable, given_names, surnames
from linkage.synthetic.people import People
from schemas.contract import load_contract
from schemas.geography import load_geography
from schemas.vocabularies import (
    AGENCY_TYPES,
    AGENCY_TYPES_NE,
    CASTE_ETHNICITY_GROUPS,
    CASTE_ETHNICITY_GROUPS_NE,
    COUNTRIES,
    COUNTRIES_NE,
    EXPLOITATION_TYPES,
    EXPLOITATION_TYPES_NE,
    SERVICES,
)

# Contract 1.1: the version-1 columns, then record_kind and one ri_* column per indicator.
CONTRACT_COLUMNS: tuple[str, ...] = tuple(column.name for column in load_contract())
# What a follow-up visit's row leaves blank: the visit is not a new case (no exploitation,
# destination or referral of its own) and services are recorded on episodes.
_BLANK_ON_FOLLOWUPS: tuple[str, ...] = (
    "exploitation_type",
    "destination_country",
    "services",
    "referred_from",
    "referred_to",
)

# Exploitation by sex (F, M, O) and for journeys that reach the migration agency (labour).
_EXPLOITATION_WEIGHTS: dict[str, dict[str, float]] = {
    "F": {
        "sexual_exploitation": 0.45,
        "forced_labour": 0.27,
        "servitude": 0.10,
        "forced_marriage": 0.08,
        "child_labour": 0.04,
        "organ_removal": 0.02,
        "forced_begging": 0.01,
        "other": 0.03,
    },
    "M": {
        "forced_labour": 0.66,
        "child_labour": 0.08,
        "organ_removal": 0.07,
        "servitude": 0.05,
        "sexual_exploitation": 0.04,
        "forced_begging": 0.04,
        "other": 0.06,
    },
    "O": {"sexual_exploitation": 0.40, "forced_labour": 0.40, "servitude": 0.10, "other": 0.10},
    "migration": {
        "forced_labour": 0.75,
        "servitude": 0.12,
        "sexual_exploitation": 0.08,
        "other": 0.05,
    },
}
# Destination country by exploitation type: India dominates sexual exploitation, the Gulf
# and Malaysia forced labour; `NP` is internal trafficking.
_DESTINATION_WEIGHTS: dict[str, dict[str, float]] = {
    "sexual_exploitation": {
        "IN": 0.62,
        "NP": 0.22,
        "AE": 0.04,
        "KW": 0.03,
        "MY": 0.03,
        "CN": 0.03,
        "LB": 0.03,
    },
    "forced_labour": {
        "SA": 0.19,
        "MY": 0.17,
        "QA": 0.15,
        "AE": 0.15,
        "IN": 0.12,
        "KW": 0.08,
        "NP": 0.06,
        "OM": 0.03,
        "BH": 0.02,
        "KR": 0.03,
    },
    "servitude": {
        "KW": 0.25,
        "SA": 0.20,
        "LB": 0.15,
        "AE": 0.15,
        "IN": 0.10,
        "NP": 0.10,
        "OM": 0.05,
    },
    "forced_marriage": {"CN": 0.40, "IN": 0.35, "NP": 0.25},
    "child_labour": {"NP": 0.60, "IN": 0.40},
    "organ_removal": {"IN": 0.90, "NP": 0.10},
    "forced_begging": {"IN": 0.50, "NP": 0.50},
    "other": {"NP": 0.40, "IN": 0.30, "MY": 0.15, "AE": 0.15},
}
# Everyday names for destinations that registers use instead of the official one.
_COUNTRY_ALIASES: dict[str, tuple[str, ...]] = {
    "AE": ("UAE", "Dubai"),
    "SA": ("Saudi",),
    "KR": ("South Korea",),
    "NP": ("Nepal",),
    "IN": ("India",),
    "MY": ("Malaysia",),
    "QA": ("Qatar",),
    "KW": ("Kuwait",),
}
# Services given by each agency type: probability that a record lists the service.
_SERVICE_RATES: dict[str, dict[str, float]] = {
    "shelter": {
        "shelter": 0.95,
        "food": 0.90,
        "counselling": 0.80,
        "family_contact": 0.50,
        "psychosocial_counselling": 0.40,
        "skills_training": 0.35,
        "health_check": 0.30,
        "legal_aid": 0.20,
        "education": 0.15,
    },
    "ocmc": {
        "health_check": 0.90,
        "health_care": 0.70,
        "counselling": 0.60,
        "legal_aid": 0.40,
        "psychosocial_counselling": 0.35,
        "security": 0.30,
        "shelter": 0.15,
    },
    "migration": {
        "legal_aid": 0.70,
        "assessment": 0.50,
        "legal_action": 0.30,
        "grant": 0.30,
        "counselling": 0.20,
        "family_contact": 0.20,
        "soft_loan_seed_money": 0.15,
        "job_placement": 0.10,
    },
}
_LOCAL_SUFFIXES = (
    " Rural Municipality",
    " Sub-Metropolitan City",
    " Metropolitan City",
    " Municipality",
)


# Small whole numbers as text (ages, wards), looked up rather than formatted per record.
_NUMBERS = np.array([str(i) for i in range(131)], dtype=object)


@dataclass(frozen=True)
class _Forms:
    """All spellings of one name table in one script, flattened for fancy indexing."""

    flat: np.ndarray
    offset: np.ndarray
    count: np.ndarray


def _flatten(forms: tuple[tuple[str, ...], ...]) -> _Forms:
    counts = np.array([len(f) for f in forms])
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    flat = np.array([s for f in forms for s in f], dtype=object)
    return _Forms(flat, offsets, counts)


@cache
def _table_forms(name: str) -> tuple[NameTable, _Forms, _Forms]:
    table = given_names()[0] if name == "given" else surnames()
    return table, _flatten(table.latin_forms), _flatten(table.devanagari_forms)


def _spell(
    name: str, index: np.ndarray, variant: np.ndarray, devanagari: np.ndarray, draw: np.ndarray
) -> np.ndarray:
    """Spelling of name `index` per record: canonical, or a listed variant where `variant`."""
    _, latin, deva = _table_forms(name)
    safe = np.where(index >= 0, index, 0)
    k_latin = np.where(variant, 1 + (draw * (latin.count[safe] - 1)).astype(int), 0)
    k_deva = np.where(variant, 1 + (draw * (deva.count[safe] - 1)).astype(int), 0)
    spelled = np.where(
        devanagari, deva.flat[deva.offset[safe] + k_deva], latin.flat[latin.offset[safe] + k_latin]
    )
    return np.where(index >= 0, spelled, "").astype(object)


def _pick(
    rng: np.random.Generator, choices: list[np.ndarray], weights: tuple[float, ...]
) -> np.ndarray:
    """Per element, one of several equally long candidate arrays, chosen with `weights`."""
    which = corruption.choose(rng, weights, len(choices[0]))
    return np.choose(which, [c.astype(object) for c in choices])


def _blank(values: np.ndarray, keep: np.ndarray) -> np.ndarray:
    return np.where(keep, values, "").astype(object)


def _age_on(birth: np.ndarray, on: np.ndarray) -> np.ndarray:
    """Whole years between two datetime64[D] arrays."""

    def parts(d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        year = d.astype("datetime64[Y]")
        month = d.astype("datetime64[M]")
        return year.astype(int), (month - year).astype(int), (d - month).astype(int)

    by, bm, bd = parts(birth)
    oy, om, od = parts(on)
    return oy - by - ((om < bm) | ((om == bm) & (od < bd))).astype(int)


def birth_dates(people: People, first_contact: np.ndarray) -> np.ndarray:
    """True birth dates: age at first contact as drawn, birthday spread over the year.

    A younger sibling is born `sibling_gap_years` after the older one (whatever their contact
    dates), unless that would make them younger than 6 at their own first contact.
    """
    days = np.round(people.age_at_first_contact * 365.2425).astype(int) + people.birth_day_offset
    birth = first_contact - days.astype("timedelta64[D]")
    younger = np.flatnonzero(people.sibling_of >= 0)
    gap = np.round(people.sibling_gap_years[younger] * 365.2425).astype(int)
    after_older = birth[people.sibling_of[younger]] + gap.astype("timedelta64[D]")
    latest = first_contact[younger] - np.timedelta64(round(6 * 365.2425), "D")
    birth[younger] = np.minimum(after_older, latest)
    return birth


def _names(
    people: People,
    episodes: Episodes,
    devanagari: np.ndarray,
    config: SynthConfig,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    p, n = episodes.person, len(episodes)
    source = episodes.source
    married = (people.married_family[p] >= 0) & (rng.random(n) < config.married_surname_record_rate)
    family_index = np.where(married, people.married_family[p], people.family[p])

    variant = rng.random(n) < config.variant_rate
    variant_field = rng.random(n) < 0.5  # True: given name, False: family name
    given = _spell("given", people.given[p], variant & variant_field, devanagari, rng.random(n))
    family = _spell("family", family_index, variant & ~variant_field, devanagari, rng.random(n))
    father_rates = np.array([config.father_name_rate[s] for s in SOURCE_TYPES])[source]
    has_father = rng.random(n) < father_rates
    father_variant = rng.random(n) < config.variant_rate
    father = _spell(
        "given",
        np.where(has_father, people.father[p], -1),
        father_variant,
        devanagari,
        rng.random(n),
    )

    typo = rng.random(n) < config.typo_rate
    typo_field = rng.random(n) < 0.5
    given = corruption.apply_typos(given, typo & typo_field, rng)
    family = corruption.apply_typos(family, typo & ~typo_field, rng)

    swap = rng.random(n) < config.swap_rate
    given, family = np.where(swap, family, given), np.where(swap, given, family)

    upper_rates = np.array([config.uppercase_latin_rate[s] for s in SOURCE_TYPES])[source]
    upper = ~devanagari & (rng.random(n) < upper_rates)
    rows = np.flatnonzero(upper)
    for column in (given, family, father):
        column[rows] = [str(v).upper() for v in column[rows].tolist()]
    return {"given_name": given, "family_name": family, "father_name": father}


def _birth_columns(
    people: People,
    episodes: Episodes,
    birth: np.ndarray,
    config: SynthConfig,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    p, n = episodes.person, len(episodes)
    true_birth = birth[p]
    age_only_rates = np.array([config.age_only_rate[s] for s in SOURCE_TYPES])[episodes.source]
    draw = rng.random(n)
    missing = draw < config.birth_missing_rate
    age_only = ~missing & (draw < config.birth_missing_rate + age_only_rates)
    with_dob = ~missing & ~age_only

    swap = (
        with_dob
        & corruption.swappable_day_month(true_birth)
        & (rng.random(n) < config.day_month_swap_rate)
    )
    written_birth = true_birth.copy()
    written_birth[swap] = corruption.swap_day_month(true_birth[swap])
    dob_text = np.datetime_as_string(written_birth, unit="D").astype(object)

    age = _age_on(true_birth, episodes.contact_date)
    misstated = rng.random(n) < config.age_misstated_rate
    age = np.maximum(age + np.where(misstated, rng.choice([-1, 1], size=n), 0), 0)
    shows_age = age_only | (with_dob & (rng.random(n) < config.age_with_dob_rate))
    return {
        "date_of_birth": _blank(dob_text, with_dob),
        "age": _blank(_NUMBERS[np.minimum(age, len(_NUMBERS) - 1)], shows_age),
    }


def _identifier_columns(
    people: People, episodes: Episodes, config: SynthConfig, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    p, n, source = episodes.person, len(episodes), episodes.source

    def rate(values: dict[str, float]) -> np.ndarray:
        return np.array([values[s] for s in SOURCE_TYPES])[source]

    # A person seen by the migration agency almost always holds a passport.
    migrant = np.zeros(len(people), dtype=bool)
    migrant[p[source == SOURCE_TYPES.index("migration")]] = True
    holds_passport = rng.random(len(people)) < np.where(
        migrant, config.passport_share_migrants, config.passport_share_others
    )
    citizenship = people.citizenship_no[p]
    passport = np.where(holds_passport[p], people.passport_no[p], "")
    changed = (episodes.journey == 1) & (people.second_phone[p] != "")
    phone = np.where(changed, people.second_phone[p], people.phone[p])
    return {
        "citizenship_no": _blank(
            corruption.format_citizenship(citizenship, rng),
            (citizenship != "") & (rng.random(n) < rate(config.citizenship_rate)),
        ),
        "passport_no": _blank(
            corruption.format_passports(passport, rng),
            (passport != "") & (rng.random(n) < rate(config.passport_rate)),
        ),
        "phone": _blank(
            corruption.format_phones(phone, rng),
            (phone != "") & (rng.random(n) < rate(config.phone_rate)),
        ),
    }


@cache
def _geography_arrays() -> dict[str, np.ndarray]:
    geo = load_geography()

    def variant_or_suffixed(d: object) -> str:
        # Districts without a recorded variant are still written "X District" sometimes.
        return d.variants[0] if d.variants else f"{d.name_en} District"  # type: ignore[attr-defined]

    def stripped(name: str) -> str:
        for suffix in _LOCAL_SUFFIXES:
            if name.endswith(suffix):
                return name[: -len(suffix)]
        return name

    provinces = {pr.code: pr for pr in geo.provinces}
    return {
        "district_en": np.array([d.name_en for d in geo.districts], dtype=object),
        "district_ne": np.array([d.name_ne for d in geo.districts], dtype=object),
        "district_variant": np.array([variant_or_suffixed(d) for d in geo.districts], dtype=object),
        "district_code": np.array([d.code for d in geo.districts], dtype=object),
        "province_code": np.array([d.province_code for d in geo.districts], dtype=object),
        "province_en": np.array(
            [provinces[d.province_code].name_en for d in geo.districts], dtype=object
        ),
        "province_short": np.array(
            [provinces[d.province_code].name_en.removesuffix(" Province") for d in geo.districts],
            dtype=object,
        ),
        "province_ne": np.array(
            [provinces[d.province_code].name_ne for d in geo.districts], dtype=object
        ),
        "local_en": np.array([ll.name_en for ll in geo.local_levels], dtype=object),
        "local_ne": np.array([ll.name_ne for ll in geo.local_levels], dtype=object),
        "local_short": np.array([stripped(ll.name_en) for ll in geo.local_levels], dtype=object),
        "local_code": np.array([ll.code for ll in geo.local_levels], dtype=object),
    }


def _place_columns(
    people: People,
    episodes: Episodes,
    devanagari: np.ndarray,
    config: SynthConfig,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    geo = _geography_arrays()
    p, n = episodes.person, len(episodes)
    d, ll = people.district[p], people.local_level[p]
    district_choices = [
        geo["district_en"][d],
        geo["district_ne"][d],
        geo["district_variant"][d],
        geo["district_code"][d],
    ]
    district = np.where(
        devanagari,
        _pick(rng, district_choices, config.district_format_devanagari),
        _pick(rng, district_choices, config.district_format_latin),
    )
    province = _pick(
        rng,
        [
            geo["province_code"][d],
            geo["province_short"][d],
            geo["province_en"][d],
            geo["province_ne"][d],
        ],
        (0.4, 0.3, 0.2, 0.1),
    )
    local = _pick(
        rng,
        [geo["local_en"][ll], geo["local_ne"][ll], geo["local_short"][ll], geo["local_code"][ll]],
        (0.45, 0.25, 0.15, 0.15),
    )
    return {
        "district": _blank(district, rng.random(n) >= config.district_missing_rate),
        "province": _blank(province, rng.random(n) < config.province_rate),
        "local_level": _blank(local, rng.random(n) < config.local_level_rate),
        "ward": _blank(_NUMBERS[people.ward[p]], rng.random(n) < config.ward_rate),
    }


def _labelled(
    index: np.ndarray,
    vocabulary: tuple[str, ...],
    labels_en: dict[str, str],
    labels_ne: dict[str, str],
    devanagari: np.ndarray,
    config: SynthConfig,
    rng: np.random.Generator,
) -> np.ndarray:
    """Vocabulary values (given as indices into `vocabulary`) written as the code, the English
    label or, for Devanagari records, often the Nepali label."""
    codes = np.array(vocabulary, dtype=object)
    english = np.array([labels_en.get(c, c) for c in vocabulary], dtype=object)
    nepali = np.array([labels_ne.get(c, labels_en.get(c, c)) for c in vocabulary], dtype=object)
    as_code = rng.random(len(index)) < config.code_rate
    label = np.where(devanagari & (rng.random(len(index)) < 0.6), nepali[index], english[index])
    return np.where(as_code, codes[index], label).astype(object)


_EXPLOITATION_CODES: tuple[str, ...] = tuple(EXPLOITATION_TYPES)
_CASTE_CODES: tuple[str, ...] = tuple(CASTE_ETHNICITY_GROUPS)
_DESTINATION_CODES: tuple[str, ...] = tuple(
    sorted({c for weights in _DESTINATION_WEIGHTS.values() for c in weights})
)


def _draw(
    rng: np.random.Generator, weights: dict[str, float], vocabulary: tuple[str, ...], size: int
) -> np.ndarray:
    """Indices into `vocabulary` drawn with `weights` (keyed by code)."""
    codes = np.array([vocabulary.index(c) for c in weights])
    return codes[corruption.choose(rng, tuple(weights.values()), size)]


def _case_columns(
    people: People,
    episodes: Episodes,
    devanagari: np.ndarray,
    config: SynthConfig,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Exploitation, destination (one per journey), services, referrals, caste."""
    p, n, count = episodes.person, len(episodes), len(people)
    migration_journey = np.zeros((count, 2), dtype=bool)
    at_migration = episodes.source == SOURCE_TYPES.index("migration")
    migration_journey[p[at_migration], episodes.journey[at_migration]] = True

    # Drawn per person and journey: every record of one journey tells the same story.
    exploitation = np.zeros((count, 2), dtype=int)
    for group, weights in _EXPLOITATION_WEIGHTS.items():
        mask = (
            migration_journey
            if group == "migration"
            else ((people.sex == group)[:, None] & ~migration_journey)
        )
        exploitation[mask] = _draw(rng, weights, _EXPLOITATION_CODES, int(mask.sum()))
    adult = (people.age_at_first_contact >= 18)[:, None]
    child_labour = _EXPLOITATION_CODES.index("child_labour")
    exploitation[(exploitation == child_labour) & adult] = _EXPLOITATION_CODES.index(
        "forced_labour"
    )
    destination = np.zeros((count, 2), dtype=int)
    for code, weights in _DESTINATION_WEIGHTS.items():
        mask = exploitation == _EXPLOITATION_CODES.index(code)
        destination[mask] = _draw(rng, weights, _DESTINATION_CODES, int(mask.sum()))

    exploitation_index = exploitation[p, episodes.journey]
    destination_index = destination[p, episodes.journey]
    codes = np.array(_DESTINATION_CODES, dtype=object)[destination_index]
    country_en = np.array([COUNTRIES[c] for c in _DESTINATION_CODES], dtype=object)
    country_ne = np.array(
        [COUNTRIES_NE.get(c, COUNTRIES[c]) for c in _DESTINATION_CODES], dtype=object
    )
    # One everyday alias per country (first listed), else its English name.
    aliases = np.array(
        [_COUNTRY_ALIASES.get(c, (COUNTRIES[c],))[0] for c in _DESTINATION_CODES], dtype=object
    )
    name = np.where(
        devanagari,
        country_ne[destination_index],
        np.where(rng.random(n) < 0.25, aliases[destination_index], country_en[destination_index]),
    )
    country = np.where(rng.random(n) < config.code_rate, codes, name)

    group_of_surname = np.array([_CASTE_CODES.index(g) for g in surnames().groups])
    return {
        "caste_ethnicity": _blank(
            _labelled(
                group_of_surname[people.family[p]],
                _CASTE_CODES,
                CASTE_ETHNICITY_GROUPS,
                CASTE_ETHNICITY_GROUPS_NE,
                devanagari,
                config,
                rng,
            ),
            rng.random(n) < config.caste_rate,
        ),
        "exploitation_type": _blank(
            _labelled(
                exploitation_index,
                _EXPLOITATION_CODES,
                EXPLOITATION_TYPES,
                EXPLOITATION_TYPES_NE,
                devanagari,
                config,
                rng,
            ),
            rng.random(n) >= config.exploitation_missing_rate,
        ),
        "destination_country": _blank(country, rng.random(n) >= config.destination_missing_rate),
        "services": _services(episodes.source, rng),
        "referred_from": _referrals(episodes.referred_from, devanagari, config, rng),
        "referred_to": _referrals(episodes.referred_to, devanagari, config, rng),
    }


def _services(source: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Semicolon lists of service codes, or of English labels for some records."""
    out = np.empty(len(source), dtype=object)
    as_label = rng.random(len(source)) < 0.3
    for s, source_type in enumerate(SOURCE_TYPES):
        rows = np.flatnonzero(source == s)
        rates = _SERVICE_RATES[source_type]
        codes = list(rates)
        labels = [SERVICES[c].label_en for c in codes]
        given = rng.random((len(rows), len(codes))) < np.array(list(rates.values()))
        given[~given.any(axis=1), 0] = True  # every episode gives at least one service
        # Encode each row's choice as an integer so only the distinct lists are joined.
        key = (given.astype(np.int64) @ (1 << np.arange(len(codes)))) * 2 + as_label[rows]
        unique, inverse = np.unique(key, return_inverse=True)
        texts = [
            ";".join(
                (labels if k & 1 else codes)[j] for j in range(len(codes)) if (k >> 1) & (1 << j)
            )
            for k in unique.tolist()
        ]
        out[rows] = np.array(texts, dtype=object)[inverse]
    return out


def _referrals(
    values: np.ndarray, devanagari: np.ndarray, config: SynthConfig, rng: np.random.Generator
) -> np.ndarray:
    index = np.where(values >= 0, values, 0)
    written = _labelled(
        index, REFERRAL_TYPES, AGENCY_TYPES, AGENCY_TYPES_NE, devanagari, config, rng
    )
    return _blank(written, values != NO_REFERRAL)


@dataclass(frozen=True)
class RecordColumns:
    """Extract columns for every episode (text, "" = blank), still in episode order."""

    columns: dict[str, np.ndarray]  # contract column -> object array (record_id not yet set)
    source: np.ndarray  # index into SOURCE_TYPES
    person: np.ndarray  # person number
    contact_date: np.ndarray  # datetime64[D]


def _consent_scopes(n: int, config: SynthConfig, rng: np.random.Generator) -> np.ndarray:
    """Contract 1.2 consent scope per record: mostly empty (the default scope).

    Draws nothing at the default rates of 0, so the seed gives the same data as before.
    """
    scopes = np.full(n, "", dtype=object)
    if config.statistics_only_rate or config.services_only_rate:
        draw = rng.random(n)
        scopes[draw < config.statistics_only_rate] = "statistics_only"
        limit = config.statistics_only_rate + config.services_only_rate
        scopes[(draw >= config.statistics_only_rate) & (draw < limit)] = "services_only"
    return scopes


def build_records(
    people: People, episodes: Episodes, config: SynthConfig, rng: np.random.Generator
) -> RecordColumns:
    """Every contract column except `record_id`, one element per episode."""
    n = len(episodes)
    devanagari_rates = np.array([config.devanagari_rate[s] for s in SOURCE_TYPES])
    devanagari = rng.random(n) < devanagari_rates[episodes.source]
    birth = birth_dates(people, episodes.first_contact)
    sex = _blank(
        people.sex[episodes.person].astype(object), rng.random(n) >= config.sex_missing_rate
    )
    columns: dict[str, np.ndarray] = {
        **_names(people, episodes, devanagari, config, rng),
        "sex": sex,
        **_birth_columns(people, episodes, birth, config, rng),
        **_identifier_columns(people, episodes, config, rng),
        **_place_columns(people, episodes, devanagari, config, rng),
        **_case_columns(people, episodes, devanagari, config, rng),
        "contact_date": np.datetime_as_string(episodes.contact_date, unit="D").astype(object),
        "record_kind": record_kind_column(episodes, devanagari, config, rng),
        **answer_columns(episodes, devanagari, config, rng),
    }
    followup = episodes.kinds == FOLLOWUP
    for name in _BLANK_ON_FOLLOWUPS:
        columns[name] = np.where(followup, "", columns[name]).astype(object)
    columns["consent_scope"] = _consent_scopes(n, config, rng)
    return RecordColumns(
        columns=columns,
        source=episodes.source,
        person=episodes.person,
        contact_date=episodes.contact_date,
    )
