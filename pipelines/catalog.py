"""Questions about the warehouse's own catalog (which tables exist), asked one way."""

from __future__ import annotations

import duckdb


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    """Whether `schema.table` exists in the connection's current database.

    Stages built before a later one existed (an older warehouse, a first run) read as
    absent rather than failing; callers skip the work that needs the table.
    """
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = ? AND table_name = ? AND table_catalog = current_database()",
        [schema, table],
    ).fetchone()
    return bool(row and row[0])
