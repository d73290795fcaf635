"""The plaintext Splink baseline of `pahichan benchmark linkage`: what linkage does in clear.

A docs-style Splink setup on the *clear* fields: Jaro-Winkler names, birth date / year,
sex, place, ID numbers, and on FEBRL also the address fields (street number, address,
suburb, postcode, state) that the encoded arm cannot carry. To measure what encoding costs
rather than how well each side cleans data, the clear values go through the same
canonicalisation as the encoder (names folded and transliterated, districts resolved,
phone and document numbers normalised, birth year from the date or from age at contact).

Same link type as the encoded arm (dedupe over all records: the engine has no link-only
mode, and FEBRL4's two files are simply two agencies), same kind of threshold rule (the
model's own expected F1, `linkage.matching.threshold`, never the labels). Grain of the
frame: one row per clear record, keyed `unique_id` = "<agency>|<record_id>".
"""

from __future__ import annotations

import tempfile
import time
from typing import TYPE_CHECKING

import duckdb
import pandas as pd

from linkage.matching.threshold import expected_f1_threshold

if TYPE_CHECKING:
    from benchmarks.linkage.bench_data import Dataset

_SCORING_FLOOR_PROBABILITY = 1e-4
_ADDRESS_COLUMNS = ("street_number", "address_1", "address_2", "suburb", "postcode", "state")


def _clean(frame: pd.DataFrame) -> pd.DataFrame:
    """Canonical clear values of one extract (the encoder's rules, without the encoding)."""
    from linkage.encoding.identifiers import (
        normalise_document_number,
        normalise_phone,
        parse_ad_date,
    )
    from linkage.encoding.names import canonical_name
    from schemas.geography import resolve_district
    from schemas.vocabularies import resolve_sex

    def column(name: str) -> pd.Series:
        if name not in frame:
            return pd.Series([""] * len(frame), index=frame.index)
        return frame[name].fillna("").astype(str).str.strip()

    def birth(text: str) -> tuple[str | None, int | None]:
        if not text:
            return None, None
        try:
            date, precision = parse_ad_date(text)
        except ValueError:
            return None, None
        return (date.isoformat() if precision == "day" else None), date.year

    births = [birth(text) for text in column("date_of_birth")]
    contact_years = pd.to_datetime(column("contact_date"), errors="coerce").dt.year
    ages = pd.to_numeric(column("age"), errors="coerce")
    years = pd.Series([year for _, year in births], index=frame.index, dtype="Float64")
    years = years.fillna(contact_years - ages)
    out = pd.DataFrame(
        {
            "given_name": column("given_name").map(canonical_name),
            "family_name": column("family_name").map(canonical_name),
            "father_name": column("father_name").map(canonical_name),
            "date_of_birth": [date for date, _ in births],
            "birth_year": years.astype("Int64"),
            "sex": column("sex").map(lambda v: resolve_sex(v) if v else None),
            "district": column("district").map(lambda v: resolve_district(v) if v else None),
            "citizenship_no": column("citizenship_no").map(normalise_document_number),
            "passport_no": column("passport_no").map(normalise_document_number),
            "phone": column("phone").map(normalise_phone),
        },
        index=frame.index,
    )
    for name in _ADDRESS_COLUMNS:
        if f"plain_{name}" in frame:
            out[name] = column(f"plain_{name}")
    return out.replace("", None)


def plain_frame(dataset: Dataset) -> pd.DataFrame:
    """All records in clear, canonicalised, with `unique_id` and the evaluation-only `person`."""
    parts = []
    for agency, _, frame in dataset.frames:
        part = _clean(frame.reset_index(drop=True))
        part["unique_id"] = [f"{agency}|{r}" for r in frame["record_id"]]
        part["person"] = [dataset.truth[(agency, r)] for r in frame["record_id"]]
        parts.append(part)
    frame = pd.concat(parts, ignore_index=True)
    if "postcode" in frame:
        # FEBRL: the clear arm compares the real postcode, not the encoded arm's stand-in.
        frame = frame.drop(columns=["district"])
    # Drop columns that are empty everywhere (no passports in FEBRL, no address in synthetic).
    return frame.loc[:, frame.notna().any() | frame.columns.isin(["unique_id", "person"])]


def _birth_comparison():  # type: ignore[no-untyped-def]
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    return cl.CustomComparison(
        output_column_name="birth",
        comparison_levels=[
            cll.NullLevel("birth_year"),
            cll.ExactMatchLevel("date_of_birth"),
            cll.ExactMatchLevel("birth_year"),
            cll.CustomLevel("abs(birth_year_l - birth_year_r) <= 1", "birth year +-1"),
            cll.CustomLevel("abs(birth_year_l - birth_year_r) <= 2", "birth year +-2"),
            cll.ElseLevel(),
        ],
    )


def splink_settings(columns: set[str]):  # type: ignore[no-untyped-def]
    """Docs-style settings for the clear columns present."""
    import splink.comparison_library as cl
    from splink import SettingsCreator

    comparisons = [
        cl.JaroWinklerAtThresholds(name, [0.92, 0.8])
        for name in ("given_name", "family_name", "father_name")
        if name in columns
    ]
    comparisons.append(_birth_comparison())
    comparisons += [
        cl.ExactMatch(name)
        for name in ("sex", "district", "citizenship_no", "passport_no", "phone", "state")
        if name in columns
    ]
    comparisons += [
        cl.JaroWinklerAtThresholds(name, [0.92, 0.8])
        for name in ("address_1", "suburb")
        if name in columns
    ]
    comparisons += [
        cl.LevenshteinAtThresholds(name, [1])
        for name in ("street_number", "postcode")
        if name in columns
    ]
    # The encoded arm's rules (linkage.matching.spec.blocking_rules) on clear values:
    # exact names where the encoded arm uses phonetic keys, the real postcode as the place
    # on FEBRL.
    place = "district" if "district" in columns else "postcode" if "postcode" in columns else None
    near_year = "abs(l.birth_year - r.birth_year) <= 2"
    sql = [
        f"l.given_name = r.given_name AND l.family_name = r.family_name AND {near_year}",
        "l.date_of_birth = r.date_of_birth",
        *(f"l.{c} = r.{c}" for c in ("citizenship_no", "passport_no", "phone") if c in columns),
    ]
    if place:
        sql += [
            f"l.given_name = r.given_name AND l.family_name = r.family_name"
            f" AND l.{place} = r.{place}",
            f"l.given_name = r.given_name AND l.birth_year = r.birth_year"
            f" AND l.{place} = r.{place}",
            f"l.family_name = r.family_name AND l.birth_year = r.birth_year"
            f" AND l.{place} = r.{place}",
        ]
    if place and "sex" in columns:
        sql += [
            f"l.{name} = r.{name} AND l.{place} = r.{place} AND l.sex = r.sex AND {near_year}"
            for name in ("given_name", "family_name")
        ]
    rules = [{"blocking_rule": rule, "sql_dialect": "duckdb"} for rule in sql]
    return SettingsCreator(
        link_type="dedupe_only",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=rules,
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


def run_splink_plaintext(dataset: Dataset, memory_limit: str | None = None) -> dict[str, object]:
    """Train (lambda, u, EM on two rules) and predict in clear; score at the model's threshold.

    `memory_limit` caps DuckDB as for the encoded arm (beyond it DuckDB spills to disk).
    """
    from splink import DuckDBAPI, Linker, block_on

    from benchmarks.linkage.benchmark import PeakMemory, _true_pairs, scores

    frame = plain_frame(dataset)
    truth = _true_pairs(frame.groupby("person")["unique_id"].apply(list).to_dict())
    frame = frame.drop(columns=["person"])
    columns = set(frame.columns)
    with PeakMemory() as memory:
        started = time.perf_counter()
        spill = tempfile.TemporaryDirectory(prefix="pahichan-bench-spill-")
        # Insertion order dropped as the encoded arm's scoring does (DuckDB's advice for
        # large joins), so the two arms run under the same DuckDB settings.
        config = {
            "threads": 2,
            "temp_directory": spill.name,
            "preserve_insertion_order": False,
            **({"memory_limit": memory_limit} if memory_limit else {}),
        }
        con = duckdb.connect(config=config)
        linker = Linker(DuckDBAPI(con).register(frame), splink_settings(columns), log_level=None)
        deterministic = [block_on("given_name", "family_name", "date_of_birth")]
        if "citizenship_no" in columns:
            deterministic.append(block_on("citizenship_no", "given_name"))
        linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.7)
        linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=42)
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on("given_name", "family_name"), estimate_without_term_frequencies=True
        )
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on("date_of_birth"), estimate_without_term_frequencies=True
        )
        predictions = linker.inference.predict(
            threshold_match_probability=_SCORING_FLOOR_PROBABILITY
        )
        # Only the probabilities, then only the linked pairs, leave DuckDB: a whole
        # predictions frame (every comparison column) does not fit in memory at 1M records.
        table = predictions.physical_name
        probabilities = con.execute(f"SELECT match_probability FROM {table}").fetchnumpy()  # noqa: S608
        choice = expected_f1_threshold(probabilities["match_probability"])
        linked = con.execute(
            f"SELECT unique_id_l, unique_id_r FROM {table} WHERE match_probability >= ?",  # noqa: S608
            [choice.probability],
        ).fetchall()
        seconds = time.perf_counter() - started
    con.close()
    spill.cleanup()
    predicted = {tuple(sorted(p)) for p in linked}
    return {
        **scores(predicted, truth),
        "seconds": round(seconds, 2),
        "peak_rss_mb": memory.peak_mb,
        "start_rss_mb": memory.start_mb,
        "threshold_probability": round(choice.probability, 4),
        "fields": sorted(columns - {"unique_id"}),
    }
