"""The audit log is append-only (one writer, hash chain) and never holds an identity."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from pipelines.audit import (
    AuditIdentityError,
    append_event,
    latest_hash,
    read_events,
    verify_chain,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    yield connection
    connection.close()


def _fill(con: duckdb.DuckDBPyConnection) -> None:
    append_event(con, actor="pipeline", action="run", object_name="cli-1", detail={"rows": 3})
    append_event(
        con,
        actor="asha",
        action="withdrawal",
        object_name="wd-1",
        detail={"records_erased": 1, "reason": "survivor_request"},
    )
    append_event(con, actor="pipeline", action="key_id_pinned", object_name="pk1-0123456789abcdef")


def test_intact_chain_verifies_and_events_read_back(con) -> None:
    _fill(con)
    events = read_events(con)
    assert [e.event_id for e in events] == [1, 2, 3]
    assert events[1].detail == {"records_erased": 1, "reason": "survivor_request"}
    assert events[1].previous_hash == events[0].row_hash
    assert verify_chain(con) == []
    assert latest_hash(con) == events[-1].row_hash


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (
            "UPDATE ops.audit_log SET detail = '{\"records_erased\":0}' WHERE event_id = 2",
            "event 2: content does not match",
        ),
        (
            "UPDATE ops.audit_log SET actor = 'someone_else' WHERE event_id = 1",
            "event 1: content does not match",
        ),
        ("DELETE FROM ops.audit_log WHERE event_id = 2", "event 3: expected event id 2"),
        (
            "UPDATE ops.audit_log SET event_at = event_at + INTERVAL 1 HOUR WHERE event_id = 3",
            "event 3: content does not match",
        ),
    ],
)
def test_tampering_with_any_row_is_detected(con, tamper: str, expected: str) -> None:
    _fill(con)
    assert verify_chain(con) == []
    con.execute(tamper)
    problems = verify_chain(con)
    print(f"tamper {tamper[:40]}...: {problems}")
    assert any(expected in problem for problem in problems), problems


def test_rewritten_row_with_recomputed_hash_breaks_the_next_link(con) -> None:
    _fill(con)
    from pipelines import audit

    row = con.execute("SELECT * FROM ops.audit_log WHERE event_id = 2").fetchone()
    forged = audit._row_hash(row[6], 2, row[1], row[2], row[3], row[4], '{"records_erased":0}')
    con.execute(
        "UPDATE ops.audit_log SET detail = '{\"records_erased\":0}', row_hash = ? "
        "WHERE event_id = 2",
        [forged],
    )
    assert any("event 3: previous_hash" in p for p in verify_chain(con))


@pytest.mark.parametrize(
    "detail",
    [
        {"record_token": "0123456789abcdef0123456789abcdef"},
        {"tokens": ["aaaaaaaaaaaaaaaa"]},
        {"note": "erased 0123456789ABCDEF0123456789ABCDEF today"},
        {"filter": b"\x00\x01"},
        {"nested": {"0123456789abcdef": 1}},
    ],
)
def test_identity_like_details_are_refused_and_nothing_is_written(con, detail: dict) -> None:
    with pytest.raises(AuditIdentityError):
        append_event(con, actor="pipeline", action="withdrawal", object_name="wd", detail=detail)
    assert read_events(con) == []


def test_token_as_object_or_actor_is_refused(con) -> None:
    with pytest.raises(AuditIdentityError):
        append_event(con, actor="x", action="withdrawal", object_name="ab" * 16)
    with pytest.raises(ValueError, match="unknown audit action"):
        append_event(con, actor="x", action="delete_everything", object_name="y")


_WRITE = re.compile(
    r"(INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM|TRUNCATE|DROP\s+TABLE|ALTER\s+TABLE)"
    r"\s+(\"?ops\"?\.)?\"?audit_log",
    re.IGNORECASE,
)


def test_only_pipelines_audit_writes_the_audit_log() -> None:
    """Append-only by construction: the one INSERT is in pipelines/audit.py; no code path
    anywhere updates or deletes audit rows."""
    writers: dict[str, list[str]] = {}
    scanned = 0
    for folder in ("pipelines", "linkage", "schemas", "dashboards"):
        for path in (REPO / folder).rglob("*"):
            if path.suffix not in {".py", ".sql"} or not path.is_file():
                continue
            scanned += 1
            found = [m.group(0) for m in _WRITE.finditer(path.read_text(encoding="utf-8"))]
            if found:
                writers[str(path.relative_to(REPO))] = found
    print(f"scanned {scanned} source files; writers: {writers}")
    assert scanned > 50
    assert list(writers) == ["pipelines/audit.py"]
    assert [w.split()[0].upper() for w in writers["pipelines/audit.py"]] == ["INSERT"]


def test_every_batch_receipt_is_audited_and_token_shaped_names_are_withheld(
    tmp_path: Path,
) -> None:
    from pipelines.defs.ingest.inbox import find_batches
    from pipelines.defs.ingest.load import load_batch
    from tests.agency_signing import register_test_agencies
    from tests.pipelines.conftest import write_batch

    inbox = tmp_path / "inbox"
    write_batch(inbox, batch_id="good", count=5)
    write_batch(inbox, batch_id="ab" * 16, count=5, seed=2)  # a token-shaped file name
    write_batch(inbox, batch_id="unsigned", count=5, seed=3, sign=False)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    register_test_agencies(con)
    for files in find_batches(inbox):
        load_batch(con, files, configured_key_id=None, run_id="r1")
    received = {e.object: e.detail for e in read_events(con) if e.action == "batch_received"}
    assert verify_chain(con) == []
    con.close()
    assert set(received) == {"good", "unsigned", "(withheld: token-shaped)"}
    assert received["good"]["status"] == "accepted" and received["good"]["rows_loaded"] == 5
    assert received["unsigned"]["failed_checks"] == ["manifest_is_signed_by_agency"]
