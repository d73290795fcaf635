"""The quasi-identifiers of analyst.duckdb and how each may be coarsened: stated once, here.

A quasi-identifier (QI) is a value an outsider may know about a survivor without the file
(a relative, a trafficker, a neighbour, a journalist): where she is from, her sex and age,
when she came to an agency, which kind of agency, where she was taken and for what. The
analyst file joins every table on `survivor_id`, so an attacker matches on the *survivor's
whole history*: her own row, the multiset of her episodes and the referrals of each episode
("came back from Saudi Arabia in 2023, was at an OCMC in 2024"). The equivalence class of a
survivor is therefore the set of survivors with the same survivor-level signature:

    survivor QIs + sorted list over her episodes of (episode QIs + sorted list of that
    episode's referral QIs)

Every column of every analyst table has one role (`ANALYST_COLUMNS`): `id` (pseudonymous
join key, random, not a QI), `quasi_identifier`, or `sensitive` (what the file tells about a
survivor once she is in a class of k: the services given and whether a referral was
confirmed; outsiders do not see those). The checker (`pipelines.anonymity.check`) refuses a
file with a column that is not listed here, so a new column must be classified first.

`DIMENSIONS` are the generalisation hierarchies, level 0 = as the warehouse has it. One
level per dimension applies to every column of that dimension in every table (global
recoding): a survivor row at district level next to episodes at province level would give
the district back.

Not in analyst.duckdb at all (so not QIs here): names, dates of birth, exact dates, local
level, ward, caste/ethnicity, agency ids, record tokens, batch ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["id", "quasi_identifier", "sensitive"]


@dataclass(frozen=True)
class Column:
    """One published column: its role, its hierarchy (None: only suppressed), its meaning."""

    role: Role
    dimension: str | None
    comment: str
    sql_type: str = "VARCHAR"


@dataclass(frozen=True)
class Dimension:
    """A generalisation hierarchy: level labels, most detailed first."""

    name: str
    levels: tuple[str, ...]
    # Information lost per value at each level (0 = as in the warehouse, 1 = suppressed):
    # the utility measure the search minimises together with local suppression.
    loss: tuple[float, ...]

    @property
    def top(self) -> int:
        return len(self.levels) - 1


# Order = preference when two coarsening steps protect equally many survivors: the first
# listed is coarsened first (a quarter instead of a month costs analysts less than a province
# instead of a district; sex is what most questions are broken down by, so it goes last).
DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("period", ("month", "quarter", "year"), (0, 1 / 3, 2 / 3)),
    Dimension("geography", ("district", "province", "suppressed"), (0, 1 / 2, 1)),
    Dimension(
        "destination",
        ("country", "region", "abroad_or_internal", "suppressed"),
        (0, 1 / 3, 2 / 3, 1),
    ),
    Dimension(
        "age", ("age_band", "0-17/18-34/35+", "0-17/18+", "suppressed"), (0, 1 / 3, 2 / 3, 1)
    ),
    Dimension("exploitation", ("htcds_type", "labour/sexual/other", "suppressed"), (0, 1 / 2, 1)),
    Dimension("agency", ("agency_type", "suppressed"), (0, 1)),
    Dimension("sex", ("sex", "suppressed"), (0, 1)),
)
DIMENSION_NAMES: tuple[str, ...] = tuple(d.name for d in DIMENSIONS)

# Level 1 of `age`: merged neighbouring bands (children stay apart from adults).
AGE_MERGED: dict[str, str] = {
    "0-11": "0-17",
    "12-17": "0-17",
    "18-24": "18-34",
    "25-34": "18-34",
    "35-49": "35+",
    "50+": "35+",
}
AGE_MINOR_ADULT: dict[str, str] = {
    "0-11": "0-17",
    "12-17": "0-17",
    "18-24": "18+",
    "25-34": "18+",
    "35-49": "18+",
    "50+": "18+",
}
# Level 1 of `exploitation`: the broad group of an HTCDS code.
EXPLOITATION_GROUPS: dict[str, str] = {
    "forced_labour": "labour",
    "child_labour": "labour",
    "forced_begging": "labour",
    "servitude": "labour",
    "sexual_exploitation": "sexual",
    "forced_marriage": "other",
    "forced_military": "other",
    "organ_removal": "other",
    "forced_adoption": "other",
    "surrogacy": "other",
    "other": "other",
}
# Level 1 of `destination`: Nepal (internal), India (open border) and the Gulf stay apart
# (the three main routes); every other country becomes `other_abroad`.
GULF_COUNTRIES: frozenset[str] = frozenset({"SA", "AE", "QA", "KW", "OM", "BH"})
INTERNAL = "NP"


def _qi(dimension: str | None, comment: str, sql_type: str = "VARCHAR") -> Column:
    return Column("quasi_identifier", dimension, comment, sql_type)


def _id(comment: str, sql_type: str = "VARCHAR") -> Column:
    return Column("id", None, comment, sql_type)


def _sensitive(comment: str, sql_type: str = "VARCHAR") -> Column:
    return Column("sensitive", None, comment, sql_type)


_PERIOD = (
    "Contact period at the published level (`YYYY-MM`, `YYYY-Qn` or `YYYY`); NULL when suppressed"
)
_GEO = "at the published level (NULL when coarsened away or suppressed)"
ANALYST_COLUMNS: dict[str, dict[str, Column]] = {
    "survivors": {
        "survivor_id": _id("Linkage survivor id (random, not derived from any token)"),
        "sex": _qi("sex", "F | M | O; NULL when unknown or suppressed"),
        "age_band": _qi("age", "Age band at first contact, at the published level"),
        "province_code": _qi("geography", f"Province of origin {_GEO}"),
        "district_code": _qi("geography", f"District of origin {_GEO}"),
        "first_contact_period": _qi("period", "First " + _PERIOD.lower()),
        "is_returning": _qi(
            None, "Came back >= 6 months after an earlier episode; NULL when suppressed", "BOOLEAN"
        ),
    },
    "episodes": {
        "episode_id": _id(
            "Episode id of this file only (numbered in survivor, period, values order: it "
            "does not give the order of contacts within a period)",
            "BIGINT",
        ),
        "survivor_id": _id("Survivor the episode belongs to"),
        "contact_period": _qi("period", _PERIOD),
        "agency_type": _qi("agency", "shelter | ocmc | migration; NULL when suppressed"),
        "province_code": _qi("geography", f"Province of origin {_GEO}"),
        "district_code": _qi("geography", f"District of origin {_GEO}"),
        "age_band": _qi("age", "Age band at contact, at the published level"),
        "exploitation_type": _qi(
            "exploitation",
            "HTCDS code or its group (labour | sexual | other), at the published level",
        ),
        "destination_country": _qi(
            "destination",
            "ISO alpha-2 (NP internal), or region (NP | IN | gulf | other_abroad), or "
            "NP | abroad, at the published level",
        ),
        "is_first_episode": _qi(
            None, "The survivor's first episode; NULL when suppressed", "BOOLEAN"
        ),
        "is_returning": _qi(
            None, "Came back >= 6 months after an earlier episode; NULL when suppressed", "BOOLEAN"
        ),
    },
    "services": {
        "episode_id": _id("Episode (this file's id)", "BIGINT"),
        "survivor_id": _id("Survivor"),
        "service_code": _sensitive("Service given"),
        "service_tier": _sensitive("immediate | short_term | long_term"),
    },
    "referrals": {
        "episode_id": _id("Episode (this file's id)", "BIGINT"),
        "survivor_id": _id("Survivor"),
        "contact_period": _qi("period", "The episode's contact period (as in episodes)"),
        "direction": _qi(None, "outgoing | incoming; NULL when suppressed"),
        "from_agency_type": _qi("agency", "Agency type referred from, at the published level"),
        "to_agency_type": _qi("agency", "Agency type referred to, at the published level"),
        "is_confirmed": _sensitive("The receiving agency recorded the survivor", "BOOLEAN"),
    },
}
# Tables in survivor -> episode -> referral order: what hangs on what in the signature.
SURVIVOR_TABLE, EPISODE_TABLE, REFERRAL_TABLE, SERVICE_TABLE = (
    "survivors",
    "episodes",
    "referrals",
    "services",
)


def quasi_identifiers(table: str) -> tuple[str, ...]:
    """The QI columns of one analyst table, in table order."""
    return tuple(
        name for name, column in ANALYST_COLUMNS[table].items() if column.role == "quasi_identifier"
    )
