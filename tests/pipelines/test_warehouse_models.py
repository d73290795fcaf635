"""Warehouse models fill their tables by column name: one model file per table, and a table
whose DDL lists its columns in another order gets exactly the same rows."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from pipelines import warehouse_models
from pipelines.defs.core import build as core_build
from pipelines.defs.marts import build as marts_build
from tests.pipelines.warehouse_fixtures import build_warehouse

DDL = {"core": core_build.CORE_DDL, "marts": marts_build.MARTS_DDL}
BUILD_TABLES = {"core": core_build.CORE_TABLES, "marts": marts_build.MART_TABLES}
_CREATE_TABLE = re.compile(r"(CREATE TABLE [\w.]+ \()\n(.*?)\n\);", re.S)


def _ddl_tables(layer: str) -> dict[str, str]:
    """Table name -> table comment, from running the layer's DDL on an empty database."""
    con = duckdb.connect()
    con.execute(DDL[layer].read_text(encoding="utf-8"))
    rows = con.execute(
        "SELECT table_name, coalesce(comment, '') FROM duckdb_tables() WHERE schema_name = ?",
        [layer],
    ).fetchall()
    con.close()
    return dict(rows)


def reverse_columns(ddl: str) -> str:
    """The DDL with every CREATE TABLE's columns in reverse order (constraints kept last)."""

    def reverse(match: re.Match[str]) -> str:
        lines = [line.strip().rstrip(",") for line in match.group(2).splitlines() if line.strip()]
        columns = [line for line in lines if not line.startswith("PRIMARY KEY")]
        constraints = [line for line in lines if line.startswith("PRIMARY KEY")]
        body = ",\n".join(f"    {line}" for line in [*reversed(columns), *constraints])
        return f"{match.group(1)}\n{body}\n);"

    reversed_ddl, count = _CREATE_TABLE.subn(reverse, ddl)
    assert count, "no CREATE TABLE found"
    return reversed_ddl


def _rows_by_name(con: duckdb.DuckDBPyConnection, layer: str) -> dict[str, list[tuple]]:
    """Every table of the layer with its columns in name order, rows sorted."""
    out = {}
    for table in BUILD_TABLES[layer]:
        columns = sorted(
            name
            for (name,) in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ?",
                [layer, table],
            ).fetchall()
        )
        select = ", ".join(f'"{c}"' for c in columns)
        # Names from the catalogue and the build's fixed table list.
        out[table] = con.execute(
            f"SELECT {select} FROM {layer}.{table} ORDER BY ALL"  # noqa: S608
        ).fetchall()
    return out


def _build(con: duckdb.DuckDBPyConnection) -> None:
    core_build.build_core(con)
    marts_build.build_marts(con)


@pytest.fixture(scope="module")
def built() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    build_warehouse(con, people=60, followups=True)
    _build(con)
    yield con
    con.close()


@pytest.mark.parametrize("layer", ["core", "marts"])
def test_every_table_has_exactly_one_model_and_every_model_a_table(layer):
    tables = set(_ddl_tables(layer))
    assert set(warehouse_models.model_tables(layer)) == tables
    assert set(BUILD_TABLES[layer]) == tables
    assert len(BUILD_TABLES[layer]) == len(tables)
    for table in tables:
        sql = warehouse_models.model_sql(layer, table)
        # Filled by name, and only this table is filled by its file.
        assert sql.count(f"INSERT INTO {layer}.{table} BY NAME") == 1, table
        assert len(re.findall(r"\bINSERT\b", sql)) == 1, table


@pytest.mark.parametrize("layer", ["core", "marts"])
def test_each_model_states_the_grain_of_its_table(layer):
    for table, comment in _ddl_tables(layer).items():
        grain = warehouse_models.model_grain(layer, table)
        assert grain, f"{layer}/{table}.sql does not start with '-- Grain: '"
        assert f"Grain: {grain}" in comment, (table, grain, comment)


@pytest.mark.parametrize("layer", ["core", "marts"])
def test_models_fill_every_column_whatever_the_ddl_column_order(
    layer, built, tmp_path, monkeypatch
):
    expected = _rows_by_name(built, layer)
    assert all(expected[t] for t in ("survivors", "episodes", "followups") if t in expected), (
        "the fixture must fill the tables compared"
    )
    shuffled = tmp_path / f"{layer}.sql"
    shuffled.write_text(reverse_columns(DDL[layer].read_text(encoding="utf-8")), encoding="utf-8")
    module = core_build if layer == "core" else marts_build
    monkeypatch.setattr(module, "CORE_DDL" if layer == "core" else "MARTS_DDL", shuffled)

    _build(built)

    first_columns = built.execute(
        "SELECT table_name, first(column_name ORDER BY column_index) FROM duckdb_columns() "
        "WHERE schema_name = ? GROUP BY ALL",
        [layer],
    ).fetchall()
    normal = duckdb.connect()
    normal.execute(DDL[layer].read_text(encoding="utf-8"))
    last_columns = normal.execute(
        "SELECT table_name, last(column_name ORDER BY column_index) FROM duckdb_columns() "
        "WHERE schema_name = ? GROUP BY ALL",
        [layer],
    ).fetchall()
    assert sorted(first_columns) == sorted(last_columns), "the DDL's columns were reversed"
    assert _rows_by_name(built, layer) == expected
    monkeypatch.undo()
    _build(built)  # leave the module fixture as it was


@pytest.mark.parametrize("layer", ["core", "marts"])
def test_each_model_names_every_column_of_its_table(layer, built, monkeypatch):
    """A column a model forgot would be left NULL by BY NAME: compare the SELECT's output
    names with the table's columns, probing each model inside the real build."""
    seen: dict[str, tuple[set[str], set[str]]] = {}
    module = core_build if layer == "core" else marts_build
    run_model = warehouse_models.run_model

    def probing(con, model_layer, name, parameters=None):
        if not name.startswith("_"):
            sql = warehouse_models.model_sql(model_layer, name)
            probe = sql.replace(
                f"INSERT INTO {model_layer}.{name} BY NAME",
                "CREATE OR REPLACE TEMP TABLE model_probe AS",
                1,
            )
            warehouse_models.execute_sql(con, probe, parameters)
            made = {r[0] for r in con.execute("DESCRIBE model_probe").fetchall()}
            con.execute("DROP TABLE model_probe")
            table = {
                r[0]
                for r in con.execute(
                    "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? "
                    "AND table_name = ?",
                    [model_layer, name],
                ).fetchall()
            }
            seen[name] = (made, table)
        run_model(con, model_layer, name, parameters)

    monkeypatch.setattr(module, "run_model", probing)
    _build(built)
    assert set(seen) == set(BUILD_TABLES[layer])
    for name, (made, table) in seen.items():
        assert made == table, (name, made ^ table)


def test_reverse_columns_keeps_every_column(tmp_path: Path):
    text = core_build.CORE_DDL.read_text(encoding="utf-8")
    con = duckdb.connect()
    con.execute(reverse_columns(text))
    reversed_columns = con.execute(
        "SELECT table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE schema_name = 'core' ORDER BY ALL"
    ).fetchall()
    con.execute("DROP SCHEMA core CASCADE")
    con.execute(text)
    assert (
        con.execute(
            "SELECT table_name, column_name, data_type FROM duckdb_columns() "
            "WHERE schema_name = 'core' ORDER BY ALL"
        ).fetchall()
        == reversed_columns
    )
