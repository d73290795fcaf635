"""The synthetic population: who each survivor really is, before any agency writes it down.

Grain of `People`: one element per person in every array (index = person number). These are
the *true* attributes; `records.py` derives what each agency wrote from them, with the
variants and errors of `corruption.py`. Hard cases built in here: siblings (same surname,
father's name and place), namesakes (same given and family name in the same district, no
relation) and married women with a second surname.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from linkage.synthetic.config import SynthConfig
from linkage.synthetic.names import given_names, surnames
from schemas.geography import load_geography

SEX_CODES = np.array(["F", "M", "O"])

# Relative weights of districts that anti-trafficking reports name as major source districts;
# every other district has weight 1.
_HIGH_TRAFFICKING_DISTRICTS = {
    "Sindhupalchok": 14,
    "Makwanpur": 12,
    "Nuwakot": 10,
    "Kavrepalanchok": 9,
    "Dhading": 9,
    "Rautahat": 8,
    "Sarlahi": 8,
    "Morang": 7,
    "Sunsari": 7,
    "Jhapa": 6,
    "Kailali": 7,
    "Banke": 6,
    "Chitwan": 6,
    "Rupandehi": 6,
    "Kathmandu": 5,
    "Dolakha": 5,
    "Rasuwa": 4,
    "Sindhuli": 5,
    "Ramechhap": 4,
    "Udayapur": 4,
    "Dhanusha": 4,
    "Mahottari": 4,
    "Parsa": 4,
    "Bara": 4,
    "Kanchanpur": 4,
    "Bardiya": 4,
    "Dang": 3,
    "Kapilbastu": 3,
    "Nawalparasi West": 3,
    "Surkhet": 3,
}
_MOBILE_PREFIXES = np.array(["980", "981", "982", "984", "985", "986", "988", "961", "962"])


@dataclass(frozen=True)
class People:
    """True attributes of every person; arrays are indexed by person number."""

    sex: np.ndarray  # "F" / "M" / "O"
    given: np.ndarray  # index into names.given_names()
    family: np.ndarray  # birth surname, index into names.surnames()
    married_family: np.ndarray  # married surname index, -1 when none
    father: np.ndarray  # index into names.given_names() (male part)
    age_at_first_contact: np.ndarray
    birth_day_offset: np.ndarray  # days before the birthday-aligned date, 0..364
    district: np.ndarray  # index into load_geography().districts
    local_level: np.ndarray  # index into load_geography().local_levels
    ward: np.ndarray
    citizenship_no: np.ndarray  # canonical "DD-II-YY-NNNNN" or "" when none
    passport_no: np.ndarray  # "PA1234567" or "" (filled once episodes are known)
    phone: np.ndarray  # 10-digit mobile or ""
    second_phone: np.ndarray  # number used after a return, or "" when it did not change
    sibling_of: np.ndarray  # older sibling's person number, -1 when none
    sibling_gap_years: np.ndarray  # years between older and younger sibling, 0 when none
    namesake_of: np.ndarray  # person whose name and district were copied, -1 when none

    def __len__(self) -> int:
        return len(self.sex)


def _district_probabilities() -> np.ndarray:
    weights = np.array(
        [_HIGH_TRAFFICKING_DISTRICTS.get(d.name_en, 1) for d in load_geography().districts],
        dtype=float,
    )
    return weights / weights.sum()


def _local_levels_by_district() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per district: first index and count of its local levels (which are sorted by code)."""
    geo = load_geography()
    parents = np.array([ll.district_code for ll in geo.local_levels])
    codes = np.array([d.code for d in geo.districts])
    order = np.argsort(parents, kind="stable")
    starts = np.searchsorted(parents[order], codes, side="left")
    counts = np.searchsorted(parents[order], codes, side="right") - starts
    if (counts == 0).any():
        raise ValueError("every district needs at least one local level")
    return order, starts, counts


def _digits(rng: np.random.Generator, size: int, width: int) -> np.ndarray:
    numbers = rng.integers(0, 10**width, size=size)
    return np.char.zfill(numbers.astype(str), width)


def mobile_numbers(rng: np.random.Generator, size: int) -> np.ndarray:
    """Nepali mobile numbers, 10 digits starting 98x/96x."""
    prefixes = _MOBILE_PREFIXES[rng.integers(0, len(_MOBILE_PREFIXES), size=size)]
    return np.char.add(prefixes.astype("U3"), _digits(rng, size, 7))


def _ages(rng: np.random.Generator, size: int, config: SynthConfig) -> np.ndarray:
    weights = np.array([w for _, _, w in config.age_bands])
    band = rng.choice(len(weights), size=size, p=weights / weights.sum())
    low = np.array([lo for lo, _, _ in config.age_bands])[band]
    high = np.array([hi for _, hi, _ in config.age_bands])[band]
    return rng.integers(low, high + 1)


def generate_people(count: int, config: SynthConfig, rng: np.random.Generator) -> People:
    """Draw `count` persons with names, family ties, places and identity documents."""
    given_table, male_start = given_names()
    family_table = surnames()
    geo = load_geography()

    sex = SEX_CODES[rng.choice(3, size=count, p=np.array(config.sex_weights))]
    female_p = given_table.probabilities[:male_start] / given_table.probabilities[:male_start].sum()
    male_p = given_table.probabilities[male_start:] / given_table.probabilities[male_start:].sum()
    female_given = rng.choice(male_start, size=count, p=female_p)
    male_given = male_start + rng.choice(len(male_p), size=count, p=male_p)
    # "O": the register shows whichever given name the person uses; half each here.
    other_is_female = rng.random(count) < 0.5
    use_female = (sex == "F") | ((sex == "O") & other_is_female)
    given = np.where(use_female, female_given, male_given)
    father = male_start + rng.choice(len(male_p), size=count, p=male_p)
    family = family_table.sample(rng, count)

    age = _ages(rng, count, config)
    birth_day_offset = rng.integers(0, 365, size=count)

    district = rng.choice(len(geo.districts), size=count, p=_district_probabilities())
    order, starts, counts = _local_levels_by_district()
    local_level = order[starts[district] + (rng.random(count) * counts[district]).astype(int)]
    ward_counts = np.array([max(ll.ward_count, 1) for ll in geo.local_levels])
    ward = 1 + (rng.random(count) * ward_counts[local_level]).astype(int)

    # Siblings: younger siblings copy the older one's surname, father and place. Older
    # siblings are never themselves younger siblings, so one copy pass is exact.
    sibling_of = np.full(count, -1)
    shuffled = rng.permutation(count)
    n_siblings = round(config.sibling_share * count)
    younger, older = shuffled[:n_siblings], shuffled[n_siblings : 2 * n_siblings]
    sibling_of[younger] = older
    family[younger] = family[older]
    father[younger] = father[older]
    district[younger] = district[older]
    local_level[younger] = local_level[older]
    ward[younger] = ward[older]
    sibling_gap_years = np.zeros(count, dtype=int)
    sibling_gap_years[younger] = rng.integers(1, 9, size=n_siblings)
    age[younger] = np.maximum(age[older] - sibling_gap_years[younger], 8)

    # Namesakes: unrelated persons with the same given and family name in the same district.
    namesake_of = np.full(count, -1)
    n_namesakes = round(config.namesake_share * count)
    copies = shuffled[2 * n_siblings : 2 * n_siblings + n_namesakes]
    pool = shuffled[2 * n_siblings + n_namesakes :]
    sources = pool[rng.integers(0, len(pool), size=n_namesakes)] if len(pool) else copies
    namesake_of[copies] = sources
    sex[copies] = sex[sources]
    given[copies] = given[sources]
    family[copies] = family[sources]
    district[copies] = district[sources]
    local_level[copies] = order[
        starts[district[copies]] + (rng.random(n_namesakes) * counts[district[copies]]).astype(int)
    ]
    ward[copies] = 1 + (rng.random(n_namesakes) * ward_counts[local_level[copies]]).astype(int)

    # Married women: a second surname, always different from the birth surname.
    married = (
        (sex == "F") & (age >= config.married_min_age) & (rng.random(count) < config.married_share)
    )
    husband = family_table.sample(rng, count)
    clash = husband == family
    husband[clash] = (husband[clash] + 1) % len(family_table)
    married_family = np.where(married, husband, -1)

    has_citizenship = (age >= config.citizenship_min_age) & (
        rng.random(count) < config.citizenship_share
    )
    issue_district = np.char.zfill((district + 1).astype(str), 2)
    citizenship = np.char.add(
        np.char.add(
            np.char.add(issue_district, "-"),
            np.char.zfill(rng.integers(1, 6, count).astype(str), 2),
        ),
        np.char.add(
            np.char.add("-", rng.integers(60, 83, count).astype(str)),
            np.char.add("-", _digits(rng, count, 5)),
        ),
    )
    citizenship = np.where(has_citizenship, citizenship, "")

    phone = np.where(rng.random(count) < config.phone_share, mobile_numbers(rng, count), "")
    second = mobile_numbers(rng, count)
    second_phone = np.where(
        (phone != "") & (rng.random(count) < config.phone_change_on_return_share), second, ""
    )
    passport = np.char.add("PA", _digits(rng, count, 7))

    return People(
        sex=sex,
        given=given,
        family=family,
        married_family=married_family,
        father=father,
        age_at_first_contact=age,
        birth_day_offset=birth_day_offset,
        district=district,
        local_level=local_level,
        ward=ward,
        citizenship_no=citizenship,
        passport_no=passport,
        phone=phone,
        second_phone=second_phone,
        sibling_of=sibling_of,
        sibling_gap_years=sibling_gap_years,
        namesake_of=namesake_of,
    )
