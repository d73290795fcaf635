"""A small synthetic warehouse: staging, ops and linkage tables filled directly.

Used by the core, marts, disclosure and publish tests. Everything is synthetic: tokens are
random hex, Bloom filters random bytes. A few hundred records from ~120 survivors over two
years, some seen by two or three agencies, some returning after months (re-trafficking),
some with unknown sex or district, so that small cells, suppression and linkage all happen.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines.migrations import migrate
from schemas.geography import load_geography
from schemas.reintegration import load_indicator_config
from schemas.vocabularies import AGE_BANDS, SERVICES

REPO = Path(__file__).resolve().parents[2]

SOURCES = ("shelter", "ocmc", "migration")
# The staging columns the fixture fills, in the order of its rows (inserts name them, so the
# staging DDL may grow, e.g. by the follow-up indicator columns, without breaking this).
ROW_COLUMNS = (
    "record_token",
    "record_kind",
    "source_row",
    "given_name_bf",
    "family_name_bf",
    "father_name_bf",
    "full_name_bf",
    "given_name_key",
    "family_name_key",
    "full_name_key",
    "birth_year_token",
    "birth_year_pm1_tokens",
    "birth_year_pm2_tokens",
    "birth_date_token",
    "sex_token",
    "district_token",
    "citizenship_token",
    "passport_token",
    "phone_token",
    "sex",
    "age_band",
    "birth_precision",
    "province_code",
    "district_code",
    "local_level_code",
    "caste_ethnicity",
    "contact_date",
    "exploitation_type",
    "destination_country",
    "services",
    "referred_from",
    "referred_to",
    "batch_id",
    "agency_id",
    "source_type",
    "loaded_at",
)
EXPLOITATION = ("forced_labour", "sexual_exploitation", "servitude", "forced_marriage")
DESTINATIONS = ("IN", "AE", "MY", "QA", "NP")

LINKAGE_DDL = """
CREATE SCHEMA IF NOT EXISTS linkage;
CREATE TABLE IF NOT EXISTS linkage.memberships (record_token VARCHAR, survivor_id VARCHAR);
CREATE TABLE IF NOT EXISTS linkage.survivor_ids (
    survivor_id VARCHAR, minted_at TIMESTAMPTZ, retired_at TIMESTAMPTZ, superseded_by VARCHAR);
CREATE TABLE IF NOT EXISTS linkage.pairs (
    record_token_l VARCHAR, record_token_r VARCHAR, match_weight DOUBLE,
    match_probability DOUBLE, decision VARCHAR, model_version VARCHAR, scored_at TIMESTAMPTZ);
CREATE TABLE IF NOT EXISTS linkage.id_changes (
    event_id BIGINT, event_at TIMESTAMPTZ, event VARCHAR, survivor_id VARCHAR,
    other_survivor_id VARCHAR, record_count INTEGER, run_id VARCHAR);
"""


@dataclass
class FixtureSecrets:
    """Every token-like value put into the fixture: the publish tests look for them."""

    tokens: set[str] = field(default_factory=set)
    record_tokens: set[str] = field(default_factory=set)
    batch_ids: set[str] = field(default_factory=set)


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _staging_columns(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'staging' "
            "AND table_name = 'shelter' AND database_name = current_database()"
        ).fetchall()
    }


def build_warehouse(
    con: duckdb.DuckDBPyConnection,
    *,
    seed: int = 11,
    people: int = 120,
    span_days: int = 640,
    followups: bool = False,
) -> FixtureSecrets:
    """Fill `con` with staging.*, ops.*, linkage.* rows for `people` synthetic survivors.

    With `followups`, about a third of the survivors also get one or two follow-up visits
    (`record_kind = followup`, random answers to every reintegration indicator, some left
    blank) 2 to 14 months after their first contact. Needs the staging tables to have the
    `ri_<indicator>` columns.
    """
    rng = random.Random(seed)
    migrate(con)
    con.execute(LINKAGE_DDL)
    geo = load_geography()
    # A few districts only, so that some places have many survivors and some one or two.
    districts = [d for d in geo.districts if d.province_code in ("1", "3", "7")][:9]
    locals_by_district = {
        d.code: [ll.code for ll in geo.local_levels if ll.district_code == d.code][:3]
        for d in districts
    }
    agencies = {s: [f"{s}-{i}" for i in range(1, 3)] for s in SOURCES}
    secrets = FixtureSecrets()
    batches: dict[tuple[str, str, int], str] = {}
    rows: dict[str, list[tuple]] = {s: [] for s in SOURCES}
    followup_rows: dict[str, list[tuple]] = {s: [] for s in SOURCES}
    config = load_indicator_config()
    memberships = []
    start = dt.date(2023, 1, 1)
    for person in range(people):
        survivor_id = f"S{person:06d}"
        sex = rng.choices(["F", "M", "O", None], [70, 24, 3, 3])[0]
        band = rng.choice(AGE_BANDS[:5])
        district = rng.choices(districts, [30, 20, 10, 8, 5, 3, 2, 1, 1])[0]
        local = rng.choice(locals_by_district[district.code])
        first = start + dt.timedelta(days=rng.randrange(0, span_days))
        visits = rng.choices([1, 2, 3], [60, 30, 10])[0]
        dates = [first]
        for _ in range(visits - 1):
            gap = rng.choice([0, 3, 20, 200, 300])  # same week, or months later (returning)
            dates.append(dates[-1] + dt.timedelta(days=gap))
        for date in dates:
            source = rng.choice(SOURCES)
            agency = rng.choice(agencies[source])
            batch_key = (source, agency, date.year * 100 + (date.month - 1) // 6)
            if batch_key not in batches:
                batches[batch_key] = f"b-{source}-{_hex(rng, 8)}"
            batch_id = batches[batch_key]
            record_token = _hex(rng, 32)
            token = _hex(rng, 16)
            secrets.record_tokens.add(record_token)
            secrets.tokens.add(token)
            secrets.batch_ids.add(batch_id)
            unknown_place = rng.random() < 0.05
            services = rng.sample(sorted(SERVICES), rng.randrange(0, 4))
            referred_to = rng.choices(
                [None, "shelter", "ocmc", "migration", "police"], [60, 15, 10, 10, 5]
            )[0]
            rows[source].append(
                (
                    record_token,
                    "episode",
                    len(rows[source]) + 1,
                    rng.randbytes(128),
                    None,
                    None,
                    rng.randbytes(128),
                    token,
                    None,
                    None,
                    None,
                    [],
                    [],
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    sex,
                    band,
                    "age",
                    None if unknown_place else district.province_code,
                    None if unknown_place else district.code,
                    None if unknown_place or rng.random() < 0.2 else local,
                    None,
                    date,
                    rng.choice(EXPLOITATION) if rng.random() > 0.05 else None,
                    rng.choice(DESTINATIONS),
                    services,
                    rng.choice([None, None, "police"]),
                    referred_to,
                    batch_id,
                    agency,
                    source,
                    dt.datetime(date.year, date.month, date.day, 12, tzinfo=dt.UTC),
                )
            )
            memberships.append((record_token, survivor_id))
        if followups and rng.random() < 0.35:
            for _ in range(rng.choice([1, 1, 2])):
                visit = first + dt.timedelta(days=rng.randrange(60, 420))
                source = rng.choice(SOURCES)
                agency = rng.choice(agencies[source])
                batch_key = (source, agency, visit.year * 100 + (visit.month - 1) // 6)
                if batch_key not in batches:
                    batches[batch_key] = f"b-{source}-{_hex(rng, 8)}"
                record_token = _hex(rng, 32)
                secrets.record_tokens.add(record_token)
                answers = {
                    indicator.code: None
                    if rng.random() < 0.15
                    else str(rng.choice(config.scales[indicator.scale]).value)
                    for indicator in config.indicators
                }
                followup_rows[source].append(
                    (
                        record_token,
                        "followup",
                        100_000 + len(followup_rows[source]) + 1,
                        *[None] * 8,
                        [],
                        [],
                        *[None] * 6,
                        sex,
                        band,
                        "age",
                        district.province_code,
                        district.code,
                        local,
                        None,
                        visit,
                        None,
                        None,
                        [],
                        None,
                        None,
                        batches[batch_key],
                        agency,
                        source,
                        dt.datetime(visit.year, visit.month, visit.day, 12, tzinfo=dt.UTC),
                        answers,
                    )
                )
                memberships.append((record_token, survivor_id))
    codes = list(config.codes)
    if followups and not set(codes) <= _staging_columns(con):
        raise RuntimeError("staging has no reintegration indicator columns for follow-ups")
    for source in SOURCES:
        # Table and column names are constants of this module and of the indicator config.
        names = ", ".join(ROW_COLUMNS)
        placeholders = ", ".join("?" * len(ROW_COLUMNS))
        con.executemany(
            f"INSERT INTO staging.{source} ({names}) VALUES ({placeholders})",  # noqa: S608
            rows[source],
        )
        if followup_rows[source]:
            names = ", ".join([*ROW_COLUMNS, *codes])
            placeholders = ", ".join("?" * (len(ROW_COLUMNS) + len(codes)))
            con.executemany(
                f"INSERT INTO staging.{source} ({names}) VALUES ({placeholders})",  # noqa: S608
                [(*row[:-1], *[row[-1][c] for c in codes]) for row in followup_rows[source]],
            )
    con.executemany("INSERT INTO linkage.memberships VALUES (?, ?)", memberships)
    survivor_ids = sorted({s for _, s in memberships})
    con.executemany(
        "INSERT INTO linkage.survivor_ids VALUES (?, TIMESTAMPTZ '2024-01-01 00:00:00+00', "
        "NULL, NULL)",
        [(s,) for s in survivor_ids],
    )
    con.executemany(
        "INSERT INTO linkage.id_changes VALUES (?, TIMESTAMPTZ '2024-01-01 00:00:00+00', "
        "'minted', ?, NULL, 1, 'run-1')",
        [(i, s) for i, s in enumerate(survivor_ids)],
    )
    by_survivor: dict[str, list[str]] = {}
    for token, survivor in memberships:
        by_survivor.setdefault(survivor, []).append(token)
    pairs = []
    for tokens in by_survivor.values():
        for left, right in itertools.pairwise(tokens):
            decision = "auto_link" if rng.random() < 0.8 else "review"
            pairs.append(
                (left, right, 12.0, 0.99, decision, "m-1", dt.datetime(2024, 6, 1, tzinfo=dt.UTC))
            )
    con.executemany("INSERT INTO linkage.pairs VALUES (?, ?, ?, ?, ?, ?, ?)", pairs)
    batch_rows = []
    for (source, agency, _), batch_id in sorted(batches.items()):
        n = con.execute(
            f"SELECT count(*), min(loaded_at) FROM staging.{source} WHERE batch_id = ?",  # noqa: S608
            [batch_id],
        ).fetchone()
        quarantined = rng.randrange(0, 3)
        batch_rows.append(
            (
                batch_id,
                f"{source}/{agency}/{batch_id}.parquet",
                _hex(rng, 64),
                source,
                agency,
                n[0] + quarantined,
                n[0],
                quarantined,
                "accepted",
                None,
                n[1],
            )
        )
        for row in range(quarantined):
            con.execute(
                "INSERT INTO ops.quarantine (batch_id, source_type, agency_id, row_number, "
                'source_row, record_token, "column", rule, expectation, reason, '
                "quarantined_at) "
                "VALUES (?, ?, ?, ?, ?, ?, 'contact_date', ?, "
                "'expect_column_values_to_not_be_null', 'contact date missing', ?)",
                [
                    batch_id,
                    source,
                    agency,
                    900 + row,
                    900 + row,
                    _hex(rng, 32),
                    rng.choice(["contact_date_present", "sex_in_vocabulary"]),
                    n[1],
                ],
            )
    rejected_at = dt.datetime(2024, 3, 5, tzinfo=dt.UTC)
    batch_rows.append(
        (
            "b-rejected-1",
            "ocmc/ocmc-1/b-rejected-1.parquet",
            _hex(rng, 64),
            "ocmc",
            "ocmc-1",
            40,
            0,
            0,
            "rejected",
            "wrong key id",
            rejected_at,
        )
    )
    con.executemany(
        "INSERT INTO ops.batches (batch_id, inbox_path, sha256, source_type, agency_id, "
        "row_count, rows_loaded, rows_quarantined, status, reason, received_at, loaded_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(*r[:11], r[10]) for r in batch_rows],
    )
    secrets.batch_ids.add("b-rejected-1")
    return secrets
