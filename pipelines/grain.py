"""Grain checks of the core and mart rebuilds: a table's grain columns are unique and never
NULL. Plain DuckDB, no Dagster, so tests can call it directly."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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


class GrainViolation(RuntimeError):
    """A rebuilt table repeats a grain key or has a NULL in one (a model bug): the rebuild is
    rolled back and the previous tables stay."""


def enforce_grains(
    con: duckdb.DuckDBPyConnection, schema: str, grains: Mapping[str, Sequence[str]]
) -> dict[str, GrainResult]:
    """Check each table's grain (`grains`: table -> grain columns); raise GrainViolation
    naming every table off its grain, else return what each check found. Called inside a
    rebuild's transaction, so a violation rolls the rebuild back."""
    results = {table: check_grain(con, schema, table, columns) for table, columns in grains.items()}
    broken = [
        f"{schema}.{table} ({', '.join(grains[table])}): {result.duplicate_keys} repeated keys, "
        f"{result.rows_with_null_key} rows with a NULL key"
        for table, result in results.items()
        if not result.passed
    ]
    if broken:
        raise GrainViolation(f"{schema} rebuild rolled back: " + "; ".join(broken))
    return results


@dataclass(frozen=True)
class LayerBuild:
    """What a committed rebuild of a warehouse layer holds: each table's grain check (all
    passed: a rebuild off its grain is rolled back instead), which counted its rows too."""

    grains: dict[str, GrainResult]

    @property
    def counts(self) -> dict[str, int]:
        """Rows per table."""
        return {table: result.rows for table, result in self.grains.items()}
