"""The audit log (`ops.audit_log`): who did what and when, without any identity.

Every run, batch receipt, publication, withdrawal, review decision, key-id pinning and agency
signing-key registration appends one row through `append_event`, the only code path that writes the
table (a test greps the code base for any other statement touching it). Rows form a hash
chain: each stores the SHA-256 of the previous row's hash and its own content, so
`verify_chain` detects a row that was edited, deleted, inserted or re-ordered afterwards,
even by someone with write access to the file (short of rewriting every later row, which
the copy the data office keeps of the latest `row_hash` reveals).

`detail` must hold no identity: `append_event` refuses values that look like record tokens
or field tokens (16 or 32 hex characters) and bytes, so a careless caller fails loudly
instead of writing a token into the log. Grain of the table: one row per audited event.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
from dataclasses import dataclass
from typing import Any

import duckdb

logger = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
ACTIONS = frozenset(
    {
        "run",
        "batch_received",
        "publication",
        "withdrawal",
        "review_decision",
        "key_id_pinned",
        "agency_key_registered",
        "erasure_check",
        "inbox_redaction",
        # Agency review round trip (issue 18): request files written, signed decisions stored.
        "review_requests",
        "review_import",
    }
)
PIPELINE_ACTOR = "pipeline"
# Record tokens are 32 hex, field tokens 16 hex (docs/interfaces.md section 2). A value of
# exactly that shape is refused anywhere in the detail (also inside longer text).
# Key ids (`pk1-` linkage, `sk1-` agency signing, + 16 hex) are public fingerprints, not
# identities: allowed.
_TOKEN_LIKE = re.compile(
    r"(?<![0-9a-fA-F])(?<!pk1-)(?<!sk1-)([0-9a-fA-F]{16}|[0-9a-fA-F]{32})(?![0-9a-fA-F])"
)


class AuditIdentityError(ValueError):
    """An audit detail looked like it carried an identity (a token); nothing was written."""


@dataclass(frozen=True)
class AuditEvent:
    """One row of `ops.audit_log`."""

    event_id: int
    event_at: dt.datetime
    actor: str
    action: str
    object: str
    detail: dict[str, Any]
    previous_hash: str
    row_hash: str


def ensure_audit_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Make sure `ops.audit_log` and `ops.withdrawals` exist: the pending migrations
    (`pipelines.migrations`; baseline 0001 creates both), nothing when there are none."""
    from pipelines.migrations import migrate

    migrate(con)


def _canonical_detail(detail: dict[str, Any]) -> str:
    return json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _row_hash(
    previous_hash: str,
    event_id: int,
    event_at: dt.datetime,
    actor: str,
    action: str,
    object_: str,
    detail_json: str,
) -> str:
    # The timestamp is hashed as microseconds since the epoch: the same value however DuckDB
    # hands the TIMESTAMPTZ back (time zone of the session does not matter).
    micros = int(event_at.timestamp() * 1_000_000)
    content = json.dumps(
        [previous_hash, event_id, micros, actor, action, object_, detail_json],
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(content.encode("ascii")).hexdigest()


def looks_like_token(text: str) -> bool:
    """True when `text` holds a run of exactly 16 or 32 hex characters (refused in audit
    rows); for callers that put names from outside (file names) into an audit row."""
    return bool(_TOKEN_LIKE.search(text))


def _check_no_identity(value: Any, where: str) -> None:
    if isinstance(value, bytes | bytearray | memoryview):
        raise AuditIdentityError(f"audit detail {where} is bytes; audit rows hold no encodings")
    if isinstance(value, str) and _TOKEN_LIKE.search(value):
        raise AuditIdentityError(
            f"audit detail {where} looks like a token (16/32 hex characters); audit rows "
            "must not hold identities: store a count or a batch id instead"
        )
    if isinstance(value, dict):
        for key, item in value.items():
            _check_no_identity(str(key), f"{where}.{key} (key)")
            _check_no_identity(item, f"{where}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_no_identity(item, f"{where}[{index}]")


def append_event(
    con: duckdb.DuckDBPyConnection,
    *,
    actor: str,
    action: str,
    object_name: str,
    detail: dict[str, Any] | None = None,
    event_at: dt.datetime | None = None,
) -> AuditEvent:
    """Append one audit row (the only writer of `ops.audit_log`); returns it.

    Runs inside the caller's transaction when there is one, so an event is recorded exactly
    when the change it describes commits.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r} (one of {sorted(ACTIONS)})")
    detail = dict(detail or {})
    for name, value in (("actor", actor), ("object", object_name)):
        _check_no_identity(value, name)
    _check_no_identity(detail, "detail")
    ensure_audit_schema(con)
    event_at = event_at or dt.datetime.now(dt.UTC)
    last = con.execute(
        "SELECT event_id, row_hash FROM ops.audit_log ORDER BY event_id DESC LIMIT 1"
    ).fetchone()
    event_id = (last[0] + 1) if last else 1
    previous_hash = last[1] if last else GENESIS_HASH
    detail_json = _canonical_detail(detail)
    row_hash = _row_hash(previous_hash, event_id, event_at, actor, action, object_name, detail_json)
    con.execute(
        "INSERT INTO ops.audit_log (event_id, event_at, actor, action, object, detail, "
        "previous_hash, row_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [event_id, event_at, actor, action, object_name, detail_json, previous_hash, row_hash],
    )
    logger.info("Audit %d: %s %s by %s", event_id, action, object_name, actor)
    return AuditEvent(
        event_id, event_at, actor, action, object_name, detail, previous_hash, row_hash
    )


def read_events(con: duckdb.DuckDBPyConnection) -> list[AuditEvent]:
    """Every audit row in order."""
    ensure_audit_schema(con)
    rows = con.execute(
        "SELECT event_id, event_at, actor, action, object, detail, previous_hash, row_hash "
        "FROM ops.audit_log ORDER BY event_id"
    ).fetchall()
    return [AuditEvent(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), r[6], r[7]) for r in rows]


def verify_chain(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Problems found in the hash chain (empty list: intact). Each names the event id."""
    ensure_audit_schema(con)
    rows = con.execute(
        "SELECT event_id, event_at, actor, action, object, detail, previous_hash, row_hash "
        "FROM ops.audit_log ORDER BY event_id"
    ).fetchall()
    problems: list[str] = []
    expected_previous = GENESIS_HASH
    for position, (
        event_id,
        event_at,
        actor,
        action,
        object_,
        detail,
        previous,
        stored,
    ) in enumerate(rows, start=1):
        if event_id != position:
            problems.append(f"event {event_id}: expected event id {position} (row missing?)")
        if previous != expected_previous:
            problems.append(f"event {event_id}: previous_hash does not match the row before")
        actual = _row_hash(previous, event_id, event_at, actor, action, object_, detail)
        if actual != stored:
            problems.append(f"event {event_id}: content does not match its row_hash (edited)")
        expected_previous = stored
    return problems


def latest_hash(con: duckdb.DuckDBPyConnection) -> str:
    """The newest row_hash (or the genesis hash): keep a copy outside the warehouse to detect
    a rewrite of the whole chain."""
    ensure_audit_schema(con)
    row = con.execute(
        "SELECT row_hash FROM ops.audit_log ORDER BY event_id DESC LIMIT 1"
    ).fetchone()
    return row[0] if row else GENESIS_HASH
