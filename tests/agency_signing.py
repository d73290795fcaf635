"""Agency signing keys for tests: one deterministic Ed25519 key per agency id.

Every batch a test writes is signed like the agency tool signs it, and every test warehouse
registers the test agencies' public keys (`register_test_agencies`), so the ingest's
signature check runs for real in every pipeline test.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

import duckdb
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from linkage.encoding.signing import AgencySigningKey, signing_key_id

# Every agency id the tests put batches under.
TEST_AGENCIES = (
    "agency-a",
    "agency-b",
    "agency-c",
    "shelter-a",
    "ocmc-b",
    "migration-c",
    "shelter-01",
    "hosp",
    "x",
    "a",
    "someone-else",
)


def signing_key_for(agency_id: str) -> AgencySigningKey:
    """The test signing key of an agency (derived from its id: for tests only)."""
    seed = hashlib.sha256(b"pahichan-test-signing:" + agency_id.encode()).digest()
    private_key = Ed25519PrivateKey.from_private_bytes(seed)
    return AgencySigningKey(private_key, signing_key_id(private_key.public_key()))


# Test agencies may send every source type unless a test registers one more narrowly.
ALL_SOURCE_TYPES = ("shelter", "ocmc", "migration")


def register_test_agencies(
    con: duckdb.DuckDBPyConnection,
    agency_ids: Iterable[str] = TEST_AGENCIES,
    source_types: Iterable[str] = ALL_SOURCE_TYPES,
) -> None:
    """Register the test keys of these agencies in the warehouse (idempotent)."""
    from pipelines.defs.ingest.agency_keys import register_agency_key

    for agency_id in agency_ids:
        register_agency_key(
            con,
            agency_id=agency_id,
            public_key=signing_key_for(agency_id).private_key.public_key(),
            registered_by="tests",
            source_types=tuple(source_types),
        )


def signing_key_file(directory: Path, agency_id: str) -> Path:
    """The agency's test signing key written as the PEM file `pahichan keys new-signing`
    writes (for tests that drive the agency commands); created once per directory."""
    path = directory / f"{agency_id}.signing.pem"
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        pem = signing_key_for(agency_id).private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.write_bytes(pem)
        path.chmod(0o600)
    return path
