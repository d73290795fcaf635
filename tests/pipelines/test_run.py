"""Re-runs and crashes converge; `pahichan run` orchestrates the same Dagster code paths."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from click.testing import CliRunner

from pipelines.commands.run import run
from pipelines.definitions import build_definitions
from pipelines.defs.ingest import load as load_module
from pipelines.defs.ingest.inbox import find_batches
from pipelines.defs.ingest.load import load_batch
from tests.agency_signing import register_test_agencies
from tests.pipelines.conftest import make_rows, write_batch

TODAY = dt.date(2025, 6, 1)
TABLES = ("staging.shelter", "staging.ocmc", "ops.quarantine", "ops.batches", "ops.domain")


def contents(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """Every row of the ingest tables, without run ids and timestamps (they differ per run)."""
    snapshot = {}
    for table in TABLES:
        columns = [
            name
            for name, *_ in con.execute(f"DESCRIBE {table}").fetchall()
            if not name.endswith("_at") and name != "run_id"
        ]
        quoted = ", ".join(f'"{name}"' for name in columns)
        snapshot[table] = sorted(
            con.execute(f"SELECT {quoted} FROM {table}").fetchall(),  # noqa: S608
            key=repr,
        )
    return snapshot


def _fill_inbox(inbox: Path) -> None:
    rows = make_rows(25, seed=21)
    rows[0]["sex"] = "X"
    write_batch(inbox, batch_id="s1", rows=rows)
    write_batch(inbox, source_type="ocmc", agency_id="hosp", batch_id="o1", seed=22)
    write_batch(inbox, batch_id="bad", seed=23, manifest_edit=lambda m: m.update(row_count=1))


def _load_everything(con: duckdb.DuckDBPyConnection, inbox: Path) -> None:
    for files in find_batches(inbox):
        load_batch(con, files, configured_key_id=None, run_id="r", today=TODAY)


def test_running_twice_gives_identical_contents(con, inbox: Path) -> None:
    _fill_inbox(inbox)
    _load_everything(con, inbox)
    first = contents(con)
    assert len(first["staging.shelter"]) == 24 and len(first["staging.ocmc"]) == 20
    _load_everything(con, inbox)
    assert contents(con) == first


def test_crash_inside_the_load_transaction_then_rerun_converges(
    con, inbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill_inbox(inbox)
    reference = duckdb.connect(str(tmp_path / "reference.duckdb"))
    register_test_agencies(reference)
    _load_everything(reference, inbox)
    expected = contents(reference)
    reference.close()

    real_insert = load_module._insert_rows

    def insert_then_crash(*args, **kwargs):
        real_insert(*args, **kwargs)  # staging rows written, quarantine too...
        raise KeyboardInterrupt("killed mid-load")  # ...then the process "dies"

    monkeypatch.setattr(load_module, "_insert_rows", insert_then_crash)
    (first, *_) = find_batches(inbox)
    with pytest.raises(KeyboardInterrupt):
        load_batch(con, first, configured_key_id=None, run_id="r", today=TODAY)
    assert all(not rows for rows in contents(con).values()), "a crashed load left rows"

    monkeypatch.setattr(load_module, "_insert_rows", real_insert)
    _load_everything(con, inbox)
    assert contents(con) == expected


@pytest.mark.slow
def test_sigkill_mid_load_then_rerun_converges(inbox: Path, tmp_path: Path) -> None:
    _fill_inbox(inbox)
    reference = duckdb.connect(str(tmp_path / "reference.duckdb"))
    register_test_agencies(reference)
    _load_everything(reference, inbox)
    expected = contents(reference)
    reference.close()

    warehouse = tmp_path / "killed.duckdb"
    script = textwrap.dedent(
        f"""
        import datetime as dt, os, signal, duckdb
        from tests.agency_signing import register_test_agencies
        from pipelines.defs.ingest import load
        from pipelines.defs.ingest.inbox import find_batches
        real = load._insert_rows
        def insert_then_die(*a, **k):
            real(*a, **k)
            os.kill(os.getpid(), signal.SIGKILL)
        load._insert_rows = insert_then_die
        con = duckdb.connect({str(warehouse)!r})
        register_test_agencies(con)
        for files in find_batches(__import__("pathlib").Path({str(inbox)!r})):
            load.load_batch(con, files, configured_key_id=None, run_id="r",
                            today=dt.date(2025, 6, 1))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    process = subprocess.run([sys.executable, "-c", script], env=env, check=False)
    assert process.returncode == -signal.SIGKILL
    con = duckdb.connect(str(warehouse))
    _load_everything(con, inbox)
    assert contents(con) == expected
    con.close()


def test_ingest_job_reports_rejection_in_metadata_and_failed_check(resources, inbox: Path) -> None:
    write_batch(inbox, batch_id="altered", manifest_edit=lambda m: m.update(sha256="00" * 32))
    job = build_definitions(resources).resolve_job_def("ingest_shelter_batch")
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("shelter_batches", ["altered"])
        result = job.execute_in_process(instance=instance, partition_key="altered")
    (event,) = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    assert metadata["status"].value == "rejected"
    assert "sha256_matches_manifest" in metadata["reason"].value
    evaluations = result.get_asset_check_evaluations()
    failed = {c.check_name for c in evaluations if not c.passed and c.severity.value == "ERROR"}
    assert failed == {"sha256_matches_manifest"}
    # Checks after the failed one are marked as not evaluated, never as passed: a file that
    # is not the one the agency signed is never parsed (issue 15), so neither its columns
    # nor its rows are checked.
    not_run = {c.check_name for c in evaluations if "not evaluated" in (c.description or "")}
    assert not_run == {
        "batch_is_within_limits",
        "columns_match_contract",
        "rows_match_manifest",
        "batch_is_not_a_duplicate",
        "quarantine_is_within_limits",
        "record_tokens_are_unique",
        "rows_meet_expectations",
        "loaded_plus_quarantined_equals_received",
    }
    assert not any(c.passed for c in evaluations if c.check_name in not_run)


def _fake_linkage(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replace model training/linking (Splink, slow, needs realistic data) with a stub."""
    from linkage import matching

    def link(con, model, *, run_id):
        count = con.execute("SELECT count(*) FROM linkage.records").fetchone()[0]
        return matching.LinkResult(run_id=run_id, model_version="stub", ids_minted=count)

    monkeypatch.setattr(matching, "latest_model", lambda con: object())
    monkeypatch.setattr(matching, "link_new_records", link)
    monkeypatch.setattr(
        "pipelines.defs.linkage.assets.with_thresholds", lambda model, upper, lower: model
    )


def test_pahichan_run_processes_pending_batches_once(
    inbox: Path, warehouse_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill_inbox(inbox)
    _fake_linkage(monkeypatch)
    warehouse_path.parent.mkdir(parents=True)
    with duckdb.connect(str(warehouse_path)) as registry:
        register_test_agencies(registry)
    arguments = ["--inbox", str(inbox), "--warehouse", str(warehouse_path)]
    first = CliRunner().invoke(run, arguments)
    assert first.exit_code == 0, first.output
    assert "2 batches accepted, 1 rejected; 44 rows loaded, 1 quarantined" in first.output
    assert "Rejected shelter/agency-a/bad.parquet: rows_match_manifest" in first.output
    assert "44 new ids" in first.output

    readers = sorted(warehouse_path.parent.glob("*.duckdb"))
    assert {p.name for p in readers} >= {"public.duckdb", "analyst.duckdb"}
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in readers}

    second = CliRunner().invoke(run, arguments)
    assert second.exit_code == 0, second.output
    assert "Nothing new since the last publication" in second.output
    # A no-op run changes nothing: not the warehouse, not the reader files.
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in readers} == before
    con = duckdb.connect(str(warehouse_path), read_only=True)
    assert con.execute("SELECT count(*) FROM linkage.records").fetchone()[0] == 44
    assert (
        con.execute(
            "SELECT count(*) FROM ops.batches WHERE linked_at IS NULL AND status = 'accepted'"
        ).fetchone()[0]
        == 0
    )
    assert [r[0] for r in con.execute("SELECT status FROM ops.runs").fetchall()] == ["succeeded"]
    con.close()

    # Anything new (here a batch) makes the next run load, link and publish again.
    write_batch(inbox, batch_id="later", count=3, seed=41)
    third = CliRunner().invoke(run, arguments)
    assert third.exit_code == 0, third.output
    assert "1 batches accepted, 0 rejected; 3 rows loaded" in third.output
    assert readers[0].stat().st_mtime_ns != before[readers[0]][1]


def test_pahichan_run_reports_a_missing_inbox_clearly(tmp_path: Path) -> None:
    result = CliRunner().invoke(run, ["--inbox", str(tmp_path / "nope")])
    assert result.exit_code != 0
    assert "inbox folder" in result.output and "does not exist" in result.output
    assert "Traceback" not in result.output
