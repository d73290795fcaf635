"""The linkage model spec as data: blocking rules, comparisons and thresholds.

Everything here is plain, JSON-serialisable data so a trained model is one versioned JSON
artefact (`TrainedModel`): Splink's own settings JSON (with trained m/u and lambda) plus our
metadata (model_version, trained_at, thresholds, encoding_version, key_id).

The spec works on the *prepared* linkage input (see `linkage.matching.prepare`), where each
Bloom filter is already cast to a BIT string (`<name>_bits`) with its popcount (`<name>_ones`)
so that Dice is computed without re-casting for every pair.

No term-frequency adjustments anywhere: token frequencies are exactly what a frequency
attack on the encodings would use, so the model does not learn or store them.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from linkage.encoding.crypto import ENCODING_VERSION

# 2: order-free name key level and rule, ID numbers one keystroke apart, blocking at scale.
# 3: same-ward level of the place comparison.
# 4: birth through keyed windows (pahichan-enc-2), enc-1 levels kept for enc-1 pairs.
# 5: full names one letter apart in one field (pahichan-enc-3 name edit tokens): a name
#    level and a blocking rule (issue 18).
# 6: two more rules for records without a birth year; name edit tokens of pahichan-enc-4
#    also pair names a consonant apart in their skeleton (issue 18).
# 7: the given-name rule with a birth window holds within a local level, not a district,
#    and a family-name twin joins it; both names pair in either order within a birth cell
#    (issues 18, 20: at 1M records 293M -> 221M joined rows, blocking recall 0.978 -> 0.981).
# 8: birth tokens compared as separate columns instead of lists (`shares_birth_token`), and
#    the name edit rule's "not the same names" by hashes of the filters: the same rules,
#    levels and pairs, cheaper to score (issue 20).
# 9: the birth date + sex rule holds within a district or with one name key (issue 20: at
#    1M records 221M -> about 165M candidate pairs).
# A model keeps the spec it was trained with (its Splink settings travel in its JSON).
SPEC_VERSION = "pahichan-link-9"

# The filters compared by Dice in the model (full_name_bf feeds the LSH bands instead).
NAME_FILTERS = ("given_name", "family_name", "father_name")


@dataclass(frozen=True)
class Dialect:
    """The SQL engine the spec is written for: the few expressions that differ by engine.

    Models are trained on DuckDB; a trained model can be re-emitted for Spark to score
    (`linkage.matching.spark_scoring`). Splink translates only its dialect-aware levels,
    not the plain SQL strings of this spec, so each engine gets its own text here instead
    of a translation (sqlglot turns DuckDB's `list_has_any` into Spark's `&&`, which fails).
    """

    name: Literal["duckdb", "spark"]

    def list_has_any(self, left: str, right: str) -> str:
        function = "list_has_any" if self.name == "duckdb" else "arrays_overlap"
        return f"{function}({left}, {right})"

    def dice(self, column: str) -> str:
        """Dice of two records' `<column>` filters: DuckDB has a BIT type (prepare casts
        the filters once); Spark has none, so a UDF over the 128 filter bytes
        (`bloom_dice`, `linkage.matching.spark_udf`) gives the same value, NULL for two
        empty filters like DuckDB's division by zero."""
        if self.name == "spark":
            return f"bloom_dice({column}_bits_l, {column}_bits_r)"
        return (
            f"2.0 * bit_count({column}_bits_l & {column}_bits_r)"
            f" / ({column}_ones_l + {column}_ones_r)"
        )


DUCKDB = Dialect("duckdb")
SPARK = Dialect("spark")


@dataclass(frozen=True)
class LinkageSettings:
    """Tunable knobs of the model, stored with every trained model.

    Dice levels are set for the encoder's *hardened* filters (diffusion layer, ~45% of bits
    set): unrelated names score Dice ~0.46 +- 0.03, so a one-letter variant that scored 0.8
    on plain filters scores only 0.55-0.7 here. Measured on encoded FEBRL4 (true pairs whose
    names differ vs random pairs): Dice >= 0.62 keeps ~20% of variants and ~0.05% of
    unrelated names, >= 0.55 keeps ~40% and ~0.3%.

    The auto-link threshold is chosen by the trained model itself (see
    `linkage.matching.threshold`): `threshold_rule="expected_f1"` maximises the model's own
    expected F1 over scored pairs, `"probability"` uses `auto_link_probability`. Both are
    label-free; the chosen weight is stored in the model JSON.
    """

    dice_high: float = 0.62
    dice_low: float = 0.55
    father_dice: float = 0.58
    # Full-name filter Dice that counts as "same person, names swapped or merged" (given
    # and family name swapped: the full-name filter still agrees).
    full_name_dice: float = 0.55
    threshold_rule: str = "expected_f1"
    auto_link_probability: float = 0.99
    # Bounds on the expected-F1 threshold (posterior probability), so a badly trained model
    # can neither auto-link coin flips nor demand certainty.
    min_auto_link_probability: float = 0.2
    max_auto_link_probability: float = 0.999
    review_probability: float = 0.05
    # Most pairs the review queue may hold, as a share of the linkable records: the pairs
    # of highest expected gain (linkage.matching.review.size_review_queue).
    review_queue_share: float = 0.02
    # Training runs again with another seed (at most `training_attempts` in all) while the
    # model's own expected F1 is below this (linkage.matching.training: EM now and then
    # settles on a model that links far more pairs than the data hold).
    min_expected_f1: float = 0.85
    training_attempts: int = 3
    # Records sampled to estimate the expected-F1 curve at training time.
    threshold_sample_records: int = 50_000
    # MinHash bands on the full-name filter. Off by default: on hardened filters random
    # names share bands too often (docs/decisions.md, blocking rules).
    lsh_bands: int = 0
    lsh_rows: int = 4
    lsh_seed: int = 20240611
    max_cluster_size: int = 25
    # Two records of one linked component that were not linked directly are kept apart
    # when their own father's name, birth and ID number comparisons weigh at least this
    # many bits against (log2(m/u) as trained; linkage.matching.evidence).
    cannot_link_bits: float = 8.0
    # pahichan-enc-3 name edit tokens: the "one letter apart" name level and the blocking
    # rule on the tokens, each switchable. The level is off: one letter also separates
    # siblings' and namesakes' given names (sita/gita), and it cost cluster F1.
    name_edit_level: bool = False
    name_edit_blocking: bool = True
    # A bridge edge joining two groups of >= 2 records is "weak" unless its weight clears
    # the auto-link threshold by this margin (in bits of match weight).
    bridge_margin: float = 4.0
    # Random pairs for u and blocked pairs per EM session: enough for levels with u ~ 1e-3
    # (about a thousand agreeing random pairs), and what bounds training time at scale.
    u_max_pairs: float = 1e6
    em_max_pairs: float = 5e5
    seed: int = 42

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LinkageSettings:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def lsh_band_columns(settings: LinkageSettings) -> list[str]:
    return [f"lsh_band_{i}" for i in range(settings.lsh_bands)]


# Birth tokens per record as separate columns (`prepare`: birth_near_1 ..): enc-2 has two
# window tokens, enc-1 three years, and validation quarantines rows with other counts
# (rule birth_tokens_as_encoded).
BIRTH_NEAR_SLOTS = 3


def shares_birth_token(left: str, right: str) -> str:
    """Do two records share a birth token? `left`/`right` name a record's slot column with
    `{}` for the slot, e.g. "l.birth_near_{}" or "birth_near_{}_l".

    (pahichan-link-8) The same answer as list_has_any over the token lists, which cost about
    a microsecond per candidate pair: on 300k synthetic records Splink's predict_within took
    36.8-37.1 s with the lists and 33.7-34.3 s with these equalities, the same pairs. A slot
    past a list's end is NULL and equals nothing; plain equalities read the same on Spark.
    """
    slots = range(1, BIRTH_NEAR_SLOTS + 1)
    return (
        "("
        + " OR ".join(f"{left.format(a)} = {right.format(b)}" for a in slots for b in slots)
        + ")"
    )


def blocking_rules(
    settings: LinkageSettings, dialect: Dialect = DUCKDB, *, birth_date_anywhere: bool = False
) -> list[str]:
    """Candidate-pair rules for prediction, each an equi-join on tokens or LSH band keys.

    `birth_date_anywhere` gives the birth date + sex rule of pahichan-link-8 instead of
    its three narrower rules: calibration scores its record sample with it
    (`calibration_blocking_rule_settings`).
    """
    # Each field can be corrupted on its own, so the rules are chosen so that a pair
    # agreeing on any one strong identifier, or on a name key plus a birth token, is caught
    # (blocking recall is reported by `pahichan benchmark linkage`). A name key alone is
    # coarse (few phonetic keys cover most Nepali names), so each name rule also fixes a
    # birth-year neighbourhood or a place. The measurements behind each rule are in
    # docs/decisions.md ("The blocking rules and what they cost").
    # "Near" birth years: a shared keyed window (pahichan-enc-2; enc-1 records: +-2 years).
    near_year = shares_birth_token("l.birth_near_{}", "r.birth_near_{}")
    # The widest rule (both name keys) takes the same birth cell only: the rules that fix a
    # place hold its pairs born further apart, and a wider year made it the largest join.
    near_year_1 = "l.birth_year_token = r.birth_year_token"
    # Sex as a filter where a rule is otherwise loose; null-safe, so records without a sex
    # (all of FEBRL) still pair with each other.
    same_sex = "l.sex_token IS NOT DISTINCT FROM r.sex_token"
    same_birth_date = f"l.birth_date_token = r.birth_date_token AND {same_sex}"
    rules = [
        # Both names in either order (the set key is order-free, so this holds the ordered
        # two-key rule it replaced, and swapped names too: +0.16% of true pairs for +8% of
        # this rule's joined rows at 1M records).
        f"l.name_set_key = r.name_set_key AND {near_year_1}",
        # Same names in either order (the set key is order-free); it contains the ordered
        # full-name-key rule it replaced.
        "l.name_set_key = r.name_set_key AND l.district_token = r.district_token",
        "l.given_name_key = r.given_name_key AND l.birth_year_token = r.birth_year_token"
        " AND l.district_token = r.district_token",
        # Family name changed (marriage) or mistyped beyond its key: the given name key holds.
        # No rule keeps only the family name key: family names are few and shared by whole
        # districts, so such rules formed a quarter of all candidate pairs for little gain.
        # A shared birth window rather than the same cell, so that years one apart on either
        # side of a cell edge still pair.
        # Within a local level rather than a district: the district version was the
        # largest join (86M joined rows at 1M synthetic records for 3,709 pairs no other
        # rule held); the local level keeps 41% of those for 5% of the rows.
        "l.given_name_key = r.given_name_key AND l.local_level_code = r.local_level_code"
        f" AND l.sex_token = r.sex_token AND {near_year}",
        # The given name changed or mistyped beyond its key instead: the family name key
        # holds, in the same narrow place (5M joined rows at 1M).
        "l.family_name_key = r.family_name_key AND l.local_level_code = r.local_level_code"
        f" AND l.sex_token = r.sex_token AND {near_year}",
        # One name key in the same ward, whatever the birth year and ID say: a ward is small
        # enough to look at every namesake. Family names fill whole wards (brothers and
        # sisters too), so that rule also keeps the sex (null-safe).
        f"l.ward_token = r.ward_token AND l.family_name_key = r.family_name_key AND {same_sex}",
        "l.ward_token = r.ward_token AND l.given_name_key = r.given_name_key",
        # A record without a birth year escapes every rule above that fixes one; its given
        # name key and place stand in. One rule per side: the IS NULL filter then applies
        # before the join instead of after a join of every given-key x district pair.
        "l.birth_year_token IS NULL AND l.given_name_key = r.given_name_key"
        f" AND l.district_token = r.district_token AND {same_sex}",
        "r.birth_year_token IS NULL AND l.given_name_key = r.given_name_key"
        f" AND l.district_token = r.district_token AND {same_sex}",
        # The same without a birth year when the given name is mistyped beyond its key:
        # the family name key and place stand in.
        "l.birth_year_token IS NULL AND l.family_name_key = r.family_name_key"
        f" AND l.district_token = r.district_token AND {same_sex}",
        "r.birth_year_token IS NULL AND l.family_name_key = r.family_name_key"
        f" AND l.district_token = r.district_token AND {same_sex}",
        # No birth year and moved (or no place): both names, in either order, stand alone.
        "l.birth_year_token IS NULL AND l.name_set_key = r.name_set_key",
        "r.birth_year_token IS NULL AND l.name_set_key = r.name_set_key",
        # The same birth date (and sex, null-safe) within a district or with one name key:
        # the birth date of an enc-2 record is its day and month in a birth cell, which a
        # million records share tens of times over. Alone (pahichan-link-8) this was the
        # largest join: 60.6M candidate pairs at 1M synthetic records, a quarter of all of
        # them. The three narrower rules keep 4.4M; of the 5,807 true pairs only the date
        # rule held they lose 281, 13 of them at the auto-link weight (measures in
        # docs/decisions.md, "Spec pahichan-link-9").
        *(
            [same_birth_date]
            if birth_date_anywhere
            else [
                f"{same_birth_date} AND l.{column} = r.{column}"
                for column in ("district_token", "given_name_key", "family_name_key")
            ]
        ),
        "l.citizenship_token = r.citizenship_token",
        "l.passport_token = r.passport_token",
        "l.phone_token = r.phone_token",
    ]
    # Optional LSH bands (off by default, see LinkageSettings.lsh_bands); the year
    # neighbourhood filter keeps the band joins from producing many hopeless pairs.
    rules += [f"l.{band} = r.{band} AND {near_year}" for band in lsh_band_columns(settings)]
    return rules


# pahichan-link-5 (issue 18): full names one letter apart in one field share a name edit
# token (`linkage.encoding.keyed.RecordEncoder.name_edit_tokens`; pahichan-enc-4 adds names
# one consonant apart in their skeleton). Splink explodes the token lists and joins on their
# elements; this is the pairs' only rule when a typo changed the given name's phonetic key.
# Identical full names share every token: those pairs are left to the rules above, which
# hold them with a birth or place condition, so the rule does not pair every namesake.
# Like every name rule above it also fixes a place and a birth cell: without that it paired
# different people the other rules leave out on purpose (sita/gita tamang of one district
# are one letter apart). The district and the cell are one join key with the token
# (`edit_place`), not a filter after the join: joined on the name token alone, every common
# full name met itself once per token and the join grew with the square of a name's records
# (47.6M joined rows at 100k synthetic records; a 1M run passed 21 GB, and with district OR
# cell as keys one ran out of a 6 GB limit). A typo in a record of another district or
# birth cell is left to the other rules.
_EDIT_PLACE = "(l.district_token = r.district_token AND l.birth_year_token = r.birth_year_token)"


# (pahichan-link-8) Same names by 64-bit hashes of the two filters (`prepare`), not by the
# 128-byte filters: Splink copies every column a rule reads into each exploded token row
# (tens per record), and the filters made that copy the rule's main cost (300k synthetic
# records: 3.8 s -> 2.2-2.3 s for the exploded rule's table, the same pairs). NULL stays
# NULL, so the three-valued logic is the filters' own; hashes of two different filters
# collide with probability 2**-64, as tokens' do (`prepare._hashed`).
NAME_HASHED = ("given_name", "family_name")
_NOT_SAME_NAMES = (
    "NOT (l.given_name_hash = r.given_name_hash AND l.family_name_hash = r.family_name_hash)"
)


def edit_token_rule(dialect: Dialect = DUCKDB) -> str:
    """The exploded rule (the same SQL in both dialects: equalities of exploded elements)."""
    del dialect
    return (
        "l.name_edit_tokens = r.name_edit_tokens AND l.edit_place = r.edit_place"
        f" AND {_NOT_SAME_NAMES}"
    )


EDIT_TOKEN_RULE = edit_token_rule()
EXPLODED_COLUMNS = ("name_edit_tokens",)


def blocking_conditions(settings: LinkageSettings, dialect: Dialect = DUCKDB) -> list[str]:
    """Every prediction rule as a condition on one pair of prepared records (to measure
    blocking recall); the exploded rule becomes list overlap."""
    if not settings.name_edit_blocking:
        return blocking_rules(settings, dialect)
    return [
        *blocking_rules(settings, dialect),
        f"{dialect.list_has_any('l.name_edit_tokens', 'r.name_edit_tokens')}"
        f" AND {_NOT_SAME_NAMES} AND {_EDIT_PLACE}",
    ]


def blocking_rule_settings(
    settings: LinkageSettings, dialect: Dialect = DUCKDB, *, birth_date_anywhere: bool = False
) -> list[dict[str, Any]]:
    """The prediction rules as Splink blocking-rule dicts; the exploded rule comes last
    (Splink excludes earlier rules' pairs from it, and later rules could not exclude its).

    ID numbers one keystroke apart are compared (`document_comparison`) but not blocked on:
    Splink's exploding rule over the edit-token lists took 38 s of 127 s of scoring at 500k
    synthetic records (it widens every record by its preceding rules' columns, ten times
    over), for about 8 true FEBRL4 pairs (0.0016 recall) held by nothing else. With the
    ward rules it still cost 20 s (109 s -> 128 s of linking at 500k, two runs on a machine
    shared with tests; the same rules without it took 103 s alone) for 2-3 FEBRL4 pairs
    (F1 +0.0003).
    """
    rules = [
        {"blocking_rule": rule, "sql_dialect": dialect.name}
        for rule in blocking_rules(settings, dialect, birth_date_anywhere=birth_date_anywhere)
    ]
    if not settings.name_edit_blocking:
        return rules
    return [
        *rules,
        {
            "blocking_rule": edit_token_rule(dialect),
            "sql_dialect": dialect.name,
            "arrays_to_explode": list(EXPLODED_COLUMNS),
        },
    ]


def calibration_blocking_rule_settings(settings: LinkageSettings) -> list[dict[str, Any]]:
    """The rules calibration scores its record sample with (`linkage.matching.calibration`):
    the prediction rules with the birth date + sex rule anywhere, as in pahichan-link-8.

    Calibration estimates the match rate from the expected matches among the sample's
    candidate pairs and sets the auto-link threshold on them, so the wide rule keeps a
    model's training exactly that of pahichan-link-8. (With the narrow rules the threshold
    of a 300k synthetic store moved by 4e-8; on a sample the wide rule costs little.)
    """
    return blocking_rule_settings(settings, birth_date_anywhere=True)


def deterministic_rules() -> list[str]:
    """Near-certain matches, used only to estimate lambda (prob. two random records match)."""
    return [
        "l.citizenship_token = r.citizenship_token AND l.given_name_key = r.given_name_key",
        "l.given_name_bits = r.given_name_bits AND l.family_name_bits = r.family_name_bits"
        " AND l.birth_date_token = r.birth_date_token",
        "l.passport_token = r.passport_token AND l.family_name_key = r.family_name_key",
    ]


def em_blocking_rules() -> list[str]:
    """Candidate EM sessions; training uses those whose pair counts are workable.

    They are disjoint in the fields they fix: names in the first, birth/place in the others,
    so every comparison gets m estimated in at least one session.
    """
    return [
        "l.given_name_key = r.given_name_key AND l.family_name_key = r.family_name_key",
        "l.birth_date_token = r.birth_date_token",
        "l.birth_year_token = r.birth_year_token AND l.district_token = r.district_token"
        " AND l.sex_token = r.sex_token",
        "l.citizenship_token = r.citizenship_token",
    ]


def _dice(column: str, dialect: Dialect = DUCKDB) -> str:
    return dialect.dice(column)


def _null_level(column: str) -> dict[str, Any]:
    return {
        "sql_condition": f"{column}_l IS NULL OR {column}_r IS NULL",
        "label_for_charts": "null",
        "is_null_level": True,
    }


def _else_level() -> dict[str, Any]:
    return {"sql_condition": "ELSE", "label_for_charts": "else"}


def name_comparison(
    column: str,
    settings: LinkageSettings,
    *,
    swapped_level: bool = False,
    dialect: Dialect = DUCKDB,
) -> dict[str, Any]:
    """null / exact / one letter apart / Dice >= high / same phonetic key / Dice >= low /
    [swap] / else.

    "One letter apart" (pahichan-link-5, issue 18): the two full names share a name edit
    token while this field's filters differ, so this field is one letter apart (a typo) and
    the other field is the same. On hardened filters such a typo scored a Dice like an
    unrelated name's. Records of older batches (no tokens) skip the level.

    The phonetic key level sits above the low Dice level: on hardened filters a shared
    phonetic key (e.g. "laxmi" / "luxmi") is stronger evidence than a middling Dice.
    `swapped_level` adds, before else, "given and family name swapped" (the order-free name
    key agrees while the given name does not) and then "full-name filters similar" (each
    field's filter is keyed separately, so the given filter cannot be compared with the
    family filter directly; on hardened filters a clean swap scores a full-name Dice of only
    ~0.55-0.58, hence the key). Only one comparison carries them, so the evidence counts once.
    """
    swap = (
        [
            {
                "sql_condition": "name_set_key_l = name_set_key_r",
                "label_for_charts": "given and family name swapped",
            },
            {
                "sql_condition": f"{_dice('full_name', dialect)} >= {settings.full_name_dice}",
                "label_for_charts": f"full name dice >= {settings.full_name_dice}",
            },
        ]
        if swapped_level
        else []
    )
    return {
        "output_column_name": column,
        "comparison_description": f"Dice similarity of the {column} Bloom filters",
        "comparison_levels": [
            _null_level(f"{column}_bits"),
            {"sql_condition": f"{column}_bits_l = {column}_bits_r", "label_for_charts": "exact"},
            *(
                [
                    {
                        "sql_condition": dialect.list_has_any(
                            "name_edit_tokens_l", "name_edit_tokens_r"
                        ),
                        "label_for_charts": "one letter apart",
                    }
                ]
                if settings.name_edit_level
                else []
            ),
            {
                "sql_condition": f"{_dice(column, dialect)} >= {settings.dice_high}",
                "label_for_charts": f"dice >= {settings.dice_high}",
            },
            {
                "sql_condition": f"{column}_key_l = {column}_key_r",
                "label_for_charts": "same phonetic key",
            },
            {
                "sql_condition": f"{_dice(column, dialect)} >= {settings.dice_low}",
                "label_for_charts": f"dice >= {settings.dice_low}",
            },
            *swap,
            _else_level(),
        ],
    }


def father_comparison(settings: LinkageSettings, dialect: Dialect = DUCKDB) -> dict[str, Any]:
    column = "father_name"
    return {
        "output_column_name": column,
        "comparison_description": "Dice similarity of the father's name Bloom filters",
        "comparison_levels": [
            _null_level(f"{column}_bits"),
            {"sql_condition": f"{column}_bits_l = {column}_bits_r", "label_for_charts": "exact"},
            {
                "sql_condition": f"{_dice(column, dialect)} >= {settings.father_dice}",
                "label_for_charts": f"dice >= {settings.father_dice}",
            },
            _else_level(),
        ],
    }


def birth_comparison(dialect: Dialect = DUCKDB) -> dict[str, Any]:
    """Birth: same day / same year (cell) / near / else, via the prepared birth columns.

    pahichan-enc-2 records carry keyed windows (`linkage.matching.prepare`): same cell and
    same day-month, same cell, one window shared. enc-1 records keep their exact levels
    (same date, same year, within 2 years). A pair of one of each has no birth evidence
    (null level): their tokens are of different kinds and never equal.
    """
    # enc-2 only: do the birth years the two clear age bands allow at their contact dates
    # overlap (prepare's birth_year_low/high)? Splits the coarse cell and window levels
    # with data the warehouse holds in the clear anyway. Without a band: taken as agreeing.
    # enc-1 pairs always agree (their exact levels are unchanged).
    ages_agree = (
        "(birth_scheme_l = 1 OR coalesce(birth_year_low_l <= birth_year_high_r"
        " AND birth_year_low_r <= birth_year_high_l, TRUE))"
    )
    del dialect  # the same SQL in both dialects since pahichan-link-8
    near = shares_birth_token("birth_near_{}_l", "birth_near_{}_r")
    return {
        "output_column_name": "birth",
        "comparison_description": "Birth date or year, compared through keyed tokens",
        "comparison_levels": [
            {
                "sql_condition": "birth_scheme_l IS NULL OR birth_scheme_r IS NULL"
                " OR birth_scheme_l <> birth_scheme_r",
                "label_for_charts": "null",
                "is_null_level": True,
            },
            {
                "sql_condition": "birth_date_token_l = birth_date_token_r",
                "label_for_charts": "same birth date",
            },
            {
                "sql_condition": f"birth_year_token_l = birth_year_token_r AND {ages_agree}",
                "label_for_charts": "same birth year (enc-2: same window cell, ages agree)",
            },
            {
                "sql_condition": "birth_year_token_l = birth_year_token_r",
                "label_for_charts": "same birth year (enc-2: same window cell, ages disagree)",
            },
            {
                "sql_condition": f"{near} AND {ages_agree}",
                "label_for_charts": "birth year near (enc-1: +-2, enc-2: a shared window)",
            },
            {
                "sql_condition": near,
                "label_for_charts": "birth year near (enc-2: a shared window, ages disagree)",
            },
            _else_level(),
        ],
    }


def exact_comparison(column: str, output: str | None = None) -> dict[str, Any]:
    return {
        "output_column_name": output or column.removesuffix("_token"),
        "comparison_description": f"Exact agreement of {column}",
        "comparison_levels": [
            _null_level(column),
            {"sql_condition": f"{column}_l = {column}_r", "label_for_charts": "exact"},
            _else_level(),
        ],
    }


def document_comparison(field: str, dialect: Dialect = DUCKDB) -> dict[str, Any]:
    """ID number: null / same / one keystroke apart / else.

    "One keystroke apart" = the two numbers share a one-deletion variant token (a wrong,
    missing, extra or swapped digit). Without it a mistyped number fell to "else" with every
    unrelated number, which made "else" weak evidence against (m ~ 0.09 on FEBRL) and left
    true pairs with a swapped digit below the threshold.
    """
    token, variants = f"{field}_token", f"{field}_edit_tokens"
    return {
        "output_column_name": field,
        "comparison_description": f"Exact or one-keystroke agreement of the {field} number",
        "comparison_levels": [
            _null_level(token),
            {"sql_condition": f"{token}_l = {token}_r", "label_for_charts": "exact"},
            {
                "sql_condition": dialect.list_has_any(f"{variants}_l", f"{variants}_r"),
                "label_for_charts": "one keystroke apart",
            },
            _else_level(),
        ],
    }


def place_comparison() -> dict[str, Any]:
    """Place of origin: null / same ward / same local level / same district / else.

    The ward (a keyed token of local level and ward) tells apart namesakes of one
    municipality; batches without wards (older tools, exports without the column) fall
    through to the local level as before.
    """
    return {
        "output_column_name": "place",
        "comparison_description": "Ward, else local level, else district of origin",
        "comparison_levels": [
            _null_level("district_token"),
            {"sql_condition": "ward_token_l = ward_token_r", "label_for_charts": "same ward"},
            {
                "sql_condition": "local_level_code_l = local_level_code_r",
                "label_for_charts": "same local level",
            },
            {
                "sql_condition": "district_token_l = district_token_r",
                "label_for_charts": "same district",
            },
            _else_level(),
        ],
    }


def comparisons(settings: LinkageSettings, dialect: Dialect = DUCKDB) -> list[dict[str, Any]]:
    return [
        name_comparison("given_name", settings, swapped_level=True, dialect=dialect),
        name_comparison("family_name", settings, dialect=dialect),
        father_comparison(settings, dialect),
        birth_comparison(dialect),
        exact_comparison("sex"),
        place_comparison(),
        document_comparison("citizenship", dialect),
        document_comparison("passport", dialect),
        exact_comparison("phone_token"),
    ]


def splink_settings(settings: LinkageSettings, dialect: Dialect = DUCKDB) -> dict[str, Any]:
    """Untrained Splink settings dictionary for the encoded linkage input."""
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "record_token",
        "probability_two_random_records_match": 1e-4,
        "blocking_rules_to_generate_predictions": blocking_rule_settings(settings, dialect),
        "comparisons": comparisons(settings, dialect),
        "retain_intermediate_calculation_columns": False,
        "retain_matching_columns": True,  # needed for gamma_* in output
        "additional_columns_to_retain": [],
    }


# Splink's `<column>_l` / `<column>_r` in a level condition -> `l.<column>` / `r.<column>`.
_SIDE = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*?)_([lr])\b")


def gamma_case(comparison: dict[str, Any]) -> str:
    """SQL CASE giving a comparison's gamma (level), numbered as Splink numbers them (null
    -1, then the last level 0 upwards), for a pair of prepared records joined as l and r."""
    levels = comparison["comparison_levels"]
    non_null = [level for level in levels if not level.get("is_null_level")]
    branches = []
    for level in levels:
        condition = level["sql_condition"]
        null = level.get("is_null_level")
        gamma = -1 if null else len(non_null) - 1 - non_null.index(level)
        if condition.strip().upper() == "ELSE":
            branches.append(f"ELSE {gamma}")
        else:
            sql = _SIDE.sub(r"\2.\1", condition)
            branches.append(f"WHEN {sql} THEN {gamma}")
    if not branches[-1].startswith("ELSE"):
        branches.append("ELSE 0")
    return f"CASE {' '.join(branches)} END"


def gamma_columns(settings_dict: dict[str, Any]) -> list[str]:
    """Names of the gamma (agreement level) columns Splink produces for this model."""
    return [f"gamma_{c['output_column_name']}" for c in settings_dict["comparisons"]]


@dataclass
class TrainedModel:
    """A trained model: Splink settings with parameters, plus Pahichan metadata."""

    splink_model: dict[str, Any]
    model_version: str
    trained_at: str
    key_id: str
    upper_match_weight: float
    lower_match_weight: float
    settings: LinkageSettings = field(default_factory=LinkageSettings)
    encoding_version: str = ENCODING_VERSION
    spec_version: str = SPEC_VERSION
    training_log: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        data = asdict(self)
        data["settings"] = self.settings.to_dict()
        return json.dumps(data, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> TrainedModel:
        data = json.loads(text)
        data["settings"] = LinkageSettings.from_dict(data.get("settings", {}))
        return cls(**data)

    def save(self, directory: Path) -> Path:
        """Write `<model_version>.json` into `directory` and return its path."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{self.model_version}.json"
        path.write_text(self.to_json(), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: Path) -> TrainedModel:
        return cls.from_json(path.read_text(encoding="utf-8"))
