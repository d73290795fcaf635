"""Batch-level checks: bad batches are rejected whole, with the reason, and left in place."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb

from linkage.encoding.signing import sign_manifest
from pipelines.defs.ingest.inbox import find_batches
from pipelines.defs.ingest.load import load_batch
from tests.agency_signing import ALL_SOURCE_TYPES, signing_key_for
from tests.pipelines.conftest import TEST_KEY_ID, resign_manifest, write_batch


def _load_all(con: duckdb.DuckDBPyConnection, inbox: Path, key_id: str | None = None) -> dict:
    return {
        files.inbox_path: load_batch(con, files, configured_key_id=key_id, run_id="test")
        for files in find_batches(inbox)
    }


def _rejection(con: duckdb.DuckDBPyConnection, batch_id: str) -> tuple[list[str], str]:
    row = con.execute(
        "SELECT failed_checks, reason FROM ops.rejected_batches WHERE batch_id = ?", [batch_id]
    ).fetchone()
    assert row is not None, f"{batch_id} is not in ops.rejected_batches"
    return row[0], row[1]


def _staged(con: duckdb.DuckDBPyConnection, batch_id: str) -> int:
    return con.execute(
        "SELECT count(*) FROM staging.shelter WHERE batch_id = ?", [batch_id]
    ).fetchone()[0]


def test_good_batch_is_accepted_and_pins_the_key_id(con, inbox: Path) -> None:
    write_batch(inbox, batch_id="good", count=12)
    outcome = _load_all(con, inbox)["shelter/agency-a/good.parquet"]
    assert outcome.status == "accepted", outcome.reason
    assert _staged(con, "good") == 12
    assert con.execute("SELECT key_id FROM ops.domain").fetchall() == [(TEST_KEY_ID,)]
    status, rows, loaded = con.execute(
        "SELECT status, row_count, rows_loaded FROM ops.batches WHERE batch_id = 'good'"
    ).fetchone()
    assert (status, rows, loaded) == ("accepted", 12, 12)


def test_wrong_row_count_is_rejected(con, inbox: Path) -> None:
    data, _ = write_batch(inbox, batch_id="short", manifest_edit=lambda m: m.update(row_count=99))
    _load_all(con, inbox)
    checks, reason = _rejection(con, "short")
    assert checks == ["rows_match_manifest"]
    assert "20 rows but the manifest says 99" in reason
    assert _staged(con, "short") == 0
    assert data.exists(), "a rejected batch is left in the inbox"


def test_wrong_hash_is_rejected(con, inbox: Path) -> None:
    write_batch(inbox, batch_id="altered", manifest_edit=lambda m: m.update(sha256="ab" * 32))
    _load_all(con, inbox)
    checks, reason = _rejection(con, "altered")
    assert checks == ["sha256_matches_manifest"]
    assert "SHA-256" in reason
    assert _staged(con, "altered") == 0


def test_foreign_key_id_is_rejected_against_configured_and_pinned_key(con, inbox: Path) -> None:
    write_batch(inbox, batch_id="foreign", key_id="pk1-ffffffffffffffff")
    _load_all(con, inbox, key_id=TEST_KEY_ID)
    checks, reason = _rejection(con, "foreign")
    assert checks == ["key_id_is_current"]
    assert "pk1-ffffffffffffffff" in reason and TEST_KEY_ID in reason

    # Without configuration, the first accepted batch pins the key for the next ones.
    con.execute("DELETE FROM ops.batches; DELETE FROM ops.rejected_batches")
    write_batch(inbox, batch_id="first", seed=2)
    _load_all(con, inbox, key_id=None)
    statuses = dict(con.execute("SELECT batch_id, status FROM ops.batches").fetchall())
    assert statuses == {"first": "accepted", "foreign": "rejected"}


def test_resent_batch_is_rejected_as_duplicate(con, inbox: Path) -> None:
    data, manifest = write_batch(inbox, batch_id="orig", seed=3)
    _load_all(con, inbox)
    # The same files dropped again into another agency folder (same batch id, same bytes).
    other = inbox / "shelter" / "agency-b"
    other.mkdir()
    shutil.copy(data, other / data.name)
    shutil.copy(manifest, other / manifest.name)
    resign_manifest(other / manifest.name, lambda m: m.update(agency_id="agency-b"))
    # The same rows re-exported under a new batch id (same bytes, new name).
    write_batch(inbox, batch_id="orig-again", seed=3)
    outcomes = _load_all(con, inbox)
    assert outcomes["shelter/agency-b/orig.parquet"].status == "rejected"
    assert outcomes["shelter/agency-a/orig-again.parquet"].status == "rejected"
    for inbox_path in ("shelter/agency-b/orig.parquet", "shelter/agency-a/orig-again.parquet"):
        checks, reason = con.execute(
            "SELECT failed_checks, reason FROM ops.rejected_batches WHERE inbox_path = ?",
            [inbox_path],
        ).fetchone()
        assert checks == ["batch_is_not_a_duplicate"]
        assert "already loaded as batch orig" in reason
    # The original stays loaded exactly once.
    assert _staged(con, "orig") == 20
    assert con.execute("SELECT count(*) FROM staging.shelter").fetchone()[0] == 20


def test_reloading_the_same_file_is_not_a_duplicate(con, inbox: Path) -> None:
    write_batch(inbox, batch_id="again")
    first = _load_all(con, inbox)["shelter/agency-a/again.parquet"]
    second = _load_all(con, inbox)["shelter/agency-a/again.parquet"]
    assert (first.status, second.status) == ("accepted", "accepted")
    assert _staged(con, "again") == 20
    assert con.execute("SELECT count(*) FROM ops.batches").fetchone()[0] == 1


def test_unparseable_manifest_and_unknown_columns_are_rejected(con, inbox: Path) -> None:
    _, manifest = write_batch(inbox, batch_id="broken", seed=4)
    manifest.write_text("{not json")
    write_batch(inbox, batch_id="misfiled", seed=5, manifest_edit=lambda m: m.update(agency_id="x"))
    _load_all(con, inbox)
    checks, reason = _rejection(con, "broken")
    assert "manifest_is_valid" in checks and "not valid JSON" in reason
    checks, reason = _rejection(con, "misfiled")
    assert checks == ["manifest_is_valid"] and "agency_id is 'x'" in reason


def test_columns_outside_the_contract_are_refused(con, inbox: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    data, _ = write_batch(inbox, batch_id="leaky", seed=6)
    table = pq.read_table(data)
    # A clear name column must never be loaded, even if everything else is fine.
    table = table.append_column("given_name", pa.array(["Sita"] * table.num_rows))
    pq.write_table(table, data)
    import hashlib

    digest = hashlib.sha256(data.read_bytes()).hexdigest()
    resign_manifest(data.with_name("leaky.manifest.json"), lambda m: m.update(sha256=digest))
    _load_all(con, inbox)
    checks, reason = _rejection(con, "leaky")
    assert checks == ["columns_match_contract"]
    assert "given_name" in reason and "Sita" not in reason


def test_contract_1_batch_without_followup_columns_loads_with_them_null(con, inbox: Path) -> None:
    import hashlib

    import pyarrow.parquet as pq

    data, manifest_path = write_batch(inbox, batch_id="v1", count=5)
    table = pq.read_table(data)
    table = table.drop_columns([name for name in table.column_names if name.startswith("ri_")])
    pq.write_table(table, data)
    digest = hashlib.sha256(data.read_bytes()).hexdigest()
    resign_manifest(manifest_path, lambda m: m.update(sha256=digest))

    outcome = _load_all(con, inbox)["shelter/agency-a/v1.parquet"]
    assert outcome.status == "accepted", outcome.reason
    assert _staged(con, "v1") == 5
    assert (
        con.execute(
            "SELECT count(*) FROM staging.shelter WHERE batch_id = 'v1' AND ri_income IS NULL"
        ).fetchone()[0]
        == 5
    )


def test_unsigned_impostor_or_tampered_batch_is_rejected_for_its_signature_only(
    con, inbox: Path
) -> None:
    write_batch(inbox, batch_id="unsigned", seed=21, sign=False)
    # agency-b writes into agency-a's folder, in agency-a's name, signed with its own key.
    _, manifest = write_batch(inbox, agency_id="agency-a", batch_id="impostor", seed=22)
    resign_manifest(manifest, lambda m: m.update(agency_id="agency-b"))
    forged = json.loads(manifest.read_text())
    forged["agency_id"] = "agency-a"  # the name the forger claims; signature stays b's
    manifest.write_text(json.dumps(forged))
    # agency-a's own manifest, edited after signing (here: its creation time).
    _, manifest = write_batch(inbox, agency_id="agency-a", batch_id="tampered", seed=23)
    tampered = json.loads(manifest.read_text())
    tampered["created_at"] = "2020-01-01T00:00:00+00:00"
    manifest.write_text(json.dumps(tampered))
    outcomes = _load_all(con, inbox)
    for batch_id in ("unsigned", "impostor", "tampered"):
        assert outcomes[f"shelter/agency-a/{batch_id}.parquet"].status == "rejected"
        checks, reason = _rejection(con, batch_id)
        assert checks == ["manifest_is_signed_by_agency"], reason
        assert _staged(con, batch_id) == 0
    assert "the manifest is not signed" in _rejection(con, "unsigned")[1]
    assert "not written by this agency" in _rejection(con, "impostor")[1]
    assert "does not verify" in _rejection(con, "tampered")[1]


def test_agency_without_a_registered_key_is_told_how_to_register(con, inbox: Path) -> None:
    write_batch(inbox, agency_id="unregistered-agency", batch_id="new", seed=26)
    outcome = _load_all(con, inbox)["shelter/unregistered-agency/new.parquet"]
    assert outcome.status == "rejected"
    checks, reason = _rejection(con, "new")
    assert checks == ["manifest_is_signed_by_agency"]
    assert "pahichan agency-key register" in reason


def test_rotated_key_refuses_the_old_key_and_is_audited(con, inbox: Path) -> None:
    from linkage.encoding.signing import new_signing_key
    from pipelines.audit import read_events, verify_chain
    from pipelines.defs.ingest.agency_keys import register_agency_key

    old = register_agency_key(
        con,
        agency_id="agency-c",
        registered_by="asha",
        source_types=ALL_SOURCE_TYPES,
        public_key=signing_key_for("agency-c").private_key.public_key(),
    )
    assert old.already_active  # the fixture registered it: registering again changes nothing
    rotated = new_signing_key()
    change = register_agency_key(
        con,
        agency_id="agency-c",
        registered_by="asha",
        source_types=["shelter"],
        public_key=rotated.private_key.public_key(),
    )
    assert change.replaced == old.signing_key_id and not change.already_active
    write_batch(inbox, agency_id="agency-c", batch_id="old-key", seed=24)
    _, manifest = write_batch(inbox, agency_id="agency-c", batch_id="new-key", seed=25)
    fields = json.loads(manifest.read_text())
    fields.pop("signature")
    manifest.write_text(json.dumps(sign_manifest(fields, rotated)))
    outcomes = _load_all(con, inbox)
    assert outcomes["shelter/agency-c/new-key.parquet"].status == "accepted"
    assert outcomes["shelter/agency-c/old-key.parquet"].status == "rejected"
    assert "register the new public key" in _rejection(con, "old-key")[1]
    keys = con.execute(
        "SELECT signing_key_id, retired_at IS NULL FROM ops.agency_keys "
        "WHERE agency_id = 'agency-c' ORDER BY registered_at"
    ).fetchall()
    assert keys == [(old.signing_key_id, False), (rotated.key_id, True)]
    events = [
        e
        for e in read_events(con)
        if e.action == "agency_key_registered" and e.object == "agency-c"
    ]
    # Each registration records the source types the key may send.
    assert [e.detail for e in events] == [
        {
            "signing_key_id": old.signing_key_id,
            "replaced": None,
            "source_types": sorted(ALL_SOURCE_TYPES),
        },
        {
            "signing_key_id": rotated.key_id,
            "replaced": old.signing_key_id,
            "source_types": ["shelter"],
        },
    ]
    assert verify_chain(con) == []


def test_ward_tokens_pass_staging_into_the_linkage_store(con, inbox: Path) -> None:
    from linkage.matching import ensure_linkage_schema
    from pipelines.defs.linkage.feed import add_pending_records
    from tests.pipelines.conftest import make_rows

    rows = make_rows(4, seed=5)
    wards = ["0123456789abcdef", None, "fedcba9876543210", "0123456789abcdef"]
    for row, ward in zip(rows, wards, strict=True):
        row["ward_token"] = ward
    write_batch(inbox, batch_id="wards", rows=rows)
    assert _load_all(con, inbox)["shelter/agency-a/wards.parquet"].status == "accepted"
    ensure_linkage_schema(con)
    assert add_pending_records(con) == {"wards": 4}
    stored = con.execute("SELECT ward_token FROM linkage.records ORDER BY source_row").fetchall()
    assert [ward for (ward,) in stored] == wards
