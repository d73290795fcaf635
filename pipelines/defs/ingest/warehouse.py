"""The ingest stage's warehouse tables: creating them and the queries over them.

The `ops` and `staging` tables are made by the numbered migrations (`pipelines.migrations`,
`schemas/warehouse/migrations/`; the staging DDL is generated from the one batch definition by
`pipelines.defs.ingest.staging_schema`); this module runs them and answers the questions
ingest asks.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import duckdb

from pipelines.defs.ingest.inbox import SOURCE_TYPES
from pipelines.defs.ingest.staging_schema import ensure_staging_schema

logger = logging.getLogger(__name__)

WAREHOUSE_SQL = Path(__file__).resolve().parents[3] / "schemas" / "warehouse"


def apply_sql_file(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Run every statement of a DDL file (DuckDB executes a multi-statement string)."""
    con.execute(path.read_text(encoding="utf-8"))


def ensure_ingest_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Bring the `ops`, `staging` and audit tables to the latest schema version (the
    pending migrations; nothing when there are none)."""
    from pipelines.migrations import migrate

    migrate(con)


def apply_staging_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the staging tables and add the batch columns they lack, keeping every row.

    The hook the staging migrations call (`schemas/warehouse/migrations/0003_staging.py`):
    the CREATE and ADD COLUMN statements generated from the one batch definition.
    """
    ensure_staging_schema(con)


def staging_table(source_type: str) -> str:
    """`staging.<source_type>`, for a source type of the fixed list only.

    Table names cannot be bound as parameters; checking against the allow-list is what
    keeps the formatted SQL safe.
    """
    if source_type not in SOURCE_TYPES:
        raise ValueError(f"unknown source type {source_type!r}")
    return f"staging.{source_type}"


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def current_key_id(con: duckdb.DuckDBPyConnection, configured: str | None) -> str | None:
    """The domain's key id: PAHICHAN_KEY_ID when set, else the one pinned in ops.domain."""
    row = con.execute("SELECT key_id FROM ops.domain ORDER BY pinned_at LIMIT 1").fetchone()
    pinned = row[0] if row else None
    if configured and pinned and configured != pinned:
        logger.warning(
            "PAHICHAN_KEY_ID is %s but the warehouse was pinned to %s: batches of the pinned "
            "key are now refused. Records of two keys cannot be linked to each other.",
            configured,
            pinned,
        )
    return configured or pinned


def pin_key_id(con: duckdb.DuckDBPyConnection, key_id: str, pinned_by: str) -> bool:
    """Record the domain's key id if none is pinned yet; True when this call pinned it."""
    if con.execute("SELECT count(*) FROM ops.domain").fetchone()[0]:  # type: ignore[index]
        return False
    con.execute(
        "INSERT INTO ops.domain (key_id, pinned_by, pinned_at) VALUES (?, ?, ?)",
        [key_id, pinned_by, utc_now()],
    )
    return True


def find_accepted_duplicate(
    con: duckdb.DuckDBPyConnection, batch_id: str, sha256: str, inbox_path: str
) -> str | None:
    """Another accepted receipt with the same batch id or the same bytes, described; or None."""
    row = con.execute(
        """
        SELECT batch_id, inbox_path FROM ops.batches
        WHERE status = 'accepted' AND (batch_id = ? OR sha256 = ?)
          AND NOT (inbox_path = ? AND sha256 = ?)
        ORDER BY received_at LIMIT 1
        """,
        [batch_id, sha256, inbox_path, sha256],
    ).fetchone()
    return f"batch {row[0]} ({row[1]})" if row else None


def row_balance(con: duckdb.DuckDBPyConnection, source_type: str, batch_id: str) -> tuple[int, int]:
    """(rows in staging, distinct rows in quarantine) for one batch, counted in the warehouse."""
    loaded = con.execute(
        f"SELECT count(*) FROM {staging_table(source_type)} WHERE batch_id = ?",  # noqa: S608
        [batch_id],
    ).fetchone()[0]  # type: ignore[index]
    quarantined = con.execute(
        "SELECT count(DISTINCT row_number) FROM ops.quarantine WHERE batch_id = ?", [batch_id]
    ).fetchone()[0]  # type: ignore[index]
    return int(loaded), int(quarantined)


def fail_interrupted_runs(con: duckdb.DuckDBPyConnection, noticed_by: str) -> list[str]:
    """Mark `ops.runs` rows still at `running` as failed; returns their run ids.

    Called only by a process that has just taken the warehouse's run lock
    (`WarehouseResource.hold`): no other run can be running then, so such a row belongs to a
    process that died (SIGKILL, power loss) before it could record how it ended. Each gets
    a `failed` status, a note saying so, and an audit row, in one transaction.
    """
    from pipelines.audit import PIPELINE_ACTOR, append_event

    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'ops' AND table_name = 'runs'"
    ).fetchone()[0]  # type: ignore[index]
    if not exists:
        return []
    stale = [
        row[0]
        for row in con.execute(
            "SELECT run_id FROM ops.runs WHERE status = 'running' ORDER BY started_at"
        ).fetchall()
    ]
    if not stale:
        return []
    note = f"interrupted: the process ended without finishing (found by {noticed_by})"
    con.execute("BEGIN TRANSACTION")
    try:
        for run_id in stale:
            con.execute(
                "UPDATE ops.runs SET status = 'failed', finished_at = ?, note = ? "
                "WHERE run_id = ? AND status = 'running'",
                [utc_now(), note, run_id],
            )
            append_event(
                con,
                actor=PIPELINE_ACTOR,
                action="run",
                object_name=run_id,
                detail={"status": "failed", "interrupted": True},
            )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    logger.warning("marked %d interrupted run(s) as failed: %s", len(stale), ", ".join(stale))
    return stale
