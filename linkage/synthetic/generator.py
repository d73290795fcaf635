"""`generate(people, seed)`: the whole synthetic data set in memory, deterministic per seed.

Steps: population (`people.py`) -> contacts over time (`episodes.py`) -> follow-up visits
(`followups.py`) -> what each agency
wrote (`records.py`) -> one extract per source type, sorted by contact date, with record ids
`SH-000001` / `OC-...` / `MG-...` -> truth (which person each record belongs to).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from linkage.synthetic import cases as hard_cases
from linkage.synthetic.config import DEFAULT_CONFIG, RECORD_ID_PREFIX, SOURCE_TYPES, SynthConfig
from linkage.synthetic.episodes import generate_episodes
from linkage.synthetic.followups import TRAJECTORIES, FollowupPlan, plan_followups
from linkage.synthetic.names import given_names, surnames
from linkage.synthetic.people import People, generate_people
from linkage.synthetic.records import CONTRACT_COLUMNS, birth_dates, build_records
from schemas.geography import load_geography

logger = logging.getLogger(__name__)

# Called with the name of the step that just finished; the CLI advances a progress bar.
ProgressCallback = Callable[[str], None]
STEPS: tuple[str, ...] = ("people", "episodes", "records", "extracts")


@dataclass(frozen=True)
class SyntheticData:
    """Synthetic extracts and what is true about them.

    - `extracts`: source type -> frame of CONTRACT_COLUMNS (all text, "" = blank), one row
      per contact episode or follow-up visit (`record_kind`), what the agency would send.
    - `truth`: one row per record: `source`, `record_id`, `person_id`, `cases` (the hard
      cases the record belongs to, `linkage.synthetic.cases`). Evaluation only.
    - `people`: one row per person with the true attributes (canonical names, birth date,
      district code, sibling/namesake links, returning flag, reintegration `trajectory` and
      `followup_source`, "" when not followed up). Evaluation only.
    """

    extracts: dict[str, pd.DataFrame]
    truth: pd.DataFrame
    people: pd.DataFrame
    seed: int
    config: SynthConfig

    @property
    def record_count(self) -> int:
        return sum(len(frame) for frame in self.extracts.values())


def _person_ids(count: int) -> np.ndarray:
    width = max(7, len(str(count)))
    return np.char.add("P", np.char.zfill(np.arange(1, count + 1).astype(str), width)).astype(
        object
    )


def _people_frame(
    people: People,
    person_ids: np.ndarray,
    first_contact: np.ndarray,
    is_returning: np.ndarray,
    followups: FollowupPlan,
) -> pd.DataFrame:
    given_table, _ = given_names()
    family_table = surnames()
    geo = load_geography()
    married = people.married_family >= 0
    married_index = np.where(married, people.married_family, 0)

    def link(index: np.ndarray) -> np.ndarray:
        return np.where(index >= 0, person_ids[np.maximum(index, 0)], "").astype(object)

    return pd.DataFrame(
        {
            "person_id": person_ids,
            "sex": people.sex.astype(object),
            "given_name": given_table.latin[people.given],
            "given_name_ne": given_table.devanagari[people.given],
            "family_name": family_table.latin[people.family],
            "family_name_ne": family_table.devanagari[people.family],
            "married_family_name": np.where(married, family_table.latin[married_index], ""),
            "married_family_name_ne": np.where(married, family_table.devanagari[married_index], ""),
            "father_name": given_table.latin[people.father],
            "father_name_ne": given_table.devanagari[people.father],
            "date_of_birth": np.datetime_as_string(birth_dates(people, first_contact), unit="D"),
            "district_code": np.array([d.code for d in geo.districts], dtype=object)[
                people.district
            ],
            "local_level_code": np.array([ll.code for ll in geo.local_levels], dtype=object)[
                people.local_level
            ],
            "caste_ethnicity": np.array(family_table.groups, dtype=object)[people.family],
            "sibling_of": link(people.sibling_of),
            "namesake_of": link(people.namesake_of),
            "is_returning": is_returning,
            "trajectory": np.array([*TRAJECTORIES, ""], dtype=object)[followups.trajectory],
            "followup_source": np.array([*SOURCE_TYPES, ""], dtype=object)[
                followups.monitoring_source
            ],
        }
    )


def generate(
    people: int,
    seed: int,
    config: SynthConfig = DEFAULT_CONFIG,
    progress: ProgressCallback | None = None,
) -> SyntheticData:
    """Generate `people` persons and their agency records; same seed, same data."""
    if people < 1:
        raise ValueError("people must be at least 1")
    notify = progress or (lambda _step: None)
    rng = np.random.default_rng(seed)

    population = generate_people(people, config, rng)
    # The hard-case passes draw from a stream of their own: the main stream, and so every
    # other column for this seed, stays as it was before they existed.
    extra = hard_cases.cases_rng(seed)
    same_father = hard_cases.share_fathers(population, config, extra)
    notify("people")
    episodes = generate_episodes(population, config, rng)
    followups = plan_followups(episodes, config, rng)
    episodes = episodes.extended(followups.visits)
    # A register lists contacts in date order; ties broken at random, not by person. Sorting
    # the episodes by (source, date, random) before writing makes each source one block.
    order = np.lexsort(
        (rng.random(len(episodes)), episodes.contact_date.astype(np.int64), episodes.source)
    )
    episodes = episodes.take(order)
    notify("episodes")
    records = build_records(population, episodes, config, rng)
    moved = hard_cases.move_districts(
        records.columns, records.person, records.contact_date, population, config, extra
    )
    labels = hard_cases.label_records(
        records.columns, records.person, population, moved, same_father
    )
    notify("records")

    person_ids = _person_ids(people)
    source, columns, person = records.source, records.columns, records.person
    bounds = np.searchsorted(source, np.arange(len(SOURCE_TYPES) + 1))
    extracts: dict[str, pd.DataFrame] = {}
    truth_parts = []
    for s, source_type in enumerate(SOURCE_TYPES):
        block = slice(bounds[s], bounds[s + 1])
        size = bounds[s + 1] - bounds[s]
        width = max(6, len(str(size)))
        ids = np.char.add(
            f"{RECORD_ID_PREFIX[source_type]}-",
            np.char.zfill(np.arange(1, size + 1).astype(str), width),
        ).astype(object)
        extracts[source_type] = pd.DataFrame(
            {
                name: ids if name == "record_id" else columns[name][block]
                for name in CONTRACT_COLUMNS
            }
        )
        truth_parts.append(
            pd.DataFrame(
                {
                    "source": source_type,
                    "record_id": ids,
                    "person_id": person_ids[person[block]],
                    "cases": labels[block],
                }
            )
        )
    truth = pd.concat(truth_parts, ignore_index=True)
    notify("extracts")
    frame = _people_frame(
        population, person_ids, episodes.first_contact, episodes.is_returning, followups
    )
    logger.info("generated %d records of %d people (seed %d)", len(truth), people, seed)
    return SyntheticData(extracts=extracts, truth=truth, people=frame, seed=seed, config=config)
