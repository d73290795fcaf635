"""The staging tables' DDL, generated from the one batch definition.

Staging: one table per source type (`staging.shelter`, `staging.ocmc`, `staging.migration`),
the rows of accepted batches that passed validation. Renames and casts only, no joins (dbt's
staging layer). Columns are the pseudonymised batch of docs/interfaces.md section 2
(`linkage.encoding.schema.BATCH_COLUMNS`, in that order) plus where each row came from
(`STAGING_OWN_COLUMNS`). Grain: one row per record per batch (an agency re-sending a record
in a later batch gives a second row, told apart by batch_id). Bloom filters stay BLOB:
`CAST(col AS BIT)` then `bit_count` to compare.

Three tables rather than one keyed by `source_type`: every reader (core build, linkage feed,
load, row balance, erasure) and many tests address `staging.<source_type>`, and they are
now generated from one definition, so the copies cannot drift; merging them is a separate
change.

`staging_ddl()` creates what is missing; `staging_upgrade_statements()` adds the optional
(later) batch columns a table created by an older version lacks, so a warehouse's tables
match the definition without re-running ALTERs on every connection. A numbered-migration
runner can call both.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import duckdb

from linkage.encoding.schema import BATCH_COLUMNS, add_column_statements, column_definitions_sql
from schemas.vocabularies import SOURCE_TYPES

STAGING_SCHEMA_NAME = "staging"
# Staging's own columns after the batch's: the batch and agency a row came from, its source
# type and when the warehouse loaded it. (name, DuckDB type incl. constraint)
STAGING_OWN_COLUMNS: tuple[tuple[str, str], ...] = (
    ("batch_id", "VARCHAR NOT NULL"),
    ("agency_id", "VARCHAR NOT NULL"),
    ("source_type", "VARCHAR NOT NULL"),
    ("loaded_at", "TIMESTAMPTZ NOT NULL"),
)
STAGING_PRIMARY_KEY = ("batch_id", "source_row")
# Every staging column with its DuckDB type (no constraints), in table order.
STAGING_COLUMN_TYPES: dict[str, str] = {
    **{column.name: column.duckdb_type for column in BATCH_COLUMNS},
    **{name: kind.removesuffix(" NOT NULL") for name, kind in STAGING_OWN_COLUMNS},
}


def staging_table_names() -> tuple[str, ...]:
    """`staging.<source_type>` for every source type, in SOURCE_TYPES order."""
    return tuple(f"{STAGING_SCHEMA_NAME}.{source_type}" for source_type in SOURCE_TYPES)


def staging_ddl() -> list[str]:
    """CREATE statements of the staging schema and its tables (idempotent, current columns)."""
    required = {column.name for column in BATCH_COLUMNS if column.staging_required}
    width = max(len(name) for name in STAGING_COLUMN_TYPES)
    lines = [
        *column_definitions_sql(BATCH_COLUMNS, not_null=required, width=width),
        *(f"    {name.ljust(width)} {kind}" for name, kind in STAGING_OWN_COLUMNS),
        f"    PRIMARY KEY ({', '.join(STAGING_PRIMARY_KEY)})",
    ]
    body = ",\n".join(lines)
    return [
        f"CREATE SCHEMA IF NOT EXISTS {STAGING_SCHEMA_NAME}",
        *(f"CREATE TABLE IF NOT EXISTS {table} (\n{body}\n)" for table in staging_table_names()),
    ]


def staging_upgrade_statements(present: Mapping[str, Collection[str]]) -> list[str]:
    """ALTER statements giving each staging table the optional batch columns it lacks.

    `present` maps `staging.<source_type>` to the table's current column names; a table not
    in it is skipped (staging_ddl creates it whole). Empty for an up-to-date warehouse.
    """
    return [
        statement
        for table in staging_table_names()
        if table in present
        for statement in add_column_statements(table, BATCH_COLUMNS, present[table])
    ]


def staging_columns_present(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    """Current column names of each existing staging table (one catalog query)."""
    present: dict[str, set[str]] = {}
    for table, column in con.execute(
        "SELECT table_schema || '.' || table_name, column_name FROM information_schema.columns "
        "WHERE table_catalog = current_database() AND table_schema = ?",
        [STAGING_SCHEMA_NAME],
    ).fetchall():
        present.setdefault(table, set()).add(column)
    return present


def ensure_staging_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create missing staging tables, then add the optional columns older tables lack."""
    for statement in staging_ddl():
        con.execute(statement)
    for statement in staging_upgrade_statements(staging_columns_present(con)):
        con.execute(statement)
