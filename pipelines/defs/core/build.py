"""Rebuild the `core` schema from staging + linkage, atomically.

Plain functions over a DuckDB connection (no Dagster), so tests and the CLI can call them.
`build_core` drops and recreates every core table inside one transaction: readers of the
warehouse see either the previous core or the new one, never a half-built mix, and a crash
mid-build rolls back to the previous state. Rebuilding from the same inputs gives identical
tables (every tie is broken on a stable key).
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.catalog import table_exists
from pipelines.defs.core.followups import SCORE_COLUMNS, answer_columns_sql, score_visits
from pipelines.defs.ingest.staging_schema import STAGING_COLUMN_TYPES
from schemas.calendar import bs_fiscal_year, bs_fiscal_year_start, bs_month_label, bs_month_start
from schemas.geography import load_geography
from schemas.vocabularies import SERVICES, SOURCE_TYPES

logger = logging.getLogger(__name__)

CORE_DDL = Path(__file__).resolve().parents[3] / "schemas" / "warehouse" / "core.sql"
STAGING_SOURCES = SOURCE_TYPES
CORE_TABLES = (
    "geography",
    "calendar",
    "agencies",
    "survivor_records",
    "episodes",
    "survivors",
    "episode_services",
    "referrals",
    "followups",
    "id_change_log",
)
# A survivor is "returning" (the re-trafficking indicator) when seen again at least this long
# after an earlier episode; shorter gaps are one episode of care spread over several agencies.
RETURNING_GAP = "6 months"

# The staging columns core reads (types from the one batch definition).
_STAGING_COLUMN_NAMES = (
    "record_token", "source_type", "agency_id", "batch_id", "source_row", "record_kind",
    "contact_date", "sex", "age_band", "province_code", "district_code", "local_level_code",
    "caste_ethnicity", "exploitation_type", "destination_country", "services",
    "referred_from", "referred_to", "loaded_at", "consent_scope",
)  # fmt: skip
_STAGING_COLUMNS = ", ".join(_STAGING_COLUMN_NAMES)

_SURVIVOR_RECORDS = """
INSERT INTO core.survivor_records
SELECT
    s.record_token, s.source_type, s.agency_id, s.batch_id, s.source_row,
    m.survivor_id, s.record_kind, s.contact_date, s.sex, s.age_band,
    coalesce(s.province_code, left(coalesce(s.district_code, s.local_level_code), 1)),
    coalesce(s.district_code, left(s.local_level_code, 3)),
    s.local_level_code, s.caste_ethnicity, s.exploitation_type, s.destination_country,
    coalesce(s.services, []::VARCHAR[]), s.referred_from, s.referred_to, s.loaded_at,
    coalesce(s.consent_scope, 'linkage_and_statistics')
FROM staged AS s
LEFT JOIN memberships AS m USING (record_token)
-- An agency re-sending a record gives a second staging row: keep the latest version.
QUALIFY row_number() OVER (
    PARTITION BY s.record_token ORDER BY s.loaded_at DESC, s.batch_id DESC, s.source_row DESC
) = 1
"""

_EPISODES = f"""
INSERT INTO core.episodes
WITH linked AS (
    SELECT * FROM core.survivor_records
    WHERE survivor_id IS NOT NULL AND coalesce(record_kind, 'episode') = 'episode'
),
numbered AS (
    SELECT *,
        row_number() OVER (PARTITION BY survivor_id ORDER BY contact_date, record_token)
            AS episode_number,
        min(contact_date) OVER (PARTITION BY survivor_id) AS first_contact_date
    FROM linked
)
SELECT
    row_number() OVER (ORDER BY survivor_id, contact_date, record_token) AS episode_id,
    record_token, survivor_id, agency_id, source_type, contact_date, sex, age_band,
    province_code, district_code, local_level_code, caste_ethnicity, exploitation_type,
    destination_country, referred_from, referred_to, episode_number,
    episode_number = 1,
    contact_date >= first_contact_date + INTERVAL '{RETURNING_GAP}'
FROM numbered
"""  # noqa: S608 - interpolates only SQL constants of this module

# Modes with deterministic ties (most frequent, then alphabetical), so rebuilds are identical.
_SURVIVORS = f"""
INSERT INTO core.survivors
WITH base AS (
    SELECT survivor_id,
        min(contact_date) AS first_contact_date,
        max(contact_date) AS last_contact_date,
        count(*) AS records_count,
        count(DISTINCT agency_id) AS agencies_count
    FROM core.episodes GROUP BY survivor_id
),
first_band AS (
    SELECT survivor_id, age_band FROM core.episodes WHERE episode_number = 1
),
sex_mode AS (
    SELECT survivor_id, sex FROM (
        SELECT survivor_id, sex, count(*) AS n FROM core.episodes
        WHERE sex IS NOT NULL GROUP BY ALL
    ) QUALIFY row_number() OVER (PARTITION BY survivor_id ORDER BY n DESC, sex) = 1
),
district_mode AS (
    SELECT survivor_id, district_code FROM (
        SELECT survivor_id, district_code, count(*) AS n FROM core.episodes
        WHERE district_code IS NOT NULL GROUP BY ALL
    ) QUALIFY row_number() OVER (PARTITION BY survivor_id ORDER BY n DESC, district_code) = 1
),
province_mode AS (
    SELECT survivor_id, province_code FROM (
        SELECT survivor_id, province_code, count(*) AS n FROM core.episodes
        WHERE province_code IS NOT NULL GROUP BY ALL
    ) QUALIFY row_number() OVER (PARTITION BY survivor_id ORDER BY n DESC, province_code) = 1
),
-- Contract 1.2: a survivor with any statistics_only record (each such record is a survivor
-- of its own, since it is never linked) is counted but kept out of CTDC and analyst files.
consent AS (
    SELECT survivor_id, bool_or(consent_scope = 'statistics_only') AS is_statistics_only
    FROM core.survivor_records WHERE survivor_id IS NOT NULL GROUP BY survivor_id
),
local_mode AS (
    SELECT survivor_id, local_level_code FROM (
        SELECT e.survivor_id, e.local_level_code, count(*) AS n
        FROM core.episodes AS e JOIN district_mode AS d
            ON d.survivor_id = e.survivor_id AND left(e.local_level_code, 3) = d.district_code
        GROUP BY ALL
    ) QUALIFY row_number() OVER (PARTITION BY survivor_id ORDER BY n DESC, local_level_code) = 1
)
SELECT b.survivor_id, b.first_contact_date, b.last_contact_date, x.sex, f.age_band,
    coalesce(left(d.district_code, 1), p.province_code), d.district_code, l.local_level_code,
    b.records_count, b.agencies_count,
    b.last_contact_date >= b.first_contact_date + INTERVAL '{RETURNING_GAP}',
    coalesce(c.is_statistics_only, false)
FROM base AS b
LEFT JOIN first_band AS f USING (survivor_id)
LEFT JOIN sex_mode AS x USING (survivor_id)
LEFT JOIN district_mode AS d USING (survivor_id)
LEFT JOIN province_mode AS p USING (survivor_id)
LEFT JOIN local_mode AS l USING (survivor_id)
LEFT JOIN consent AS c USING (survivor_id)
"""  # noqa: S608 - interpolates only SQL constants of this module

_EPISODE_SERVICES = """
INSERT INTO core.episode_services
SELECT DISTINCT e.episode_id, e.survivor_id, u.service_code, t.service_tier
FROM core.episodes AS e
JOIN core.survivor_records AS r USING (record_token),
    unnest(r.services) AS u(service_code)
LEFT JOIN service_tiers AS t USING (service_code)
WHERE u.service_code IS NOT NULL
"""

_REFERRALS = """
INSERT INTO core.referrals
SELECT e.episode_id, e.survivor_id, e.contact_date, 'outgoing', e.agency_type, e.referred_to,
    EXISTS (
        SELECT 1 FROM core.episodes AS later
        WHERE later.survivor_id = e.survivor_id AND later.agency_type = e.referred_to
          AND later.contact_date >= e.contact_date AND later.episode_id <> e.episode_id
    )
FROM core.episodes AS e WHERE e.referred_to IS NOT NULL
UNION ALL
SELECT e.episode_id, e.survivor_id, e.contact_date, 'incoming', e.referred_from, e.agency_type,
    EXISTS (
        SELECT 1 FROM core.episodes AS earlier
        WHERE earlier.survivor_id = e.survivor_id AND earlier.agency_type = e.referred_from
          AND earlier.contact_date <= e.contact_date AND earlier.episode_id <> e.episode_id
    )
FROM core.episodes AS e WHERE e.referred_from IS NOT NULL
"""

_AGENCIES = """
INSERT INTO core.agencies
SELECT s.agency_id, min(s.source_type),
    count(DISTINCT s.record_token) FILTER (WHERE r.record_token IS NOT NULL),
    count(DISTINCT s.batch_id), min(s.loaded_at), max(s.loaded_at)
FROM staged AS s
LEFT JOIN core.survivor_records AS r
    ON r.record_token = s.record_token AND r.batch_id = s.batch_id
GROUP BY s.agency_id
"""


def _staged_sql(con: duckdb.DuckDBPyConnection) -> str:
    """UNION ALL of the staging tables that exist (names from a fixed allowlist)."""
    parts = [
        f"SELECT {_STAGING_COLUMNS} FROM staging.{source}"  # noqa: S608 - allowlisted names
        for source in STAGING_SOURCES
        if table_exists(con, "staging", source)
    ]
    if not parts:
        typed_nulls = ", ".join(
            f"NULL::{STAGING_COLUMN_TYPES[name]} AS {name}" for name in _STAGING_COLUMN_NAMES
        )
        return f"SELECT {typed_nulls} WHERE false"
    return " UNION ALL ".join(parts)


def _answers_sql(con: duckdb.DuckDBPyConnection) -> str:
    """Follow-up answers of every staged row (record_token, batch_id, source_row, ri_*)."""
    parts = [
        # Allowlisted table names; indicator columns from the versioned config.
        f"SELECT record_token, batch_id, source_row, {answer_columns_sql(con, 'staging', s)} "  # noqa: S608
        f"FROM staging.{s} WHERE record_kind = 'followup'"
        for s in STAGING_SOURCES
        if table_exists(con, "staging", s)
    ]
    return " UNION ALL ".join(parts) if parts else ""


# Visits of survivors who have an episode; place codes are the survivor's origin.
_FOLLOWUPS = """
INSERT INTO core.followups
SELECT r.record_token, r.survivor_id, r.contact_date, r.source_type,
    s.province_code, s.district_code, s.local_level_code,
    sc.answered_count, sc.economic_score, sc.social_score, sc.psychosocial_score,
    sc.composite_score, sc.config_version
FROM core.survivor_records AS r
JOIN core.survivors AS s USING (survivor_id)
JOIN followup_scores AS sc USING (record_token)
WHERE r.record_kind = 'followup'
ORDER BY r.record_token
"""


def _followup_scores(con: duckdb.DuckDBPyConnection, answers_sql: str) -> pd.DataFrame:
    """Scores of the current version of each follow-up record (after survivor_records)."""
    if not answers_sql:
        return pd.DataFrame(columns=SCORE_COLUMNS)
    answers = con.execute(
        f"SELECT a.* EXCLUDE (batch_id, source_row) FROM ({answers_sql}) AS a "  # noqa: S608
        "JOIN core.survivor_records AS r USING (record_token, batch_id, source_row) "
        "WHERE r.record_kind = 'followup' ORDER BY a.record_token"
    ).df()
    return score_visits(answers)


def geography_frame() -> pd.DataFrame:
    """Reference geography as rows of core.geography (nation first, then by code)."""
    geo = load_geography()
    rows = [("national", "NP", None, "Nepal", "नेपाल", None, None)]
    rows += [("province", p.code, "NP", p.name_en, p.name_ne, None, None) for p in geo.provinces]
    rows += [
        ("district", d.code, d.province_code, d.name_en, d.name_ne, None, None)
        for d in geo.districts
    ]
    rows += [
        ("local_level", ll.code, ll.district_code, ll.name_en, ll.name_ne, ll.level_type, None)
        for ll in geo.local_levels
    ]
    columns = ["geo_level", "geo_code", "parent_code", "name_en", "name_ne", "level_type",
               "population"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["population"] = frame["population"].astype("Int64")
    return frame


def calendar_frame(first: dt.date | None, last: dt.date | None) -> pd.DataFrame:
    """One row per day from `first` to `last` with AD and Bikram Sambat period labels."""
    columns = ["calendar_date", "month", "month_start", "quarter", "quarter_start", "year",
               "year_start", "bs_month", "bs_month_start", "bs_fiscal_year",
               "bs_fiscal_year_start"]
    if first is None or last is None:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    rows = []
    bs_starts: dict[str, dt.date] = {}
    fy_starts: dict[str, dt.date] = {}
    day = first
    while day <= last:
        q = (day.month - 1) // 3
        bs_month = bs_month_label(day)
        fiscal = bs_fiscal_year(day)
        if bs_month not in bs_starts:
            bs_starts[bs_month] = bs_month_start(bs_month)
        if fiscal not in fy_starts:
            fy_starts[fiscal] = bs_fiscal_year_start(fiscal)
        rows.append((
            day, f"{day.year:04d}-{day.month:02d}", day.replace(day=1),
            f"{day.year:04d}-Q{q + 1}", dt.date(day.year, 3 * q + 1, 1),
            f"{day.year:04d}", dt.date(day.year, 1, 1),
            bs_month, bs_starts[bs_month], fiscal, fy_starts[fiscal],
        ))
        day += dt.timedelta(days=1)
    return pd.DataFrame(rows, columns=columns)


def build_core(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Drop and rebuild every core table in one transaction; returns row counts per table."""
    staged = _staged_sql(con)
    answers_sql = _answers_sql(con)
    has_memberships = table_exists(con, "linkage", "memberships")
    has_id_changes = table_exists(con, "linkage", "id_changes")
    bounds = con.execute(f"SELECT min(contact_date), max(contact_date) FROM ({staged})").fetchone()  # noqa: S608
    calendar = calendar_frame(*(bounds or (None, None)))
    geography = geography_frame()
    tiers = pd.DataFrame(
        [(code, s.tier) for code, s in sorted(SERVICES.items())],
        columns=["service_code", "service_tier"],
    )
    con.register("geography_source", geography)
    con.register("calendar_source", calendar)
    con.register("service_tiers", tiers)
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(f"CREATE OR REPLACE TEMP VIEW staged AS {staged}")
            con.execute(
                "CREATE OR REPLACE TEMP VIEW memberships AS "
                + (
                    "SELECT record_token, any_value(survivor_id) AS survivor_id "
                    "FROM linkage.memberships GROUP BY record_token"
                    if has_memberships
                    else "SELECT NULL::VARCHAR AS record_token, NULL::VARCHAR AS survivor_id "
                    "WHERE false"
                )
            )
            con.execute("DROP SCHEMA IF EXISTS core CASCADE")
            con.execute(CORE_DDL.read_text(encoding="utf-8"))
            con.execute("INSERT INTO core.geography SELECT * FROM geography_source")
            con.execute(
                "INSERT INTO core.calendar SELECT * FROM calendar_source ORDER BY calendar_date"
            )
            con.execute(_SURVIVOR_RECORDS)
            con.execute(_AGENCIES)
            con.execute(_EPISODES)
            con.execute(_SURVIVORS)
            con.execute(_EPISODE_SERVICES)
            con.execute(_REFERRALS)
            scores = _followup_scores(con, answers_sql)
            con.register("followup_scores", scores)
            try:
                con.execute(_FOLLOWUPS)
            finally:
                con.unregister("followup_scores")
            if has_id_changes:
                con.execute(
                    "INSERT INTO core.id_change_log SELECT event_id, event_at, event, "
                    "survivor_id, other_survivor_id, record_count, run_id "
                    "FROM linkage.id_changes ORDER BY event_id"
                )
            con.execute("DROP VIEW staged")
            con.execute("DROP VIEW memberships")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        for name in ("geography_source", "calendar_source", "service_tiers"):
            con.unregister(name)
    counts = {
        table: con.execute(f"SELECT count(*) FROM core.{table}").fetchone()[0]  # noqa: S608
        for table in CORE_TABLES
    }
    unlinked = con.execute(
        "SELECT count(*) FROM core.survivor_records WHERE survivor_id IS NULL"
    ).fetchone()[0]
    if unlinked:
        logger.warning("%d records have no survivor_id yet (linkage not run on them)", unlinked)
    logger.info("core rebuilt: %s", counts)
    return counts
