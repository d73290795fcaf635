"""Every proportion of the synthetic population in one place.

The linkage engine is judged on this data, so its hard cases (multi-agency survivors,
re-trafficking, spelling variants, typos, swapped names, married surnames, age instead of a
birth date, day/month swaps, siblings, namesakes) appear in the shares stated here, and
`tests/synthetic/` measures them back from the generated files against the truth.

Rates named `*_rate` apply per record; shares named `*_share` apply per person unless the
docstring of the field says otherwise. Per-source values are keyed by source type
(`shelter`, `ocmc`, `migration`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

from schemas.vocabularies import SOURCE_TYPES as SOURCE_TYPES

RECORD_ID_PREFIX: Mapping[str, str] = MappingProxyType(
    {"shelter": "SH", "ocmc": "OC", "migration": "MG"}
)


def _per_source(shelter: float, ocmc: float, migration: float) -> Mapping[str, float]:
    return MappingProxyType({"shelter": shelter, "ocmc": ocmc, "migration": migration})


@dataclass(frozen=True)
class SynthConfig:
    """Proportions and ranges of the synthetic population (defaults are the documented ones)."""

    # --- who the people are ------------------------------------------------------------
    sex_weights: tuple[float, float, float] = (0.78, 0.19, 0.03)  # F, M, O
    # Age at first contact: (lowest, highest, weight). Most survivors are young women and girls.
    age_bands: tuple[tuple[int, int, float], ...] = (
        (8, 11, 0.03),
        (12, 17, 0.22),
        (18, 24, 0.33),
        (25, 34, 0.25),
        (35, 49, 0.13),
        (50, 65, 0.04),
    )
    sibling_share: float = 0.06  # persons who are the younger sibling of another person
    sibling_together_share: float = 0.5  # of those: met with their sibling (same dates/agencies)
    namesake_share: float = 0.05  # unrelated persons sharing given+family name and district
    married_share: float = 0.30  # of women aged >= 20: a married surname unlike the maiden one
    married_surname_record_rate: float = 0.5  # of such a woman's records: written with it
    married_min_age: int = 20
    citizenship_share: float = 0.70  # of persons aged >= 16: hold a citizenship certificate
    citizenship_min_age: int = 16
    passport_share_migrants: float = 0.92  # persons seen by the migration agency
    passport_share_others: float = 0.15
    phone_share: float = 0.80
    phone_change_on_return_share: float = 0.4  # returning persons with a new phone number

    # --- contacts over time ------------------------------------------------------------
    # Number of agency types (one agency each) a person is seen at: 1, 2 or 3.
    agency_count_weights: tuple[float, float, float] = (0.55, 0.33, 0.12)
    # Which agency type a person is first met by (sources are then added in referral order).
    first_source_weights: Mapping[str, float] = field(
        default_factory=lambda: _per_source(0.35, 0.30, 0.35)
    )
    returning_share: float = 0.12  # persons seen again after a gap (re-trafficking)
    return_gap_days: tuple[int, int] = (183, 1100)  # >= 6 months by construction
    referral_step_days: tuple[int, int] = (1, 55)  # between agencies within one journey
    first_contact: date = date(2019, 1, 1)
    last_contact: date = date(2026, 6, 30)

    # --- how each agency writes a record ---------------------------------------------
    devanagari_rate: Mapping[str, float] = field(
        default_factory=lambda: _per_source(0.75, 0.45, 0.05)
    )
    uppercase_latin_rate: Mapping[str, float] = field(
        default_factory=lambda: _per_source(0.03, 0.05, 0.35)
    )
    variant_rate: float = 0.20  # records with one name written in a known variant spelling
    typo_rate: float = 0.07  # records with one name carrying a typing error
    swap_rate: float = 0.04  # records with given and family name swapped
    age_only_rate: Mapping[str, float] = field(
        default_factory=lambda: _per_source(0.55, 0.60, 0.10)
    )
    birth_missing_rate: float = 0.04  # records with neither birth date nor age
    age_with_dob_rate: float = 0.15  # records with a birth date that also give the age
    age_misstated_rate: float = 0.12  # ages off by one year (rounded, counted in BS years)
    day_month_swap_rate: float = 0.06  # of birth dates whose day <= 12 and != month
    father_name_rate: Mapping[str, float] = field(
        default_factory=lambda: _per_source(0.80, 0.50, 0.60)
    )
    citizenship_rate: Mapping[str, float] = field(  # written, when the person has one
        default_factory=lambda: _per_source(0.10, 0.35, 0.70)
    )
    passport_rate: Mapping[str, float] = field(  # written, when the person has one
        default_factory=lambda: _per_source(0.10, 0.05, 0.92)
    )
    phone_rate: Mapping[str, float] = field(  # written, when the person has one
        default_factory=lambda: _per_source(0.50, 0.70, 0.85)
    )
    sex_missing_rate: float = 0.02
    district_missing_rate: float = 0.03
    local_level_rate: float = 0.70
    ward_rate: float = 0.50
    province_rate: float = 0.60
    caste_rate: float = 0.70
    exploitation_missing_rate: float = 0.10
    destination_missing_rate: float = 0.08
    # District written as: English name, Nepali name, known variant, code (by record script).
    district_format_latin: tuple[float, float, float, float] = (0.55, 0.10, 0.20, 0.15)
    district_format_devanagari: tuple[float, float, float, float] = (0.20, 0.55, 0.10, 0.15)
    code_rate: float = 0.5  # vocabulary fields written as a code rather than a label

    # --- referrals ---------------------------------------------------------------------
    referral_to_rate: float = 0.85  # within a journey: sending record names the next type
    referral_from_rate: float = 0.80  # receiving record names where the person came from
    unconfirmed_referral_rate: float = 0.08  # last record of a journey: referral never seen
    outside_referral_from_rate: float = 0.25  # first record: referred by police/other

    # --- reintegration follow-up visits (agency extract contract 1.1) ----------------
    # Per person and source of the first journey, in the order the person met them: the
    # chance that this agency enrols the person in its follow-up (monitoring) programme. The
    # first agency that enrols the person does every visit. Mostly shelters and the
    # migration agency's reintegration programme; OCMCs (hospitals) rarely follow up.
    followup_enrol_rate: Mapping[str, float] = field(
        default_factory=lambda: _per_source(0.40, 0.04, 0.30)
    )
    # Scheduled visits, in months after the person's first contact (never before the
    # enrolling contact); each visit is moved by up to +-followup_jitter_days.
    followup_months: tuple[int, ...] = (3, 6, 12, 18, 24)
    followup_jitter_days: int = 21
    followup_dropout_rate: float = 0.12  # per scheduled visit: lost to follow-up from then on
    followup_missed_rate: float = 0.08  # per scheduled visit: missed, later visits still held
    # Visits after `last_contact` have not happened yet (censoring), so recent survivors
    # have fewer visits.
    # Share of enrolled persons per reintegration trajectory (the latent level that the
    # answers are drawn from; `followups.py` documents each shape):
    # improving = rises steadily; stalling = flat; crisis = falls steadily; setback = rises,
    # then falls sharply at the 12-month visit and recovers a little.
    trajectory_shares: Mapping[str, float] = field(
        default_factory=lambda: MappingProxyType(
            {"improving": 0.45, "stalling": 0.25, "crisis": 0.12, "setback": 0.18}
        )
    )
    answer_missing_rate: float = 0.04  # per indicator answer on a follow-up row
    answer_label_rate: float = 0.3  # follow-up rows with answers written as labels, not values
    episode_kind_blank_rate: float = 0.5  # episode rows whose record_kind is left empty

    # --- consent scope (agency extract contract 1.2) ----------------------------------
    # Per record, drawn after every other column (the rest of the data do not move with
    # them). Off by default: the benchmarks score linkage against the truth, and a withheld
    # or never-linked record would count as a missed link there. Empty = the default scope.
    statistics_only_rate: float = 0.0
    services_only_rate: float = 0.0

    def __post_init__(self) -> None:
        for name, weights in (
            ("sex_weights", self.sex_weights),
            ("agency_count_weights", self.agency_count_weights),
            ("district_format_latin", self.district_format_latin),
            ("district_format_devanagari", self.district_format_devanagari),
            ("trajectory_shares", tuple(self.trajectory_shares.values())),
        ):
            if abs(sum(weights) - 1.0) > 1e-9:
                raise ValueError(f"{name} must sum to 1, got {sum(weights)}")
        if self.return_gap_days[0] < 183:
            raise ValueError("return_gap_days must start at >= 183 days (six months)")
        if 2 * self.referral_step_days[1] >= self.return_gap_days[0]:
            raise ValueError("a journey must be shorter than the smallest return gap")

    @property
    def multi_agency_share(self) -> float:
        """Expected share of persons seen by more than one agency."""
        return 1.0 - self.agency_count_weights[0]


DEFAULT_CONFIG = SynthConfig()
