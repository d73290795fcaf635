"""DDL and writes for the `linkage.*` tables (docs/interfaces.md section 3).

Tables (schema `linkage`, restricted store):
- `records`: one row per record_token currently in the store (batch columns + batch_id,
  source_type, agency_id, key_id, added_at). `key_id` is an addition to the contract: the
  model checks it to refuse records encoded under another key.
- `record_blocking_keys`: one row per record: MinHash band keys of its full-name filter.
- `pairs`: one row per scored pair at or above the review threshold, l < r.
- `review_decisions`: one row per reviewed pair (latest decision wins), l < r.
- `memberships`: one row per record: its survivor_id.
- `survivor_ids`: one row per survivor_id ever minted.
- `id_changes`: append-only log of ID events.
- `models`: one row per trained model version (the JSON artefact).
- `recluster_queue`: records whose component must be re-clustered at the next run (after a
  review decision).

All statements bind values as parameters; identifiers come only from code constants.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import UTC, datetime

import duckdb
import pyarrow as pa

from linkage.encoding.crypto import ENCODING_VERSION
from linkage.encoding.schema import (
    BATCH_COLUMNS,
    BatchColumn,
    add_column_statements,
    column_definitions_sql,
)
from linkage.matching.spec import NAME_FILTERS

logger = logging.getLogger(__name__)

GAMMA_COLUMNS = (
    "gamma_given_name",
    "gamma_family_name",
    "gamma_father_name",
    "gamma_birth",
    "gamma_sex",
    "gamma_place",
    "gamma_citizenship",
    "gamma_passport",
    "gamma_phone",
)

# Batch columns the store keeps (docs/interfaces.md section 2; follow-up answers are not
# linked on), from the one definition. consent_scope NULL = linkage_and_statistics;
# statistics_only records are never compared (prepare.LINKABLE), so each is a survivor of
# its own.
RECORD_COLUMNS: tuple[BatchColumn, ...] = tuple(c for c in BATCH_COLUMNS if c.in_linkage_store)
# Columns the linkage model needs; a batch missing one of these is refused.
REQUIRED_COLUMNS = (
    "record_token",
    *(f"{name}_bf" for name in NAME_FILTERS),
    "full_name_bf",
    "given_name_key",
    "family_name_key",
    "full_name_key",
    "birth_year_token",
    "birth_year_pm1_tokens",
    "birth_year_pm2_tokens",
    "birth_date_token",
)


def _ddl() -> list[str]:
    record_columns = ",\n".join(column_definitions_sql(RECORD_COLUMNS)).lstrip()
    gammas = ",\n    ".join(f"{g} INTEGER" for g in GAMMA_COLUMNS)
    return [
        "CREATE SCHEMA IF NOT EXISTS linkage",
        f"""CREATE TABLE IF NOT EXISTS linkage.records (
    {record_columns},
    batch_id VARCHAR NOT NULL,
    source_type VARCHAR NOT NULL,
    agency_id VARCHAR NOT NULL,
    key_id VARCHAR NOT NULL,
    added_at TIMESTAMP NOT NULL,
    PRIMARY KEY (record_token)
)""",
        """CREATE TABLE IF NOT EXISTS linkage.record_blocking_keys (
    record_token VARCHAR PRIMARY KEY,
    lsh_params VARCHAR NOT NULL,
    lsh_bands BIGINT[]
)""",
        f"""CREATE TABLE IF NOT EXISTS linkage.pairs (
    record_token_l VARCHAR NOT NULL,
    record_token_r VARCHAR NOT NULL,
    match_weight DOUBLE NOT NULL,
    match_probability DOUBLE NOT NULL,
    decision VARCHAR NOT NULL,
    {gammas},
    model_version VARCHAR NOT NULL,
    scored_at TIMESTAMP NOT NULL,
    PRIMARY KEY (record_token_l, record_token_r)
)""",
        """CREATE TABLE IF NOT EXISTS linkage.review_decisions (
    record_token_l VARCHAR NOT NULL,
    record_token_r VARCHAR NOT NULL,
    decision VARCHAR NOT NULL,
    decided_by VARCHAR NOT NULL,
    decided_at TIMESTAMP NOT NULL,
    note VARCHAR,
    PRIMARY KEY (record_token_l, record_token_r)
)""",
        """CREATE TABLE IF NOT EXISTS linkage.memberships (
    record_token VARCHAR PRIMARY KEY,
    survivor_id VARCHAR NOT NULL
)""",
        """CREATE TABLE IF NOT EXISTS linkage.survivor_ids (
    survivor_id VARCHAR PRIMARY KEY,
    minted_at TIMESTAMP NOT NULL,
    retired_at TIMESTAMP,
    superseded_by VARCHAR
)""",
        "CREATE SEQUENCE IF NOT EXISTS linkage.id_change_seq START 1",
        """CREATE TABLE IF NOT EXISTS linkage.id_changes (
    event_id BIGINT PRIMARY KEY DEFAULT nextval('linkage.id_change_seq'),
    event_at TIMESTAMP NOT NULL,
    event VARCHAR NOT NULL,
    survivor_id VARCHAR NOT NULL,
    other_survivor_id VARCHAR,
    record_count INTEGER,
    run_id VARCHAR NOT NULL
)""",
        """CREATE TABLE IF NOT EXISTS linkage.models (
    model_version VARCHAR PRIMARY KEY,
    trained_at TIMESTAMP NOT NULL,
    key_id VARCHAR NOT NULL,
    model_json VARCHAR NOT NULL
)""",
        """CREATE TABLE IF NOT EXISTS linkage.recluster_queue (
    record_token VARCHAR PRIMARY KEY,
    queued_at TIMESTAMP NOT NULL
)""",
    ]


def ensure_linkage_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the `linkage` schema and its tables if missing (safe to call repeatedly)."""
    for statement in _ddl():
        con.execute(statement)
    for statement in records_upgrade_statements(_columns_present(con, "linkage", "records")):
        con.execute(statement)


def records_upgrade_statements(present: Collection[str]) -> list[str]:
    """ALTERs giving a `linkage.records` created by an older version the later batch columns.

    `present` is the table's current column names; empty for an up-to-date store (old
    records read NULL in the added columns).
    """
    return add_column_statements("linkage.records", RECORD_COLUMNS, present)


def _columns_present(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> set[str]:
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_catalog = "
        "current_database() AND table_schema = ? AND table_name = ?",
        [schema, table],
    ).fetchall()
    return {row[0] for row in rows}


def utc_now() -> datetime:
    """Naive UTC timestamp (DuckDB TIMESTAMP columns hold UTC by convention here)."""
    return datetime.now(UTC).replace(tzinfo=None)


def check_batch_columns(batch: pa.Table) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in batch.column_names]
    if missing:
        raise ValueError(
            "The batch lacks columns the linkage model needs: "
            + ", ".join(missing)
            + f". Re-encode it with the agency tool (encoding_version {ENCODING_VERSION})."
        )


def insert_records(
    con: duckdb.DuckDBPyConnection,
    batch: pa.Table,
    *,
    batch_id: str,
    source_type: str,
    agency_id: str,
    key_id: str,
) -> int:
    """Insert the batch's records that are not already stored; return how many were new.

    Runs inside the caller's transaction. A record_token already present is left as it is
    (re-loading a batch is a no-op), so its pairs and survivor ID stay valid. A batch
    holds each record_token once (the suites' `record_token_unique_in_batch`).
    """
    check_batch_columns(batch)
    select_list = ", ".join(
        f"CAST(incoming.{c.name} AS {c.duckdb_type}) AS {c.name}"
        if c.name in batch.column_names
        else f"CAST(NULL AS {c.duckdb_type}) AS {c.name}"
        for c in RECORD_COLUMNS
    )
    before = con.execute("SELECT count(*) FROM linkage.records").fetchone()[0]
    con.register("__pahichan_incoming", batch)
    try:
        if "consent_scope" in batch.column_names:
            _narrow_consent(con)
        # An anti-join rather than ON CONFLICT DO NOTHING: the same rows, but 1M records
        # went into an empty store in 13.1 s instead of 20.4 s (commits included).
        con.execute(
            f"""
            INSERT INTO linkage.records BY NAME
            SELECT {select_list}, ? AS batch_id, ? AS source_type, ? AS agency_id,
                   ? AS key_id, ? AS added_at
            FROM __pahichan_incoming AS incoming
            WHERE incoming.record_token NOT IN (SELECT record_token FROM linkage.records)
            """,  # noqa: S608 - column names come from BATCH_COLUMNS, values are bound
            [batch_id, source_type, agency_id, key_id, utc_now()],
        )
    finally:
        con.unregister("__pahichan_incoming")
    after = con.execute("SELECT count(*) FROM linkage.records").fetchone()[0]
    return int(after - before)


def _narrow_consent(con: duckdb.DuckDBPyConnection) -> None:
    """Apply a re-sent record's narrower consent (now statistics_only) to the stored record.

    A stored record is otherwise left as it is; but a survivor who narrows consent must be
    unlinked: the record takes the new scope, loses its pairs and review decisions, and is
    queued, so the next linking run re-clusters its former survivor without it (the record
    becomes a survivor of its own). Consent is never widened this way: a record sent as
    statistics_only stays so until the agency withdraws it and sends it again.
    """
    narrowed = [
        row[0]
        for row in con.execute(
            """SELECT r.record_token FROM linkage.records AS r
            JOIN __pahichan_incoming AS incoming USING (record_token)
            WHERE incoming.consent_scope = 'statistics_only'
              AND coalesce(r.consent_scope, 'linkage_and_statistics') <> 'statistics_only'"""
        ).fetchall()
    ]
    if not narrowed:
        return
    for statement in (
        "UPDATE linkage.records SET consent_scope = 'statistics_only' "
        "WHERE list_contains(?, record_token)",
        "DELETE FROM linkage.pairs "
        "WHERE list_contains(?, record_token_l) OR list_contains(?, record_token_r)",
        "DELETE FROM linkage.review_decisions "
        "WHERE list_contains(?, record_token_l) OR list_contains(?, record_token_r)",
    ):
        con.execute(statement, [narrowed] * statement.count("?"))
    con.execute(
        "INSERT OR REPLACE INTO linkage.recluster_queue SELECT unnest(?::VARCHAR[]), ?",
        [narrowed, utc_now()],
    )
    logger.info(
        "%d stored records narrowed to statistics_only: queued for unlinking", len(narrowed)
    )


def record_key_ids(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute("SELECT DISTINCT key_id FROM linkage.records ORDER BY 1").fetchall()
    return [r[0] for r in rows]


def save_model_row(
    con: duckdb.DuckDBPyConnection, model_version: str, trained_at: str, key_id: str, text: str
) -> None:
    con.execute(
        """INSERT INTO linkage.models VALUES (?, ?, ?, ?)
        ON CONFLICT (model_version) DO UPDATE SET model_json = excluded.model_json""",
        [model_version, datetime.fromisoformat(trained_at).replace(tzinfo=None), key_id, text],
    )


def latest_model_json(con: duckdb.DuckDBPyConnection) -> str | None:
    row = con.execute(
        "SELECT model_json FROM linkage.models ORDER BY trained_at DESC LIMIT 1"
    ).fetchone()
    return row[0] if row else None
