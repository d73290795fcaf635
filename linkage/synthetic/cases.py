"""The linkage hard cases of the synthetic data: made here where they need a pass of their
own, and labelled per record so that benchmarks can score each case apart.

Cases (labels in the truth file's `cases` column, `;`-separated, sorted; "" = none):
- record-level, read back from what the record says against the truth:
  `typo` (a written given or family name is not one of the listed spellings of the
  person's names, so a typing error, in Latin or Devanagari), `age_only` (an age but no
  birth date), `no_birth` (neither), `moved` (a later record giving another district);
- person-level, on every record of the person: `sibling` (a younger or older sibling
  exists: same surname, father and place), `namesake` (another person of the same given and
  family name in the same district, either side of the copy), `namesake_same_father`
  (a namesake pair whose father's name is the same as well), `married` (the person has a
  married surname that some records use).

A pair of records belongs to a case when either record carries the label; false pairs
between siblings or namesakes therefore count in those cases too.

The two generated cases (`share_fathers`, `move_districts`) draw from a random stream of
their own (`cases_rng`), so the rest of the data for a seed stays as it was before them.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from linkage.synthetic.config import SynthConfig
from linkage.synthetic.names import given_names, surnames
from linkage.synthetic.people import People
from schemas.geography import load_geography

CASES: tuple[str, ...] = (
    "typo",
    "age_only",
    "no_birth",
    "moved",
    "sibling",
    "namesake",
    "namesake_same_father",
    "married",
)
# Stream id of the random generator for the case passes (any fixed number other than the
# generator's own stream).
_CASES_STREAM = 18


def cases_rng(seed: int) -> np.random.Generator:
    """The random stream of the case passes for `seed`, independent of the main stream."""
    return np.random.default_rng([seed, _CASES_STREAM])


def share_fathers(people: People, config: SynthConfig, rng: np.random.Generator) -> np.ndarray:
    """Give `namesake_same_father_share` of the namesakes their original's father (in place).

    Returns the boolean mask of persons (copies) whose father was changed.
    """
    copies = np.flatnonzero(people.namesake_of >= 0)
    chosen = copies[rng.random(len(copies)) < config.namesake_same_father_share]
    people.father[chosen] = people.father[people.namesake_of[chosen]]
    mask = np.zeros(len(people), dtype=bool)
    mask[chosen] = True
    return mask


def move_districts(
    columns: dict[str, np.ndarray],
    person: np.ndarray,
    contact_date: np.ndarray,
    people: People,
    config: SynthConfig,
    rng: np.random.Generator,
) -> np.ndarray:
    """Rewrite the place of later records of `moved_share` of the persons with >= 2 records.

    A moved person's records after her first contact give another district (its English
    name), its province code and no local level or ward. Changes `columns` in place;
    returns the per-record mask of rewritten records.
    """
    geo = load_geography()
    counts = np.bincount(person, minlength=len(people))
    movers = np.flatnonzero((counts >= 2) & (rng.random(len(people)) < config.moved_share))
    district_count = len(geo.districts)
    new_district = np.full(len(people), -1)
    shift = 1 + (rng.random(len(movers)) * (district_count - 1)).astype(int)
    new_district[movers] = (people.district[movers] + shift) % district_count
    first = np.full(len(people), np.datetime64("9999-12-31"), dtype="datetime64[D]")
    np.minimum.at(first, person, contact_date)
    moved = (new_district[person] >= 0) & (contact_date > first[person])
    rows = np.flatnonzero(moved)
    names = np.array([d.name_en for d in geo.districts], dtype=object)
    provinces = np.array([d.province_code for d in geo.districts], dtype=object)
    target = new_district[person[rows]]
    columns["district"][rows] = names[target]
    # A record with the province keeps one, now the new district's.
    had_province = columns["province"][rows] != ""
    columns["province"][rows] = np.where(had_province, provinces[target], "")
    columns["local_level"][rows] = ""
    columns["ward"][rows] = ""
    return moved


@cache
def _forms() -> tuple[tuple[frozenset[str], ...], tuple[frozenset[str], ...]]:
    """Per given-name and surname index: every listed spelling, both scripts, case-folded."""

    def table_forms(table: object) -> tuple[frozenset[str], ...]:
        return tuple(
            frozenset(f.casefold() for f in (*latin, *deva))
            for latin, deva in zip(table.latin_forms, table.devanagari_forms, strict=True)  # type: ignore[attr-defined]
        )

    return table_forms(given_names()[0]), table_forms(surnames())


def label_records(
    columns: dict[str, np.ndarray],
    person: np.ndarray,
    people: People,
    moved: np.ndarray,
    same_father: np.ndarray,
) -> np.ndarray:
    """Per record: its case labels, `;`-separated in CASES order ("" when none)."""
    given_forms, family_forms = _forms()
    n = len(person)
    given = columns["given_name"]
    family = columns["family_name"]
    typo = np.zeros(n, dtype=bool)
    rows = zip(given.tolist(), family.tolist(), person.tolist(), strict=True)
    for i, (g, f, p) in enumerate(rows):
        known = given_forms[people.given[p]] | family_forms[people.family[p]]
        if people.married_family[p] >= 0:
            known = known | family_forms[people.married_family[p]]
        typo[i] = (g != "" and g.casefold() not in known) or (f != "" and f.casefold() not in known)
    dob, age = columns["date_of_birth"], columns["age"]
    related_sibling = np.zeros(len(people), dtype=bool)
    related_sibling[people.sibling_of >= 0] = True
    related_sibling[people.sibling_of[people.sibling_of >= 0]] = True
    related_namesake = np.zeros(len(people), dtype=bool)
    related_namesake[people.namesake_of >= 0] = True
    related_namesake[people.namesake_of[people.namesake_of >= 0]] = True
    related_father = same_father.copy()
    related_father[people.namesake_of[same_father]] = True
    flags = {
        "typo": typo,
        "age_only": (dob == "") & (age != ""),
        "no_birth": (dob == "") & (age == ""),
        "moved": moved,
        "sibling": related_sibling[person],
        "namesake": related_namesake[person],
        "namesake_same_father": related_father[person],
        "married": (people.married_family >= 0)[person],
    }
    labels = np.full(n, "", dtype=object)
    for case in CASES:
        rows = np.flatnonzero(flags[case])
        labels[rows] = np.where(labels[rows] == "", case, labels[rows] + ";" + case)
    return labels


def parse(labels: str) -> frozenset[str]:
    """The case labels of one truth row."""
    return frozenset(label for label in labels.split(";") if label)
