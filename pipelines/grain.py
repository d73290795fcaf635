"""Grain checks shared by the core and mart asset checks: a table's grain columns are unique
and never NULL. Plain DuckDB, no Dagster, so tests can call it directly."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb


@dataclass(frozen=True)
class GrainResult:
    """What a grain check found in one table."""

    rows: int
    duplicate_keys: int
    rows_with_null_key: int

    @property
    def passed(self) -> bool:
        return self.duplicate_keys == 0 and self.rows_with_null_key == 0


def check_grain(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, columns: Sequence[str]
) -> GrainResult:
    """Count rows, repeated grain keys and rows with a NULL grain column."""
    if not columns:
        raise ValueError(f"{schema}.{table} has no declared grain")
    known = {
        name
        for (name,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ?",
            [schema, table],
        ).fetchall()
    }
    unknown = [c for c in columns if c not in known]
    if unknown:
        raise ValueError(f"{schema}.{table} has no column(s) {unknown}")
    # Identifiers come from the catalogue just checked, never from input: quoted, not bound.
    keys = ", ".join(f'"{c}"' for c in columns)
    nulls = " OR ".join(f'"{c}" IS NULL' for c in columns)
    rows, distinct_keys, null_rows = con.execute(
        f"SELECT count(*), (SELECT count(*) FROM (SELECT DISTINCT {keys} "  # noqa: S608
        f'FROM "{schema}"."{table}")), count(*) FILTER (WHERE {nulls}) '
        f'FROM "{schema}"."{table}"'
    ).fetchone()
    return GrainResult(rows=rows, duplicate_keys=rows - distinct_keys, rows_with_null_key=null_rows)
