"""Inbox redaction (`pipelines.defs.ingest.redactions`) on small synthetic batches.

The end-to-end erasure tests (tests/privacy/test_erasure_end_to_end.py) cover both erasure
routes on an encrypted warehouse; these cover the unencrypted fallback key, crash repair and
a redaction record moved to another batch, each on a fresh warehouse in a few seconds.
"""

from __future__ import annotations

import datetime as dt
import shutil
import stat
from pathlib import Path

import pyarrow.parquet as pq

from pipelines.commands.run import pending_batches
from pipelines.defs.ingest.inbox import file_sha256, find_batches
from pipelines.defs.ingest.load import load_batch
from pipelines.defs.ingest.redactions import redact_inbox, sidecar_path
from pipelines.resources import WarehouseResource, resources_from_env
from tests.agency_signing import register_test_agencies
from tests.pipelines.conftest import make_rows, write_batch

TODAY = dt.date(2025, 6, 1)


def _warehouse(path: Path) -> WarehouseResource:
    warehouse = resources_from_env({}, warehouse=str(path))["warehouse"]
    with warehouse.connect() as con:
        register_test_agencies(con)
    return warehouse


def _load_all(warehouse: WarehouseResource, inbox: Path) -> list:
    with warehouse.connect() as con:
        return [
            load_batch(
                con,
                files,
                configured_key_id=None,
                run_id="t",
                today=TODAY,
                redaction_key=warehouse.redaction_key(),
            )
            for files in find_batches(inbox)
        ]


def test_redacted_batch_reloads_only_under_the_warehouse_secret(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    rows = make_rows(12, seed=3)
    erased = rows[4]["record_token"]
    data_path, _ = write_batch(inbox, rows=rows, batch_id="agency-a-000000000003")
    write_batch(inbox, agency_id="agency-b", count=5, seed=4)
    warehouse = _warehouse(tmp_path / "w1" / "pahichan.duckdb")
    assert {o.status for o in _load_all(warehouse, inbox)} == {"accepted"}
    original_sha = file_sha256(data_path)

    # An agency's withdrawal only rewrites its own batches: agency-b's holds nothing anyway,
    # and agency-b cannot redact agency-a's.
    with warehouse.connect() as con:
        untouched = redact_inbox(
            con, inbox, [erased], b"k" * 32, reference="x", agency_id="agency-b"
        )
        assert untouched.batches_rewritten == 0 and file_sha256(data_path) == original_sha
        key = warehouse.redaction_key(create=True)
        assert key is not None
        summary = redact_inbox(con, inbox, [erased], key, reference="wd-test")
        assert (summary.batches_rewritten, summary.rows_removed) == (1, 1)
        # The receipt follows the rewrite: the batch does not look new.
        (receipt,) = con.execute(
            "SELECT sha256 FROM ops.batches WHERE batch_id = 'agency-a-000000000003'"
        ).fetchone()
        again = redact_inbox(con, inbox, [erased], key, reference="wd-test")
    assert receipt == file_sha256(data_path) != original_sha and again.rows_removed == 0
    assert erased not in pq.read_table(data_path).column("record_token").to_pylist()
    fallback = warehouse.directory / "erasure.key"
    assert stat.S_IMODE(fallback.stat().st_mode) == 0o600
    assert pending_batches(inbox, warehouse) == []

    # A crash between the file's rename and the receipt's commit is repaired.
    with warehouse.connect() as con:
        con.execute(
            "UPDATE ops.batches SET sha256 = ? WHERE batch_id = 'agency-a-000000000003'",
            [original_sha],
        )
    assert pending_batches(inbox, warehouse) == []

    # A new warehouse beside the same secret accepts the rewritten batch; one without it
    # refuses it and says why.
    same = _warehouse(tmp_path / "w1" / "rebuilt.duckdb")
    outcomes = {o.batch_id: o for o in _load_all(same, inbox)}
    assert outcomes["agency-a-000000000003"].status == "accepted"
    assert outcomes["agency-a-000000000003"].rows_received == 11
    elsewhere = _warehouse(tmp_path / "w2" / "pahichan.duckdb")
    refused = {o.batch_id: o for o in _load_all(elsewhere, inbox)}["agency-a-000000000003"]
    assert refused.status == "rejected" and "no warehouse key" in (refused.reason or "")


def test_redaction_record_moved_to_another_batch_does_not_verify(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    rows = make_rows(6, seed=7)
    write_batch(inbox, rows=rows, batch_id="agency-a-000000000007")
    write_batch(inbox, rows=rows, batch_id="agency-a-000000000008")
    warehouse = _warehouse(tmp_path / "w" / "pahichan.duckdb")
    first, second = find_batches(inbox)
    with warehouse.connect() as con:
        key = warehouse.redaction_key(create=True)
        assert key is not None
        redact_inbox(con, inbox, [rows[0]["record_token"]], key, reference="wd-a")
    # The attacker copies batch 7's genuine redacted file and record over batch 8's.
    shutil.copy(first.data_path, second.data_path)
    shutil.copy(sidecar_path(first), sidecar_path(second))
    fresh = _warehouse(tmp_path / "w" / "fresh.duckdb")
    outcomes = {o.batch_id: o for o in _load_all(fresh, inbox)}
    assert outcomes[first.batch_id].status == "accepted"
    assert outcomes[second.batch_id].status == "rejected"
    assert "does not verify" in (outcomes[second.batch_id].reason or "")
