"""Rebuild the `marts` schema (unsuppressed aggregates) from `core`, atomically.

All aggregation is SQL in DuckDB with GROUPING SETS over the geography levels; one
breakdown dimension at a time (a cross join with the dimension list, then a CASE picks the
category). See `schemas/warehouse/marts.sql` for grains and `pipelines.disclosure.relations`
for why each count is defined so that its tables add up.
"""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb

from pipelines.catalog import table_exists
from pipelines.defs.marts.reintegration import STATEMENTS as REINTEGRATION_STATEMENTS

logger = logging.getLogger(__name__)

MARTS_DDL = Path(__file__).resolve().parents[3] / "schemas" / "warehouse" / "marts.sql"
MART_TABLES = (
    "survivor_statistics",
    "service_statistics",
    "referral_statistics",
    "quality_statistics",
    "quarantine_reasons",
    "reintegration_statistics",
    "followup_coverage",
    "geography",
)

_PERIOD_DAYS = """
CREATE OR REPLACE TEMP VIEW period_days AS
SELECT calendar_date, 'month' AS period_type, month AS period, month_start AS period_start
FROM core.calendar
UNION ALL SELECT calendar_date, 'quarter', quarter, quarter_start FROM core.calendar
UNION ALL SELECT calendar_date, 'year', year, year_start FROM core.calendar
UNION ALL SELECT calendar_date, 'bs_month', bs_month, bs_month_start FROM core.calendar
UNION ALL SELECT calendar_date, 'bs_fiscal_year', bs_fiscal_year, bs_fiscal_year_start
FROM core.calendar
"""

# Episodes in each period, with the survivor's place of origin and sex.
_EPISODE_PERIODS = """
CREATE OR REPLACE TEMP VIEW episode_periods AS
SELECT e.episode_id, e.survivor_id, e.contact_date, e.agency_type, e.age_band,
    e.exploitation_type, e.destination_country, e.is_first_episode, e.is_returning,
    s.sex AS survivor_sex, s.province_code AS origin_province,
    s.district_code AS origin_district, s.local_level_code AS origin_local_level,
    p.period_type, p.period, p.period_start
FROM core.episodes AS e
JOIN core.survivors AS s USING (survivor_id)
JOIN period_days AS p ON p.calendar_date = e.contact_date
"""

# One row per counted unit: an episode (records), a survivor's first-ever episode (new), a
# survivor's first episode in the period (survivors) or first returning one (returning).
_UNITS = """
CREATE OR REPLACE TEMP TABLE counted_units AS
SELECT 'records' AS measure, * FROM episode_periods
UNION ALL
SELECT 'new_survivors', * FROM episode_periods WHERE is_first_episode
UNION ALL
SELECT 'survivors', * FROM episode_periods
QUALIFY row_number() OVER (
    PARTITION BY period_type, period, survivor_id ORDER BY contact_date, episode_id) = 1
UNION ALL
SELECT 'returning_survivors', * FROM episode_periods WHERE is_returning
QUALIFY row_number() OVER (
    PARTITION BY period_type, period, survivor_id ORDER BY contact_date, episode_id) = 1
"""

_GEO_LEVEL = """
    CASE grouping(origin_province, origin_district, origin_local_level)
        WHEN 7 THEN 'national' WHEN 3 THEN 'province' WHEN 1 THEN 'district'
        ELSE 'local_level' END
"""
_GEO_CODE = """
    CASE grouping(origin_province, origin_district, origin_local_level)
        WHEN 7 THEN 'NP' WHEN 3 THEN origin_province WHEN 1 THEN origin_district
        ELSE origin_local_level END
"""
# Unknown places are grouped under NULL: kept in the totals above them, not published.
_KNOWN_PLACE = """
    (grouping(origin_province) = 1 OR origin_province IS NOT NULL)
    AND (grouping(origin_district) = 1 OR origin_district IS NOT NULL)
    AND (grouping(origin_local_level) = 1 OR origin_local_level IS NOT NULL)
"""

# The published grid (docs/interfaces.md section 4). Finer places get coarser periods:
# monthly counts per district, or anything below a year per local level, would be nearly
# all suppressed, and those suppressions link into the huge groups that make disclosure
# control slow while telling nobody anything.
PERIOD_TYPES_BY_LEVEL = {
    "national": ("month", "quarter", "year", "bs_month", "bs_fiscal_year"),
    "province": ("month", "quarter", "year", "bs_month", "bs_fiscal_year"),
    "district": ("year", "bs_fiscal_year"),
    "local_level": ("year", "bs_fiscal_year"),
}
# Breakdowns by group (sex, age band, ...) are published for the nation and the provinces by
# year and fiscal year; months and quarters carry the totals (dimension `all`) only. A
# breakdown per month and province is nearly all small cells, and its suppressions link
# across time, place and dimension into the large groups that made disclosure control slow.
BREAKDOWN_PERIOD_TYPES = ("year", "bs_fiscal_year")
# Services, referrals, reintegration and follow-up coverage are published for the nation and
# the provinces by year and fiscal year only: below that nearly every cell is 1-4 people,
# hidden anyway, and each hidden cell links the disclosure problem across tables and time
# (measured on 150 synthetic people: 95% of the monthly and district cells were hidden).
_BREAKDOWN_PERIODS = "('year', 'bs_fiscal_year')"
# Districts and local levels: dimension `all` only.
LOCAL_LEVEL_DIMENSIONS = ("all",)


def survivor_cell_published(geo_level: str, period_type: str, dimension: str) -> bool:
    """Whether survivor_statistics publishes this combination (the grid `_GRID` builds)."""
    if period_type not in PERIOD_TYPES_BY_LEVEL[geo_level]:
        return False
    if geo_level in ("district", "local_level"):
        return dimension in LOCAL_LEVEL_DIMENSIONS
    return dimension == "all" or period_type in BREAKDOWN_PERIOD_TYPES


_GRID = """
    CASE grouping(origin_province, origin_district, origin_local_level)
        WHEN 1 THEN period_type IN ('year', 'bs_fiscal_year') AND dimension = 'all'
        WHEN 0 THEN period_type IN ('year', 'bs_fiscal_year') AND dimension = 'all'
        ELSE dimension = 'all' OR period_type IN ('year', 'bs_fiscal_year') END
"""
_DISTRICT_GRID = """
    (grouping(origin_district) = 1 OR period_type IN ('year', 'bs_fiscal_year'))
"""

_SURVIVOR_STATISTICS = f"""
INSERT INTO marts.survivor_statistics
SELECT period_type, period, period_start, {_GEO_LEVEL}, {_GEO_CODE},
    dimension, category, measure, count(*)
FROM (
    SELECT u.*, d.dimension,
        CASE d.dimension
            WHEN 'all' THEN 'all'
            WHEN 'sex' THEN coalesce(u.survivor_sex, 'unknown')
            WHEN 'age_band' THEN coalesce(u.age_band, 'unknown')
            WHEN 'exploitation_type' THEN coalesce(u.exploitation_type, 'unknown')
            WHEN 'destination_country' THEN coalesce(u.destination_country, 'unknown')
            WHEN 'agency_type' THEN coalesce(u.agency_type, 'unknown')
        END AS category
    FROM counted_units AS u
    CROSS JOIN (VALUES ('all'), ('sex'), ('age_band'), ('exploitation_type'),
                       ('destination_country'), ('agency_type')) AS d(dimension)
)
GROUP BY GROUPING SETS (
    (period_type, period, period_start, dimension, category, measure),
    (period_type, period, period_start, dimension, category, measure, origin_province),
    (period_type, period, period_start, dimension, category, measure, origin_province,
     origin_district),
    (period_type, period, period_start, dimension, category, measure, origin_province,
     origin_district, origin_local_level)
)
HAVING {_KNOWN_PLACE} AND {_GRID}
"""  # noqa: S608 - interpolates only SQL constants of this module

_SERVICE_STATISTICS = f"""
INSERT INTO marts.service_statistics
WITH given AS (
    SELECT p.*, es.service_code, es.service_tier
    FROM core.episode_services AS es
    JOIN episode_periods AS p USING (episode_id)
),
grouped AS (
    SELECT period_type, period, period_start,
        CASE grouping(origin_province) WHEN 1 THEN 'national' ELSE 'province' END AS geo_level,
        CASE grouping(origin_province) WHEN 1 THEN 'NP' ELSE origin_province END AS geo_code,
        service_code, service_tier,
        count(DISTINCT survivor_id) AS survivors_served,
        count(*) AS services_given
    FROM given
    GROUP BY GROUPING SETS (
        (period_type, period, period_start, service_code, service_tier),
        (period_type, period, period_start, service_code, service_tier, origin_province)
    )
    HAVING (grouping(origin_province) = 1 OR origin_province IS NOT NULL)
       AND period_type IN {_BREAKDOWN_PERIODS}
)
SELECT period_type, period, period_start, geo_level, geo_code, service_code, service_tier,
    'survivors_served', survivors_served FROM grouped
UNION ALL
SELECT period_type, period, period_start, geo_level, geo_code, service_code, service_tier,
    'services_given', services_given FROM grouped
"""  # noqa: S608 - interpolates only SQL constants of this module

_REFERRAL_STATISTICS = f"""
INSERT INTO marts.referral_statistics
WITH referred AS (
    SELECT r.from_agency_type, r.to_agency_type, r.is_confirmed,
        s.province_code AS origin_province, p.period_type, p.period, p.period_start
    FROM core.referrals AS r
    JOIN core.survivors AS s USING (survivor_id)
    JOIN period_days AS p ON p.calendar_date = r.contact_date
),
grouped AS (
    SELECT period_type, period, period_start,
        CASE grouping(origin_province) WHEN 1 THEN 'national' ELSE 'province' END AS geo_level,
        CASE grouping(origin_province) WHEN 1 THEN 'NP' ELSE origin_province END AS geo_code,
        from_agency_type, to_agency_type,
        count(*) AS referrals, count(*) FILTER (WHERE is_confirmed) AS referrals_confirmed
    FROM referred
    GROUP BY GROUPING SETS (
        (period_type, period, period_start, from_agency_type, to_agency_type),
        (period_type, period, period_start, from_agency_type, to_agency_type, origin_province)
    )
    HAVING (grouping(origin_province) = 1 OR origin_province IS NOT NULL)
       AND period_type IN {_BREAKDOWN_PERIODS}
)
SELECT period_type, period, period_start, geo_level, geo_code, from_agency_type,
    to_agency_type, 'referrals', referrals FROM grouped
UNION ALL
SELECT period_type, period, period_start, geo_level, geo_code, from_agency_type,
    to_agency_type, 'referrals_confirmed', referrals_confirmed FROM grouped
"""  # noqa: S608 - interpolates only SQL constants of this module

_BATCH_QUALITY = """
INSERT INTO marts.quality_statistics
WITH b AS (
    SELECT strftime(received_at, '%Y-%m') AS period,
        date_trunc('month', received_at)::DATE AS period_start, source_type, status,
        coalesce(row_count, 0) AS row_count, coalesce(rows_loaded, 0) AS rows_loaded,
        coalesce(rows_quarantined, 0) AS rows_quarantined
    FROM ops.batches WHERE source_type IS NOT NULL
),
m AS (
    SELECT period, period_start, source_type,
        count(*) AS batches_received,
        count(*) FILTER (WHERE status = 'accepted') AS batches_accepted,
        count(*) FILTER (WHERE status = 'rejected') AS batches_rejected,
        sum(row_count) AS rows_received,
        sum(rows_loaded) FILTER (WHERE status = 'accepted') AS rows_loaded,
        sum(rows_quarantined) FILTER (WHERE status = 'accepted') AS rows_quarantined
    FROM b GROUP BY ALL
)
SELECT 'month', period, period_start, source_type, metric, coalesce(value, 0)
FROM m UNPIVOT (value FOR metric IN (batches_received, batches_accepted, batches_rejected,
                                     rows_received, rows_loaded, rows_quarantined))
"""

_LINK_QUALITY = """
INSERT INTO marts.quality_statistics
SELECT 'month', strftime(p.scored_at, '%Y-%m'), date_trunc('month', p.scored_at)::DATE,
    r.source_type,
    CASE p.decision WHEN 'auto_link' THEN 'auto_links' ELSE 'review_pairs' END, count(*)
FROM linkage.pairs AS p
JOIN core.survivor_records AS r ON r.record_token = p.record_token_l
WHERE p.decision IN ('auto_link', 'review') AND p.scored_at IS NOT NULL
GROUP BY ALL
"""

_QUARANTINE_REASONS = """
INSERT INTO marts.quarantine_reasons
SELECT source_type, rule, count(DISTINCT (batch_id, source_row))
FROM ops.quarantine GROUP BY ALL
"""


def build_marts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Drop and rebuild every mart table in one transaction; returns row counts per table."""
    has_batches = table_exists(con, "ops", "batches")
    has_quarantine = table_exists(con, "ops", "quarantine")
    has_pairs = table_exists(con, "linkage", "pairs")
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(_PERIOD_DAYS)
        con.execute(_EPISODE_PERIODS)
        con.execute(_UNITS)
        con.execute("DROP SCHEMA IF EXISTS marts CASCADE")
        con.execute(MARTS_DDL.read_text(encoding="utf-8"))
        con.execute(_SURVIVOR_STATISTICS)
        con.execute(_SERVICE_STATISTICS)
        con.execute(_REFERRAL_STATISTICS)
        if has_batches:
            con.execute(_BATCH_QUALITY)
        if has_pairs:
            con.execute(_LINK_QUALITY)
        if has_quarantine:
            con.execute(_QUARANTINE_REASONS)
        for statement in REINTEGRATION_STATEMENTS:
            con.execute(statement)
        con.execute(
            "INSERT INTO marts.geography SELECT geo_level, geo_code, parent_code, name_en, "
            "name_ne, population FROM core.geography"
        )
        for name in ("counted_units",):
            con.execute(f"DROP TABLE {name}")
        con.execute("DROP VIEW episode_periods")
        con.execute("DROP VIEW period_days")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    counts = {
        table: con.execute(f"SELECT count(*) FROM marts.{table}").fetchone()[0]  # noqa: S608
        for table in MART_TABLES
    }
    logger.info("marts rebuilt: %s", counts)
    return counts
