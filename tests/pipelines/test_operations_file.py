"""operations.duckdb: what a data officer acts on (batches, reasons, quarantine by rule,
review queue), and nothing that identifies a record."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from pipelines.defs.operations.build import OPERATIONS_FILE, write_operations_file
from tests.pipelines.warehouse_fixtures import build_warehouse


@pytest.fixture(scope="module")
def operations(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("operations")
    con = duckdb.connect()
    secrets = build_warehouse(con, people=30, span_days=120)
    con.execute(
        "INSERT INTO ops.rejected_batches VALUES ('bad-1', 'shelter/a/bad-1.parquet', 'ff', "
        "'shelter', 'shelter-a', ['rows_match_manifest'], 'rows_match_manifest: 3 rows, "
        "manifest says 4', ?, 'run-x')",
        [dt.datetime(2025, 1, 2, tzinfo=dt.UTC)],
    )
    con.execute(
        "INSERT INTO ops.batches (batch_id, inbox_path, sha256, source_type, agency_id, "
        "row_count, status, reason, received_at, run_id) VALUES ('bad-1', "
        "'shelter/a/bad-1.parquet', 'ff', 'shelter', 'shelter-a', 3, 'rejected', "
        "'rows_match_manifest: 3 rows, manifest says 4', ?, 'run-x')",
        [dt.datetime(2025, 1, 2, tzinfo=dt.UTC)],
    )
    figures = write_operations_file(con, folder)
    yield con, folder / OPERATIONS_FILE, secrets, figures
    con.close()


def _tables(path: Path) -> dict:
    with duckdb.connect(str(path), read_only=True) as reader:
        names = [r[0] for r in reader.execute("SHOW TABLES").fetchall()]
        return {n: reader.execute(f'SELECT * FROM "{n}"').df() for n in names}  # noqa: S608


def test_rejected_batch_with_its_reason_and_quarantine_by_rule(operations) -> None:
    con, path, _, figures = operations
    tables = _tables(path)
    assert set(tables) == {"batches", "quarantine_by_rule", "withdrawals", "runs", "review_queue"}
    batches = tables["batches"].set_index("batch_id")
    assert batches.at["bad-1", "status"] == "rejected"
    assert batches.at["bad-1", "agency_id"] == "shelter-a"
    assert "manifest says 4" in batches.at["bad-1", "reason"]
    assert list(batches.at["bad-1", "failed_checks"]) == ["rows_match_manifest"]
    quarantined = con.execute(
        "SELECT count(DISTINCT (batch_id, row_number)) FROM ops.quarantine"
    ).fetchone()[0]
    by_rule = tables["quarantine_by_rule"]
    assert quarantined > 0 and by_rule.rows.sum() >= quarantined
    assert figures["batches_rejected"] == (batches.status == "rejected").sum() >= 1
    assert figures["batches_received"] == len(tables["batches"])


def test_no_record_token_encoding_or_survivor_id(operations) -> None:
    con, path, secrets, _ = operations
    survivor_ids = {
        r[0] for r in con.execute("SELECT survivor_id FROM linkage.memberships").fetchall()
    }
    forbidden = secrets.tokens | secrets.record_tokens | survivor_ids
    for name, frame in _tables(path).items():
        for column in frame.columns:
            assert column not in ("record_token", "survivor_id", "sha256", "inbox_path"), name
            assert not column.endswith(("_bf", "_key", "_token", "_tokens")), (name, column)
            values = {str(v) for v in frame[column].dropna()}
            assert not values & forbidden, (name, column)
