"""A small synthetic `public.duckdb` in the layout of docs/interfaces.md section 4.

Values are random but seeded; a few headline cells are pinned (`PINNED`) so tests can name
them. Every count follows the publication rule: NULL with `is_suppressed` when hidden (small
cells and some larger ones hidden so they cannot be worked out; the file does not say which,
issue 14), otherwise 0 or >= the threshold.
Grain of each table is the one in the interface document.
"""

from __future__ import annotations

import datetime as dt
import random
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.defs.marts.build import (
    BREAKDOWN_PERIOD_TYPES,
    PERIOD_TYPES_BY_LEVEL,
    survivor_cell_published,
)
from pipelines.defs.publish.build import published_grid
from schemas.calendar import (
    bs_fiscal_year,
    bs_fiscal_year_start,
    bs_month_label,
    bs_month_start,
)
from schemas.geography import load_geography
from schemas.vocabularies import SERVICES as VOCABULARY_SERVICES

THRESHOLD = 5
# (period_type, period, period_start)
PERIODS = [
    ("month", "2024-11", dt.date(2024, 11, 1)),
    ("month", "2024-12", dt.date(2024, 12, 1)),
    ("quarter", "2024-Q3", dt.date(2024, 7, 1)),
    ("quarter", "2024-Q4", dt.date(2024, 10, 1)),
    ("year", "2023", dt.date(2023, 1, 1)),
    ("year", "2024", dt.date(2024, 1, 1)),
    ("bs_month", "2081-08", dt.date(2024, 11, 16)),
    ("bs_month", "2081-09", dt.date(2024, 12, 16)),
    ("bs_fiscal_year", "2080/81", dt.date(2023, 7, 17)),
    ("bs_fiscal_year", "2081/82", dt.date(2024, 7, 16)),
]
CATEGORIES = {
    "all": ["all"],
    "sex": ["F", "M", "O"],
    "age_band": ["0-11", "12-17", "18-24", "25-34", "35-49", "50+"],
    "exploitation_type": ["sexual_exploitation", "forced_labour", "forced_marriage", "other"],
    "destination_country": ["NP", "IN", "MY", "AE", "KW"],
    "agency_type": ["shelter", "ocmc", "migration"],
}
MEASURES = ["survivors", "new_survivors", "returning_survivors", "records"]
# The service codes of schemas.vocabularies.SERVICES, by tier, as the pipeline publishes them.
SERVICES = {
    tier: [code for code, service in VOCABULARY_SERVICES.items() if service.tier == tier]
    for tier in ("immediate", "short_term", "long_term")
}
AGENCY_TYPES = ["shelter", "ocmc", "migration", "police", "other"]
SOURCE_TYPES = ["shelter", "ocmc", "migration"]
QUALITY_METRICS = [
    "batches_received",
    "batches_accepted",
    "batches_rejected",
    "rows_received",
    "rows_loaded",
    "rows_quarantined",
    "auto_links",
    "review_pairs",
]
# Districts whose local levels are published (a few, to keep the file small).
LOCAL_LEVEL_DISTRICTS = ("301", "303")

# Pinned cells: (table key) -> value; None means hidden.
PINNED: dict[tuple[str, str, str, str, str, str, str], int | None] = {
    # national, year 2024, all survivors
    ("year", "2024", "national", "NP", "all", "all", "survivors"): 1234,
    ("year", "2024", "national", "NP", "all", "all", "new_survivors"): 456,
    ("year", "2024", "national", "NP", "all", "all", "returning_survivors"): 78,
    ("year", "2024", "national", "NP", "all", "all", "records"): 1605,
    ("year", "2024", "national", "NP", "sex", "F", "survivors"): 987,
    ("year", "2024", "national", "NP", "sex", "M", "survivors"): 240,
    ("year", "2024", "national", "NP", "sex", "O", "survivors"): None,
    ("year", "2024", "national", "NP", "age_band", "50+", "survivors"): 0,
    # Karnali (6), year 2024: returning suppressed -> no share may be shown
    ("year", "2024", "province", "6", "all", "all", "survivors"): 37,
    ("year", "2024", "province", "6", "all", "all", "returning_survivors"): None,
    ("year", "2024", "province", "6", "all", "all", "records"): 52,
    ("year", "2024", "province", "6", "all", "all", "new_survivors"): 0,
}


def _value(rng: random.Random, big: bool) -> tuple[int | None, bool]:
    roll = rng.random()
    if roll < 0.2:
        return 0, False
    if roll < 0.45 and not big:
        return None, True  # a small cell
    if roll < 0.5:
        return None, True  # a larger cell hidden so it cannot be worked out
    return rng.randint(THRESHOLD, 900 if big else 60), False


def _places() -> list[tuple[str, str]]:
    geography = load_geography()
    places = [("national", "NP")]
    places += [("province", p.code) for p in geography.provinces]
    places += [("district", d.code) for d in geography.districts]
    places += [
        ("local_level", unit.code)
        for unit in geography.local_levels
        if unit.district_code in LOCAL_LEVEL_DISTRICTS
    ]
    return places


def survivor_rows(seed: int) -> pd.DataFrame:
    """One row per period x place x (dimension, category) x measure."""
    rng = random.Random(seed)
    rows = []
    for period_type, period, start in PERIODS:
        for geo_level, geo_code in _places():
            for dimension, categories in CATEGORIES.items():
                if not survivor_cell_published(geo_level, period_type, dimension):
                    continue  # outside the published grid: no rows, as in the pipeline
                for category in categories:
                    for measure in MEASURES:
                        key = (
                            period_type,
                            period,
                            geo_level,
                            geo_code,
                            dimension,
                            category,
                            measure,
                        )
                        if key in PINNED:
                            value = PINNED[key]
                            cell = (value, value is None)
                        else:
                            cell = _value(rng, geo_level in ("national", "province"))
                        rows.append(
                            (
                                period_type,
                                period,
                                start,
                                geo_level,
                                geo_code,
                                dimension,
                                category,
                                measure,
                                *cell,
                            )
                        )
    return pd.DataFrame(
        rows,
        columns=[
            "period_type",
            "period",
            "period_start",
            "geo_level",
            "geo_code",
            "dimension",
            "category",
            "measure",
            "value",
            "is_suppressed",
        ],
    )


def service_rows(seed: int) -> pd.DataFrame:
    """One row per period x place (national/province/district) x service x measure."""
    rng = random.Random(seed + 1)
    rows = []
    places = [p for p in _places() if p[0] != "local_level"]
    for period_type, period, start in PERIODS:
        for geo_level, geo_code in places:
            if period_type not in PERIOD_TYPES_BY_LEVEL[geo_level]:
                continue
            for tier, codes in SERVICES.items():
                for code in codes:
                    for measure in ("survivors_served", "services_given"):
                        cell = _value(rng, geo_level != "district")
                        rows.append(
                            (
                                period_type,
                                period,
                                start,
                                geo_level,
                                geo_code,
                                code,
                                tier,
                                measure,
                                *cell,
                            )
                        )
    return pd.DataFrame(
        rows,
        columns=[
            "period_type",
            "period",
            "period_start",
            "geo_level",
            "geo_code",
            "service_code",
            "service_tier",
            "measure",
            "value",
            "is_suppressed",
        ],
    )


def referral_rows(seed: int) -> pd.DataFrame:
    """One row per period x place (national/province) x from x to agency type x measure."""
    rng = random.Random(seed + 2)
    rows = []
    places = [p for p in _places() if p[0] in ("national", "province")]
    for period_type, period, start in PERIODS:
        for geo_level, geo_code in places:
            for source in AGENCY_TYPES:
                for target in AGENCY_TYPES:
                    if source == target:
                        continue
                    for measure in ("referrals", "referrals_confirmed"):
                        key = (source, target, measure)
                        if (period_type, period, geo_level) == ("year", "2024", "national") and (
                            key in REFERRAL_PINNED
                        ):
                            value = REFERRAL_PINNED[key]
                            cell = (value, value is None)
                        else:
                            cell = _value(rng, geo_level == "national")
                        rows.append(
                            (
                                period_type,
                                period,
                                start,
                                geo_level,
                                geo_code,
                                source,
                                target,
                                measure,
                                *cell,
                            )
                        )
    return pd.DataFrame(
        rows,
        columns=[
            "period_type",
            "period",
            "period_start",
            "geo_level",
            "geo_code",
            "from_agency_type",
            "to_agency_type",
            "measure",
            "value",
            "is_suppressed",
        ],
    )


# Reintegration (issue 8), pinned: national, year 2024, all survivors, composite score.
REINTEGRATION_PINNED: dict[tuple[str, str], int | None] = {
    ("composite", "survivors_scored"): 310,
    ("composite", "score_band_0_25"): 40,
    ("composite", "score_band_25_50"): 90,
    ("composite", "score_band_50_75"): 120,
    ("composite", "score_band_75_100"): None,  # hidden
    ("composite", "mean_score_pct"): 58,
}
COVERAGE_PINNED = {
    "survivors_first_contact": 456,
    "followed_within_6m": 210,
    "followed_within_12m": 301,
}  # national, year 2024 cohort
# National, year 2024: (from, to, measure) -> value (None: suppressed)
REFERRAL_PINNED: dict[tuple[str, str, str], int | None] = {
    ("shelter", "ocmc", "referrals"): 120,
    ("shelter", "ocmc", "referrals_confirmed"): 96,
    ("shelter", "migration", "referrals"): 40,
    ("shelter", "migration", "referrals_confirmed"): None,
}
SCORE_DIMENSIONS = ["composite", "economic", "social", "psychosocial"]
REINTEGRATION_COUNTS = [
    "survivors_scored",
    "score_band_0_25",
    "score_band_25_50",
    "score_band_50_75",
    "score_band_75_100",
]
REINTEGRATION_CATEGORIES = {
    "all": ["all"],
    "sex": CATEGORIES["sex"],
    "age_band": CATEGORIES["age_band"],
    "services_received": ["immediate", "short_term", "long_term"],
}
# Reintegration is published down to districts; the fixture keeps a few to stay small.
REINTEGRATION_DISTRICTS = ("301", "303")


def reintegration_rows(seed: int) -> pd.DataFrame:
    """One row per period x place x (dimension, category) x score_dimension x measure."""
    rng = random.Random(seed + 4)
    places = [
        p
        for p in _places()
        if p[0] in ("national", "province")
        or (p[0] == "district" and p[1] in REINTEGRATION_DISTRICTS)
    ]
    rows = []
    for period_type, period, start in PERIODS:
        if period_type not in BREAKDOWN_PERIOD_TYPES:
            continue  # reintegration is published by year and fiscal year only
        for geo_level, geo_code in places:
            for dimension, categories in REINTEGRATION_CATEGORIES.items():
                if geo_level == "district" and dimension != "all":
                    continue
                for category in categories:
                    for score in SCORE_DIMENSIONS:
                        pinned = (period_type, period, geo_level, dimension) == (
                            "year",
                            "2024",
                            "national",
                            "all",
                        )
                        scored = None
                        for measure in REINTEGRATION_COUNTS:
                            if pinned and (score, measure) in REINTEGRATION_PINNED:
                                value = REINTEGRATION_PINNED[score, measure]
                                cell = (value, value is None)
                            else:
                                cell = _value(rng, geo_level != "district")
                            if measure == "survivors_scored":
                                scored = cell
                            rows.append(
                                (
                                    period_type,
                                    period,
                                    start,
                                    geo_level,
                                    geo_code,
                                    dimension,
                                    category,
                                    score,
                                    measure,
                                    *cell,
                                )
                            )
                        # The mean is published only with a published count >= threshold.
                        if pinned and (score, "mean_score_pct") in REINTEGRATION_PINNED:
                            mean = REINTEGRATION_PINNED[score, "mean_score_pct"]
                        elif scored and not scored[1] and scored[0] >= THRESHOLD:
                            mean = rng.randint(20, 90)
                        else:
                            mean = None
                        rows.append(
                            (
                                period_type,
                                period,
                                start,
                                geo_level,
                                geo_code,
                                dimension,
                                category,
                                score,
                                "mean_score_pct",
                                mean,
                                mean is None,
                            )
                        )
    return pd.DataFrame(
        rows,
        columns=[
            "period_type",
            "period",
            "period_start",
            "geo_level",
            "geo_code",
            "dimension",
            "category",
            "score_dimension",
            "measure",
            "value",
            "is_suppressed",
        ],
    )


def coverage_rows(seed: int) -> pd.DataFrame:
    """One row per cohort period x place (national/province) x measure."""
    rng = random.Random(seed + 5)
    rows = []
    places = [p for p in _places() if p[0] in ("national", "province")]
    for period_type, period, start in PERIODS:
        for geo_level, geo_code in places:
            for measure in ("survivors_first_contact", "followed_within_6m", "followed_within_12m"):
                if (period_type, period, geo_level) == ("year", "2024", "national"):
                    value = COVERAGE_PINNED[measure]
                    cell = (value, False)
                else:
                    cell = _value(rng, geo_level == "national")
                rows.append((period_type, period, start, geo_level, geo_code, measure, *cell))
    return pd.DataFrame(
        rows,
        columns=[
            "period_type",
            "period",
            "period_start",
            "geo_level",
            "geo_code",
            "measure",
            "value",
            "is_suppressed",
        ],
    )


def quality_rows(seed: int) -> pd.DataFrame:
    """One row per month x source_type x metric."""
    rng = random.Random(seed + 3)
    rows = []
    for period_type, period, start in PERIODS:
        if period_type != "month":
            continue
        for source in SOURCE_TYPES:
            for metric in QUALITY_METRICS:
                rows.append((period_type, period, start, source, metric, *_value(rng, True)))
    return pd.DataFrame(
        rows,
        columns=[
            "period_type",
            "period",
            "period_start",
            "source_type",
            "metric",
            "value",
            "is_suppressed",
        ],
    )


def quarantine_rows() -> pd.DataFrame:
    """One row per source_type x rule (cumulative)."""
    rows = [
        ("shelter", "contact_date_in_future", 12, False),
        ("shelter", "unknown_district", None, True),
        ("ocmc", "missing_name", 0, False),
        ("migration", "duplicate_record_id", 31, False),
    ]
    return pd.DataFrame(rows, columns=["source_type", "rule", "value", "is_suppressed"])


def geography_rows() -> pd.DataFrame:
    """One row per place, population NULL as the pipeline publishes it today
    (`pipelines/defs/core/build.py`): the dashboard takes sourced census figures from
    `schemas/reference/population_2021.csv` instead."""
    geography = load_geography()
    rows = [("national", "NP", None, "Nepal", "नेपाल", None)]
    for p in geography.provinces:
        rows.append(("province", p.code, "NP", p.name_en, p.name_ne, None))
    for d in geography.districts:
        rows.append(("district", d.code, d.province_code, d.name_en, d.name_ne, None))
    for unit in geography.local_levels:
        rows.append(
            ("local_level", unit.code, unit.district_code, unit.name_en, unit.name_ne, None)
        )
    frame = pd.DataFrame(
        rows, columns=["geo_level", "geo_code", "parent_code", "name_en", "name_ne", "population"]
    )
    frame["population"] = frame["population"].astype("Int64")
    return frame


def periods_for_years(last_year: int, years: int) -> list[tuple[str, str, dt.date]]:
    """Every published period of `years` AD years ending with `last_year`: months, quarters,
    years, Bikram Sambat months and fiscal years (the benchmark's many-year publication)."""
    periods: list[tuple[str, str, dt.date]] = []
    first = last_year - years + 1
    for year in range(first, last_year + 1):
        periods.append(("year", str(year), dt.date(year, 1, 1)))
        for quarter in range(1, 5):
            periods.append(("quarter", f"{year}-Q{quarter}", dt.date(year, quarter * 3 - 2, 1)))
        for month in range(1, 13):
            periods.append(("month", f"{year}-{month:02d}", dt.date(year, month, 1)))
            bs = bs_month_label(dt.date(year, month, 1))
            periods.append(("bs_month", bs, bs_month_start(bs)))
        fiscal = bs_fiscal_year(dt.date(year, 1, 1))
        periods.append(("bs_fiscal_year", fiscal, bs_fiscal_year_start(fiscal)))
    # One AD month start per BS month (the calendars' months are offset by about half a month).
    return list(dict.fromkeys(periods))


@contextmanager
def shape(periods: list[tuple[str, str, dt.date]], local_level_districts: tuple[str, ...]):
    """Write files of another shape (more periods, more places) with the same builders:
    swaps this module's PERIODS and LOCAL_LEVEL_DISTRICTS for the duration, then restores."""
    global PERIODS, LOCAL_LEVEL_DISTRICTS  # the builders read these
    saved = PERIODS, LOCAL_LEVEL_DISTRICTS
    PERIODS, LOCAL_LEVEL_DISTRICTS = periods, local_level_districts
    try:
        yield
    finally:
        PERIODS, LOCAL_LEVEL_DISTRICTS = saved


def write_public_db(
    path: Path, seed: int = 11, data_through: dt.date = dt.date(2024, 12, 31)
) -> Path:
    """Write the fixture file (the pipeline's atomic publish is not modelled)."""
    con = duckdb.connect(str(path))
    try:
        frames = {
            "survivor_statistics": survivor_rows(seed),
            "service_statistics": service_rows(seed),
            "referral_statistics": referral_rows(seed),
            "quality_statistics": quality_rows(seed),
            "reintegration_statistics": reintegration_rows(seed),
            "followup_coverage": coverage_rows(seed),
            "quarantine_reasons": quarantine_rows(),
            "geography": geography_rows(),
        }
        frames["published_grid"] = published_grid(frames)
        for name, frame in frames.items():
            con.register("frame", frame)
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM frame")  # noqa: S608 - fixed names
            con.unregister("frame")
        for table in (
            "survivor_statistics",
            "service_statistics",
            "referral_statistics",
            "quality_statistics",
            "reintegration_statistics",
            "followup_coverage",
        ):
            con.execute(f"ALTER TABLE {table} ALTER value TYPE INTEGER")
        con.execute("ALTER TABLE quarantine_reasons ALTER value TYPE INTEGER")
        con.execute(
            "CREATE TABLE publication AS SELECT TIMESTAMP '2025-01-05 06:30:00' AS published_at, "
            "'run-fixture' AS run_id, ? AS threshold, ?::DATE AS data_through, "
            "'1' AS contract_version, 'model-fixture' AS model_version",
            [THRESHOLD, data_through],
        )
    finally:
        con.close()
    return path
