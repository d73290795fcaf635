"""Numbered migrations: a warehouse built by the previous release upgrades without losing a
row, applying them twice changes nothing, and a failed migration leaves nothing half done.

The previous-release warehouse is `tests/fixtures/warehouse_9f4b9d0/pahichan.duckdb.xz`:
synthetic data only (40 people, 105 records), made by `make_fixture.sh` beside it with the
code of commit 9f4b9d0, before consent_scope (contract 1.2), before agency keys were bound
to source types and before schema versions. Unencrypted, so it needs no key.
"""

from __future__ import annotations

import importlib.util
import lzma
import shutil
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from pipelines.audit import verify_chain
from pipelines.migrations import (
    MIGRATIONS_DIR,
    MigrationError,
    current_version,
    latest_version,
    list_migrations,
    migrate,
    staging_fingerprint,
)
from pipelines.resources import WarehouseResource

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "warehouse_9f4b9d0"
SCHEMAS = ("ops", "staging", "linkage", "core", "marts")


@pytest.fixture()
def previous_warehouse(tmp_path: Path) -> Path:
    """A copy of the previous release's warehouse, never migrated."""
    path = tmp_path / "warehouse" / "pahichan.duckdb"
    path.parent.mkdir()
    path.write_bytes(lzma.decompress((FIXTURE / "pahichan.duckdb.xz").read_bytes()))
    return path


def _tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    return con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() "
        "WHERE database_name = current_database() AND list_contains(?, schema_name) "
        "ORDER BY ALL",
        [list(SCHEMAS)],
    ).fetchall()


def _table_columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Every table with its columns in order."""
    out = {}
    for schema, table in _tables(con):
        out[f"{schema}.{table}"] = [
            r[0]
            for r in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
                "AND schema_name = ? AND table_name = ? ORDER BY column_index",
                [schema, table],
            ).fetchall()
        ]
    return out


def _rows(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> list[tuple]:
    select = ", ".join(f'"{c}"' for c in columns)
    # Names from the catalogue.
    return con.execute(f"SELECT {select} FROM {table} ORDER BY ALL").fetchall()  # noqa: S608


def _columns(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...]) -> set[tuple]:
    return set(
        con.execute(
            "SELECT schema_name, table_name, column_name, data_type FROM duckdb_columns() "
            "WHERE database_name = current_database() AND list_contains(?, schema_name)",
            [list(schemas)],
        ).fetchall()
    )


def test_previous_release_upgrades_without_losing_a_row(previous_warehouse: Path):
    with duckdb.connect(str(previous_warehouse), read_only=True) as old:
        assert current_version(old) == 0
        before = {
            name: (columns, _rows(old, name, columns))
            for name, columns in _table_columns(old).items()
        }
        old_columns = _columns(old, SCHEMAS)
    assert (
        len(before["staging.shelter"][1])
        + len(before["staging.ocmc"][1])
        + len(before["staging.migration"][1])
        == 105
    )
    assert before["ops.audit_log"][1] and before["linkage.memberships"][1]
    assert ("staging", "shelter", "consent_scope", "VARCHAR") not in old_columns

    with WarehouseResource(path=str(previous_warehouse)).connect() as con:
        assert current_version(con) == latest_version()
        versions = con.execute("SELECT version, name FROM ops.schema_version ORDER BY 1")
        assert versions.fetchall() == [(m.version, m.name) for m in list_migrations()]
        # Every table of the previous release keeps every row, value for value.
        for name, (columns, rows) in before.items():
            assert _rows(con, name, columns) == rows, name
        # Columns are only ever added.
        assert old_columns <= _columns(con, SCHEMAS)
        # New columns are there and empty; an old record's consent reads as the default.
        assert con.execute(
            "SELECT count(*) FROM staging.shelter WHERE consent_scope IS NULL"
        ).fetchone()[0] == len(before["staging.shelter"][1])
        assert (
            con.execute(
                "SELECT count(*) FROM ops.agency_keys WHERE source_types IS NULL"
            ).fetchone()[0]
            == 3
        )
        assert verify_chain(con) == []
        upgraded = _columns(con, ("ops", "staging"))

    fresh = duckdb.connect()
    migrate(fresh)
    # An upgraded warehouse has the tables and columns of a new one (column order aside).
    assert upgraded == _columns(fresh, ("ops", "staging"))


@pytest.mark.slow
def test_pahichan_run_works_on_the_upgraded_warehouse(previous_warehouse: Path, tmp_path: Path):
    from pipelines.commands.run import run
    from pipelines.commands.train import train
    from tests.agency_signing import register_test_agencies
    from tests.pipelines.conftest import write_batch

    warehouse = WarehouseResource(path=str(previous_warehouse))
    with warehouse.connect() as con:
        # The previous release's keys have no source types: an agency registers again.
        register_test_agencies(con, ["agency-a"], ["shelter"])
        key_id = con.execute("SELECT key_id FROM ops.domain").fetchone()[0]
        records = con.execute("SELECT count(*) FROM core.survivor_records").fetchone()[0]
    # The previous release's linkage model blocks on birth-year tokens that encoding
    # pahichan-enc-2 no longer sends: it cannot score today's records (reported), so the
    # data office trains a new one on the upgraded warehouse first.
    trained = CliRunner().invoke(train, ["--warehouse", str(previous_warehouse)])
    assert trained.exit_code == 0, trained.output
    inbox = tmp_path / "inbox"
    write_batch(inbox, count=12, seed=5, key_id=key_id)

    result = CliRunner().invoke(
        run, ["--inbox", str(inbox), "--warehouse", str(previous_warehouse)]
    )

    assert result.exit_code == 0, result.output
    assert "1 batches accepted, 0 rejected; 12 rows loaded" in result.output
    with warehouse.connect() as con:
        assert con.execute("SELECT count(*) FROM core.survivor_records").fetchone()[0] == (
            records + 12
        )
        assert (
            con.execute(
                "SELECT count(*) FROM core.survivor_records WHERE consent_scope IS NULL"
            ).fetchone()[0]
            == 0
        )
        assert (
            con.execute("SELECT status FROM ops.runs ORDER BY started_at DESC LIMIT 1").fetchone()[
                0
            ]
            == "succeeded"
        )
        assert verify_chain(con) == []


def test_applying_migrations_twice_changes_nothing():
    con = duckdb.connect()
    applied = migrate(con)
    assert [m.version for m in applied] == list(range(1, latest_version() + 1))
    recorded = con.execute("SELECT * FROM ops.schema_version ORDER BY version").fetchall()
    columns = _columns(con, ("ops", "staging"))

    assert migrate(con) == []
    assert con.execute("SELECT * FROM ops.schema_version ORDER BY version").fetchall() == recorded
    assert _columns(con, ("ops", "staging")) == columns


def _copy_with(tmp_path: Path, extra: dict[str, str]) -> Path:
    directory = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, directory, ignore=shutil.ignore_patterns("__pycache__"))
    for name, text in extra.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


BROKEN = """
CREATE TABLE ops.half_done (x INTEGER);
ALTER TABLE ops.batches ADD COLUMN half_done INTEGER;
INSERT INTO ops.half_done VALUES (1);
SELECT * FROM no_such_table;
"""


def test_a_failed_migration_leaves_nothing_half_applied(tmp_path: Path):
    directory = _copy_with(tmp_path, {f"{latest_version() + 1:04d}_broken.sql": BROKEN})
    con = duckdb.connect()
    migrate(con)  # at the latest real version
    batches_columns = _columns(con, ("ops",))

    with pytest.raises(MigrationError, match=r"_broken\.sql failed"):
        migrate(con, directory)

    assert current_version(con) == latest_version()
    assert not con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'half_done'"
    ).fetchone()[0]
    assert _columns(con, ("ops",)) == batches_columns


def test_a_failed_migration_undoes_the_earlier_ones_of_the_same_call(tmp_path: Path):
    directory = _copy_with(tmp_path, {f"{latest_version() + 1:04d}_broken.sql": BROKEN})
    con = duckdb.connect()

    with pytest.raises(MigrationError):
        migrate(con, directory)

    assert current_version(con) == 0
    assert not con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name IN ('ops', 'staging')"
    ).fetchone()[0]


def test_migration_files_are_numbered_without_gaps(tmp_path: Path):
    directory = _copy_with(tmp_path, {f"{latest_version() + 2:04d}_skipped_one.sql": "SELECT 1;"})
    with pytest.raises(MigrationError, match="no gap"):
        list_migrations(directory)


def test_a_warehouse_newer_than_the_code_is_refused():
    con = duckdb.connect()
    migrate(con)
    con.execute(
        "INSERT INTO ops.schema_version VALUES (?, 'from_the_future', now())",
        [latest_version() + 1],
    )
    with pytest.raises(MigrationError, match="newer than this code"):
        migrate(con)


def test_staging_changes_come_with_a_migration():
    """A warehouse past the latest staging migration gets new staging columns only from a
    new migration: the DDL must match what the latest staging migration recorded."""
    staging = [m for m in list_migrations() if m.name.startswith("staging")]
    spec = importlib.util.spec_from_file_location("latest_staging", staging[-1].path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    con = duckdb.connect()
    migrate(con)
    assert staging_fingerprint(con) == module.STAGING_FINGERPRINT, (
        "the staging columns changed: add a migration NNNN_staging_<what>.py calling "
        "apply_staging_schema, with STAGING_FINGERPRINT set to the new fingerprint"
    )
