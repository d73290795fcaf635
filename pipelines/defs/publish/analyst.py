"""analyst.duckdb: the row-level tables for analysts, k-anonymous on the stated
quasi-identifiers (`pipelines.anonymity.quasi_identifiers`).

`prepare_analyst` reads core, anonymises (`pipelines.anonymity.anonymiser`) and checks the
result in memory with the independent checker, before the publish step replaces any file;
`write_analyst` writes the tables into the new file and checks the file itself again
before it is moved into place. A check that fails raises `KAnonymityError`: the previous
analyst.duckdb stays.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import duckdb
import pandas as pd

from pipelines.anonymity import (
    AnonymisedTables,
    AnonymityCheck,
    AnonymityPolicy,
    anonymise,
    assert_analyst_k_anonymous,
)
from pipelines.anonymity.quasi_identifiers import ANALYST_COLUMNS

# The analyst file is k-anonymous with k = the publication threshold, never below 5.
MIN_ANALYST_K = 5


def analyst_policy(threshold: int) -> AnonymityPolicy:
    """The anonymity policy of a publication at `threshold` (k = max(threshold, 5))."""
    return AnonymityPolicy(k=max(threshold, MIN_ANALYST_K))


# Warehouse-level inputs of the anonymiser: the published columns, periods still as dates.
# Survivors whose consent is statistics only (contract 1.2) are counted in the public
# aggregates but never written here.
BASE_SQL = {
    "survivors": """
        SELECT survivor_id, sex, age_band_at_first_contact AS age_band, province_code,
            district_code, first_contact_date AS first_contact_period, is_returning
        FROM core.survivors WHERE NOT is_statistics_only ORDER BY survivor_id""",
    "episodes": """
        SELECT episode_id, survivor_id, contact_date AS contact_period, agency_type,
            province_code, district_code, age_band, exploitation_type, destination_country,
            is_first_episode, is_returning
        FROM core.episodes WHERE survivor_id NOT IN (
            SELECT survivor_id FROM core.survivors WHERE is_statistics_only)
        ORDER BY episode_id""",
    "services": """
        SELECT episode_id, survivor_id, service_code, service_tier
        FROM core.episode_services WHERE survivor_id NOT IN (
            SELECT survivor_id FROM core.survivors WHERE is_statistics_only)
        ORDER BY episode_id, service_code""",
    "referrals": """
        SELECT episode_id, survivor_id, direction, from_agency_type, to_agency_type,
            is_confirmed
        FROM core.referrals WHERE survivor_id NOT IN (
            SELECT survivor_id FROM core.survivors WHERE is_statistics_only)
        ORDER BY episode_id, direction""",
}
TABLE_COMMENTS = {
    "survivors": "Pseudonymous survivors, k-anonymous with their whole history (see "
    "anonymity_levels). Grain: one row per survivor_id (linkage id).",
    "episodes": "Contact episodes at the published levels. Grain: one row per episode.",
    "services": "Services given. Grain: one row per episode x service.",
    "referrals": "Referrals. Grain: one row per episode x direction.",
    "anonymity_levels": "Coarsening applied to every table of this file. Grain: one row per "
    "quasi-identifier dimension.",
    "anonymity_summary": "What k-anonymity cost in this file. Grain: one row.",
}
METADATA_COLUMN_COMMENTS = {
    "anonymity_levels": {
        "dimension": "Quasi-identifier dimension (period, geography, destination, age, "
        "exploitation, agency, sex)",
        "level": "Level published for every column of that dimension (e.g. quarter, province)",
    },
    "anonymity_summary": {
        "k": "Smallest equivalence class allowed (survivors sharing one whole history)",
        "survivors": "Survivors in the warehouse",
        "survivors_published": "Survivors in this file",
        "survivors_episodes_suppressed": "Survivors whose episode and referral "
        "quasi-identifiers are NULL (own row kept)",
        "survivors_all_suppressed": "Survivors whose quasi-identifiers are all NULL",
        "survivors_left_out": "Survivors left out of this file (unique even when suppressed)",
        "qi_values": "Quasi-identifier values of the survivors in this file, after coarsening",
        "qi_values_suppressed": "Of those, taken by local suppression (NULL, or in a referral "
        "row left out; coarsening by anonymity_levels not counted)",
        "smallest_class": "Smallest equivalence class in this file, as the checker found it",
    },
}

# CTDC reads dates; a period stands for its first day (CTDC needs only the year and the
# first country of exploitation). `p` is the period column.
_PERIOD_START = (
    "CASE WHEN {p} IS NULL THEN NULL WHEN length({p}) = 4 THEN make_date(CAST({p} AS INTEGER), "
    "1, 1) WHEN {p}[6] = 'Q' THEN make_date(CAST({p}[1:4] AS INTEGER), "
    "3 * CAST({p}[7:7] AS INTEGER) - 2, 1) ELSE CAST({p} || '-01' AS DATE) END"
)
_CTDC_SOURCES = {
    "ctdc_source_survivors": (
        "SELECT survivor_id, {first} AS first_contact_date, sex, age_band AS "
        "age_band_at_first_contact FROM survivors",
        "Survivors as the CTDC view reads them (first contact period as its first day). "
        "Grain: one row per survivor_id.",
    ),
    "ctdc_source_episodes": (
        "SELECT survivor_id, exploitation_type, destination_country, {contact} AS "
        "contact_date FROM episodes",
        "Episodes as the CTDC view reads them (contact period as its first day). "
        "Grain: one row per episode.",
    ),
}


@dataclass(frozen=True)
class AnalystRelease:
    """The anonymised tables and the in-memory check of them."""

    anonymised: AnonymisedTables
    check: AnonymityCheck


def _quote(text: str) -> str:
    # COMMENT ON takes no bound parameters; texts are constants of this package.
    return "'" + text.replace("'", "''") + "'"


def prepare_analyst(con: duckdb.DuckDBPyConnection, policy: AnonymityPolicy) -> AnalystRelease:
    """Read core, anonymise, and check the tables in a scratch database (raises
    KAnonymityError when a class is below k: the caller must not publish)."""
    base = {name: con.execute(sql).df() for name, sql in BASE_SQL.items()}
    anonymised = anonymise(base, policy)
    scratch = duckdb.connect()
    try:
        _create_tables(scratch, anonymised)
        check = assert_analyst_k_anonymous(scratch, policy.k)
    finally:
        scratch.close()
    return AnalystRelease(anonymised, check)


def _create_tables(out: duckdb.DuckDBPyConnection, anonymised: AnonymisedTables) -> None:
    for table, columns in ANALYST_COLUMNS.items():
        out.register("frame", anonymised.tables[table])
        # Types from the registry (pandas cannot type an all-NULL column).
        select = ", ".join(
            f'CAST("{c}" AS {spec.sql_type}) AS "{c}"' for c, spec in columns.items()
        )
        out.execute(f"CREATE TABLE {table} AS SELECT {select} FROM frame")  # noqa: S608
        out.unregister("frame")


def write_analyst(
    out: duckdb.DuckDBPyConnection, release: AnalystRelease, published_at: dt.datetime
) -> None:
    """Write the analyst tables, their metadata and the CTDC view into `out`, then check
    `out` itself (raises KAnonymityError: the caller's atomic write then keeps the old file)."""
    from pipelines.commands.export import ctdc_view_sql

    anonymised = release.anonymised
    report = anonymised.report
    _create_tables(out, anonymised)
    for table, columns in ANALYST_COLUMNS.items():
        for column, spec in columns.items():
            role = spec.role.replace("_", " ")
            out.execute(
                f"COMMENT ON COLUMN {table}.{column} IS {_quote(f'{spec.comment} [{role}]')}"
            )
    levels = pd.DataFrame({"dimension": list(report.levels), "level": list(report.levels.values())})
    summary = pd.DataFrame(
        [
            {
                "k": report.k,
                "survivors": report.survivors,
                "survivors_published": report.survivors_published,
                "survivors_episodes_suppressed": report.survivors_episodes_suppressed,
                "survivors_all_suppressed": report.survivors_all_suppressed,
                "survivors_left_out": report.survivors_left_out,
                "qi_values": report.qi_values,
                "qi_values_suppressed": report.qi_values_suppressed,
                "smallest_class": release.check.smallest_class,
            }
        ]
    )
    for name, frame in (("anonymity_levels", levels), ("anonymity_summary", summary)):
        out.register("frame", frame)
        out.execute(f"CREATE TABLE {name} AS SELECT * FROM frame")  # noqa: S608
        out.unregister("frame")
    for name, text in TABLE_COMMENTS.items():
        out.execute(f"COMMENT ON TABLE {name} IS {_quote(text)}")
    for name, columns in METADATA_COLUMN_COMMENTS.items():
        for column, text in columns.items():
            out.execute(f"COMMENT ON COLUMN {name}.{column} IS {_quote(text)}")
    starts = {
        "first": _PERIOD_START.format(p="first_contact_period"),
        "contact": _PERIOD_START.format(p="contact_period"),
    }
    for name, (sql, comment) in _CTDC_SOURCES.items():
        out.execute(f"CREATE VIEW {name} AS {sql.format(**starts)}")
        out.execute(f"COMMENT ON VIEW {name} IS {_quote(comment)}")
    out.execute(ctdc_view_sql(*_CTDC_SOURCES))
    out.execute(
        "COMMENT ON VIEW ctdc_survivors IS "
        + _quote(
            "Survivors in the CTDC global data layout, over the k-anonymous tables of this file "
            "(row level; CTDC's own k = 11 export is `pahichan export ctdc`). Grain: one row per "
            "survivor_id."
        )
    )
    assert_analyst_k_anonymous(out, report.k)


def record_anonymity(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    published_at: dt.datetime,
    release: AnalystRelease,
) -> None:
    """Append the release's anonymisation figures to ops.analyst_anonymity (migration 0001)."""
    from pipelines.migrations import migrate

    report = release.anonymised.report
    migrate(con)
    con.execute(
        "INSERT INTO ops.analyst_anonymity (run_id, published_at, k, levels, survivors, "
        "survivors_published, survivors_episodes_suppressed, survivors_all_suppressed, "
        "survivors_left_out, qi_values, qi_values_suppressed, smallest_class, seconds) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            run_id,
            published_at,
            report.k,
            json.dumps(report.levels),
            report.survivors,
            report.survivors_published,
            report.survivors_episodes_suppressed,
            report.survivors_all_suppressed,
            report.survivors_left_out,
            report.qi_values,
            report.qi_values_suppressed,
            release.check.smallest_class,
            report.seconds,
        ],
    )
