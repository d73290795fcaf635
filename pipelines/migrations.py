"""Numbered schema migrations of the warehouse, recorded in `ops.schema_version`.

Each schema change is one file `schemas/warehouse/migrations/NNNN_<name>.sql` (or `.py`
with `upgrade(con)` where SQL alone cannot say it, e.g. the staging tables, whose columns
follow the batch contract). `migrate` applies the pending ones in version order inside one
transaction and records each as (version, name, applied_at): a migration that fails rolls
back every migration of that call, so a warehouse is always at one recorded version.

Every read-write connection migrates when it opens (`WarehouseResource._open`), and the
functions that create tables on plain connections (`ensure_ingest_schema`,
`ensure_audit_schema`) call `migrate` too; with nothing pending it costs two catalog
queries. Core and marts are not migrated: every build drops and recreates them from their
DDL and models.

Migration 0001 is the baseline (the schema when versions began); its statements say IF NOT
EXISTS because a warehouse made before then already holds some of its tables. Never edit a
migration that may have been applied: add the next number.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "schemas" / "warehouse" / "migrations"
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.(sql|py)$")
_SCHEMA_VERSION_DDL = """
CREATE SCHEMA IF NOT EXISTS ops;
-- One row per applied migration (pipelines.migrations). Grain: one row per version.
CREATE TABLE IF NOT EXISTS ops.schema_version (
    version     INTEGER PRIMARY KEY,
    name        VARCHAR NOT NULL,
    applied_at  TIMESTAMPTZ NOT NULL
);
"""


class MigrationError(RuntimeError):
    """A migration failed (nothing of that `migrate` call stays applied) or the migration
    files are inconsistent."""


@dataclass(frozen=True)
class Migration:
    """One numbered migration file."""

    version: int
    name: str
    path: Path

    def apply(self, con: duckdb.DuckDBPyConnection) -> None:
        """Run the file's SQL, or its `upgrade(con)` for a Python migration."""
        if self.path.suffix == ".sql":
            con.execute(self.path.read_text(encoding="utf-8"))
            return
        spec = importlib.util.spec_from_file_location(
            f"pahichan_migration_{self.version:04d}", self.path
        )
        if spec is None or spec.loader is None:
            raise MigrationError(f"cannot load migration {self.path}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.upgrade(con)


def list_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migrations in `directory`, by version; versions must run 1, 2, 3, ... unbroken."""
    migrations = []
    for path in sorted(directory.iterdir()):
        if path.name.startswith(("_", ".")) or path.is_dir():
            continue
        match = _FILE_NAME.match(path.name)
        if not match:
            raise MigrationError(
                f"{path}: a migration file is named NNNN_<name>.sql or NNNN_<name>.py "
                "(four digits, lower-case name)"
            )
        migrations.append(Migration(int(match.group(1)), match.group(2), path))
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(migrations) + 1)):
        raise MigrationError(
            f"migration versions in {directory} must be 1..{len(migrations)} with no gap or "
            f"repeat, found {versions}"
        )
    return migrations


def latest_version(directory: Path = MIGRATIONS_DIR) -> int:
    """The version a fully migrated warehouse is at."""
    return len(list_migrations(directory))


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    """The highest applied version (0 for a warehouse that has never been migrated)."""
    has_table = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'ops' AND table_name = 'schema_version'"
    ).fetchone()
    if not has_table or not has_table[0]:
        return 0
    row = con.execute("SELECT max(version) FROM ops.schema_version").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def migrate(con: duckdb.DuckDBPyConnection, directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Apply the pending migrations in order, all in one transaction; returns those applied.

    Inside a transaction the caller already opened, they become part of it (DuckDB has no
    nested transactions): the caller's commit or rollback decides for both.
    """
    migrations = list_migrations(directory)
    done = current_version(con)
    if done > len(migrations):
        raise MigrationError(
            f"the warehouse is at schema version {done}, newer than this code knows "
            f"({len(migrations)}): upgrade Pahichan before opening it"
        )
    pending = migrations[done:]
    if not pending:
        return []
    own_transaction = _begin(con)
    try:
        con.execute(_SCHEMA_VERSION_DDL)
        for migration in pending:
            try:
                migration.apply(con)
            except duckdb.Error as error:
                raise MigrationError(
                    f"migration {migration.path.name} failed: {error}; the warehouse was left "
                    f"at schema version {done}"
                ) from error
            con.execute(
                "INSERT INTO ops.schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                [migration.version, migration.name, dt.datetime.now(dt.UTC)],
            )
        if own_transaction:
            con.execute("COMMIT")
    except BaseException:
        if own_transaction:
            con.execute("ROLLBACK")
        raise
    logger.info(
        "warehouse schema migrated from version %d to %d (%s)",
        done,
        pending[-1].version,
        ", ".join(m.path.name for m in pending),
    )
    return pending


def _begin(con: duckdb.DuckDBPyConnection) -> bool:
    """Open a transaction; False when the caller already has one open."""
    try:
        con.execute("BEGIN TRANSACTION")
    except duckdb.TransactionException:
        return False
    return True


def staging_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """SHA-256 of the staging tables' columns and types, to tell when they changed.

    Each staging migration records the fingerprint it brings a warehouse to
    (`STAGING_FINGERPRINT`); a test fails when the staging DDL no longer matches the latest
    one, since a warehouse already past that migration would not get the new columns.
    """
    import hashlib

    rows = con.execute(
        "SELECT table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name = 'staging' ORDER BY ALL"
    ).fetchall()
    text = "\n".join(f"{table}.{column} {kind}" for table, column, kind in rows)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
