"""Agency signing keys at the warehouse: the registry of public keys, and registering one.

Grain of `ops.agency_keys`: one row per (agency, signing key) ever registered; at most one
per agency has `retired_at IS NULL` (the active key). A data officer registers the public
key an agency hands over, with the source types the agency sends (`pahichan agency-key
register --source-type shelter`); that appends an audit row. The ingest then accepts a batch
or withdrawal only when its manifest is signed by the active key of the agency named by its
inbox folder (`batch_checks.signature_check`), so nobody holding the shared linkage secret
can write in another agency's name, and only under a source type registered for that key
(`batch_checks.source_type_check`), so a shelter cannot file records as a hospital's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import duckdb
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from linkage.encoding.batch import AGENCY_ID_RULE, is_agency_id
from linkage.encoding.signing import raw_public_bytes, signing_key_id
from pipelines.audit import append_event
from pipelines.defs.ingest.inbox import SOURCE_TYPES
from pipelines.defs.ingest.warehouse import ensure_ingest_schema, utc_now


@dataclass(frozen=True)
class RegisteredKey:
    """An agency's active signing key as the warehouse holds it."""

    signing_key_id: str
    public_key: Ed25519PublicKey
    # The source types the agency may send; None for a registration made before they were
    # recorded (refused at ingest until registered again).
    source_types: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Registration:
    """What `register_agency_key` did."""

    agency_id: str
    signing_key_id: str
    replaced: str | None  # the key id it retired, if any
    already_active: bool  # the same key and source types were already active (no change)
    source_types: tuple[str, ...] = ()


def active_agency_keys(con: duckdb.DuckDBPyConnection) -> dict[str, RegisteredKey]:
    """agency_id -> its active signing key."""
    ensure_ingest_schema(con)
    rows = con.execute(
        "SELECT agency_id, signing_key_id, public_key, source_types FROM ops.agency_keys "
        "WHERE retired_at IS NULL"
    ).fetchall()
    return {
        agency: RegisteredKey(
            key_id,
            Ed25519PublicKey.from_public_bytes(bytes(raw)),
            tuple(types) if types is not None else None,
        )
        for agency, key_id, raw, types in rows
    }


def checked_source_types(source_types: Iterable[str]) -> tuple[str, ...]:
    """The source types as stored (sorted, unique); ValueError if empty or unknown."""
    chosen = tuple(sorted(set(source_types)))
    unknown = [name for name in chosen if name not in SOURCE_TYPES]
    if not chosen or unknown:
        raise ValueError(
            f"source types must be one or more of {', '.join(SOURCE_TYPES)}"
            + (f" (not {', '.join(map(repr, unknown))})" if unknown else "")
        )
    return chosen


def register_agency_key(
    con: duckdb.DuckDBPyConnection,
    *,
    agency_id: str,
    public_key: Ed25519PublicKey,
    registered_by: str,
    source_types: Iterable[str],
) -> Registration:
    """Make `public_key` the agency's active signing key for `source_types` (retiring any
    other key), audited. Raises ValueError for a malformed agency id or source type.

    Idempotent: registering the active key with the same source types changes nothing and
    writes no audit row; with other source types it replaces them (audited).
    One transaction: the key, the retirement and the audit row commit together.
    """
    if not is_agency_id(agency_id):
        raise ValueError(f"{agency_id!r} is not a valid agency id ({AGENCY_ID_RULE})")
    types = checked_source_types(source_types)
    ensure_ingest_schema(con)
    key_id = signing_key_id(public_key)
    current = active_agency_keys(con).get(agency_id)
    if current is not None and current.signing_key_id == key_id and current.source_types == types:
        return Registration(agency_id, key_id, None, already_active=True, source_types=types)
    same_key = current is not None and current.signing_key_id == key_id
    now = utc_now()
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "UPDATE ops.agency_keys SET retired_at = ? WHERE agency_id = ? AND retired_at IS NULL",
            [now, agency_id],
        )
        # A key registered earlier, retired and now registered again is re-activated.
        con.execute(
            "DELETE FROM ops.agency_keys WHERE agency_id = ? AND signing_key_id = ?",
            [agency_id, key_id],
        )
        con.execute(
            "INSERT INTO ops.agency_keys (agency_id, signing_key_id, public_key, "
            "registered_by, registered_at, retired_at, source_types) "
            "VALUES (?, ?, ?, ?, ?, NULL, ?)",
            [agency_id, key_id, raw_public_bytes(public_key), registered_by, now, list(types)],
        )
        replaced = current.signing_key_id if current and not same_key else None
        append_event(
            con,
            actor=registered_by,
            action="agency_key_registered",
            object_name=agency_id,
            detail={"signing_key_id": key_id, "replaced": replaced, "source_types": list(types)},
            event_at=now,
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return Registration(agency_id, key_id, replaced, already_active=False, source_types=types)
