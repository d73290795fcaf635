"""Warehouse models: one `.sql` file per table, filled by column name, run in one transaction.

`schemas/warehouse/models/<layer>/<table>.sql` fills `<layer>.<table>` (layers: core, marts)
with `INSERT INTO <layer>.<table> BY NAME SELECT ...`: every output column is named as the
table's column, so reordering a table's DDL cannot shift data into the wrong column. The
first line of each file states the table's grain (`-- Grain: ...`, the same words as the
table's COMMENT in the DDL; a test holds them together).

Files whose name starts with `_` are intermediate relations (temporary views or tables the
models of a layer share, e.g. `_period_days.sql`); the build drops them before committing.

The builds (`pipelines.defs.core.build`, `pipelines.defs.marts.build`) own the order and
the transaction: a rebuild is one transaction, so a crash leaves the previous tables whole.
Values a model needs are bound as named parameters (`$returning_gap`), never formatted in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import duckdb

MODELS_DIR = Path(__file__).resolve().parents[1] / "schemas" / "warehouse" / "models"
LAYERS = ("core", "marts")
_PARAMETER = re.compile(r"\$([a-z_][a-z0-9_]*)")
_GRAIN_PREFIX = "-- Grain: "


def model_path(layer: str, name: str) -> Path:
    """The file of model `name` (a table, or `_<relation>` for an intermediate) in `layer`."""
    if layer not in LAYERS:
        raise ValueError(f"unknown warehouse layer {layer!r}")
    path = MODELS_DIR / layer / f"{name}.sql"
    if not path.is_file():
        raise FileNotFoundError(f"no model file {path} for {layer}.{name}")
    return path


def model_sql(layer: str, name: str) -> str:
    """The SQL text of one model file."""
    return model_path(layer, name).read_text(encoding="utf-8")


def model_tables(layer: str) -> tuple[str, ...]:
    """Tables that have a model file in `layer` (intermediates left out), sorted."""
    return tuple(
        sorted(
            path.stem
            for path in (MODELS_DIR / layer).glob("*.sql")
            if not path.stem.startswith("_")
        )
    )


def model_grain(layer: str, name: str) -> str:
    """The grain stated on the first line of a model file ('' when the line is missing)."""
    lines = model_sql(layer, name).splitlines()
    first = lines[0] if lines else ""
    return first.removeprefix(_GRAIN_PREFIX).strip() if first.startswith(_GRAIN_PREFIX) else ""


def run_model(
    con: duckdb.DuckDBPyConnection,
    layer: str,
    name: str,
    parameters: Mapping[str, object] | None = None,
) -> None:
    """Execute one model file on `con` (inside the caller's transaction).

    Only the parameters the file uses (`$name`, outside comments) are bound: DuckDB refuses
    a named value the statement does not take.
    """
    execute_sql(con, model_sql(layer, name), parameters, label=f"{layer}.{name}")


def execute_sql(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    parameters: Mapping[str, object] | None = None,
    *,
    label: str = "statement",
) -> None:
    """Execute `sql`, binding the named parameters it uses (`$name` outside comments)."""
    code = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
    wanted = sorted(set(_PARAMETER.findall(code)))
    given = parameters or {}
    missing = [p for p in wanted if p not in given]
    if missing:
        raise ValueError(f"{label} needs parameter(s) {missing}")
    if wanted:
        con.execute(sql, {p: given[p] for p in wanted})
    else:
        con.execute(sql)


def drop_temporary(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop the temporary view or table `name` if it exists (an intermediate of a build).

    `name` comes from the builds' fixed lists, never from data.
    """
    row = con.execute(
        "SELECT 'VIEW' FROM duckdb_views() WHERE temporary AND view_name = ? "
        "UNION ALL SELECT 'TABLE' FROM duckdb_tables() WHERE temporary AND table_name = ?",
        [name, name],
    ).fetchone()
    if row:
        con.execute(f'DROP {row[0]} temp.main."{name}"')


def source_view(
    con: duckdb.DuckDBPyConnection,
    view: str,
    table: str | None,
    columns: Mapping[str, str],
) -> None:
    """Temporary view `view` with `columns` (name -> DuckDB type) of `table`, or empty.

    An older or younger warehouse may lack a table a model reads (no linkage run yet): the
    view then has the same columns and no rows, so the model runs unchanged. `table` and the
    column names are fixed by the builds, never taken from data.
    """
    if table is not None:
        select = f"SELECT {', '.join(columns)} FROM {table}"  # noqa: S608 - fixed names
    else:
        select = (
            "SELECT "
            + ", ".join(f"NULL::{kind} AS {column}" for column, kind in columns.items())
            + " WHERE false"
        )
    con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS {select}")
