"""operations.duckdb: what a data officer needs to act on, without any identity.

Written beside the other reader files (atomically, same modes) and read by the dashboard's
data officer page when it is started with `--operations`. Counts here are about batches and
rows, for the data office only: they are not published and not suppressed. Nothing here holds
a record token, an encoding, a survivor id or a clear value from a batch.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.audit import ensure_audit_schema
from pipelines.catalog import table_exists
from pipelines.defs.ingest.warehouse import ensure_ingest_schema

OPERATIONS_FILE = "operations.duckdb"

# Table -> (query on the warehouse, grain). Batch ids, agency ids and rule names are
# operational names, never personal data.
OPERATIONS_TABLES: dict[str, tuple[str, str]] = {
    "batches": (
        """SELECT b.batch_id, b.source_type, b.agency_id, b.received_at, b.status, b.reason,
            r.failed_checks, b.row_count AS rows_received, b.rows_loaded, b.rows_quarantined,
            b.linked_at, b.run_id
        FROM ops.batches AS b
        LEFT JOIN ops.rejected_batches AS r USING (inbox_path, sha256)
        ORDER BY b.received_at DESC, b.batch_id""",
        "one row per batch receipt (inbox file + content)",
    ),
    "quarantine_by_rule": (
        """SELECT batch_id, source_type, agency_id, rule, "column",
            count(DISTINCT row_number) AS rows, min(reason) AS reason,
            min(quarantined_at) AS quarantined_at
        FROM ops.quarantine GROUP BY ALL ORDER BY quarantined_at DESC, batch_id, rule""",
        "one row per batch x rule x column",
    ),
    "withdrawals": (
        """SELECT batch_id, source_type, agency_id, status, tokens_received, records_erased,
            tokens_not_found, reason, received_at, applied_at
        FROM ops.withdrawals ORDER BY received_at DESC""",
        "one row per withdrawal receipt",
    ),
    "runs": (
        """SELECT run_id, mode, started_at, finished_at, status, batches_accepted,
            batches_rejected, rows_loaded, rows_quarantined, note
        FROM ops.runs ORDER BY started_at DESC LIMIT 100""",
        "one row per run (latest 100)",
    ),
}
REVIEW_QUEUE = """
SELECT count(*) AS pairs_awaiting_review, min(p.scored_at) AS oldest_scored_at
FROM linkage.pairs AS p
LEFT JOIN linkage.review_decisions AS d
    ON d.record_token_l = p.record_token_l AND d.record_token_r = p.record_token_r
WHERE p.decision = 'review' AND d.decision IS NULL
"""


def operations_frames(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """The operations tables as Arrow tables (empty tables where the source does not exist
    yet, e.g. before the first withdrawal)."""
    frames: dict[str, object] = {}
    for name, (sql, _) in OPERATIONS_TABLES.items():
        frames[name] = con.execute(sql).fetch_arrow_table()
    if table_exists(con, "linkage", "pairs") and table_exists(con, "linkage", "review_decisions"):
        frames["review_queue"] = con.execute(REVIEW_QUEUE).fetch_arrow_table()
    else:
        frames["review_queue"] = con.execute(
            "SELECT 0::BIGINT AS pairs_awaiting_review, NULL::TIMESTAMP AS oldest_scored_at"
        ).fetch_arrow_table()
    return frames


def write_operations_file(
    con: duckdb.DuckDBPyConnection, publish_dir: Path, mode: int = 0o640
) -> dict[str, int]:
    """Write operations.duckdb into `publish_dir` (atomically, with the reader files'
    modes); returns the figures the Dagster metadata shows."""
    # The publisher's writer: temp file, CHECKPOINT, os.replace, reader-file mode.
    from pipelines.defs.publish.build import _write_atomically

    ensure_ingest_schema(con)
    ensure_audit_schema(con)
    frames = operations_frames(con)

    def write(out: duckdb.DuckDBPyConnection) -> None:
        for name, frame in frames.items():
            out.register("frame", frame)
            out.execute(f'CREATE TABLE "{name}" AS SELECT * FROM frame')  # noqa: S608 - fixed names
            out.unregister("frame")
            grain = OPERATIONS_TABLES[name][1] if name in OPERATIONS_TABLES else "one row"
            out.execute(f"COMMENT ON TABLE \"{name}\" IS 'Grain: {grain}.'")

    _write_atomically(publish_dir / OPERATIONS_FILE, write, mode)
    batches = frames["batches"]
    statuses = batches.column("status").to_pylist()
    return {
        "batches_received": len(statuses),
        "batches_rejected": statuses.count("rejected"),
        "rows_quarantined": sum(v or 0 for v in batches.column("rows_quarantined").to_pylist()),
        "pairs_awaiting_review": int(frames["review_queue"].column(0)[0].as_py() or 0),
    }
