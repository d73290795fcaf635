"""Consent withdrawal end to end, on an encrypted, linked, published warehouse.

Each test withdraws different people, so the tests hold whatever order they run in.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from click.testing import CliRunner

from linkage.encoding.keyed import encoder_for
from linkage.encoding.withdrawal import write_withdrawal
from pipelines.audit import read_events, verify_chain
from pipelines.commands.run import pending_batches, run_pipeline
from pipelines.commands.withdraw import withdraw
from pipelines.defs.ingest.inbox import find_batches
from pipelines.defs.ingest.load import load_batch
from pipelines.erasure import token_tables, tokens_present
from pipelines.resources import resources_from_env
from tests.agency_signing import register_test_agencies, signing_key_for
from tests.pipelines.conftest import TEST_KEY_ID, resign_manifest
from tests.privacy.conftest import SECRET, World, seed_model


def _count(path, sql: str) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return int(con.execute(sql).fetchone()[0])
    finally:
        con.close()


def _analyst_counts(world: World) -> tuple[int, int]:
    analyst = world.publish_dir / "analyst.duckdb"
    return (
        _count(analyst, "SELECT count(*) FROM survivors"),
        _count(analyst, "SELECT count(*) FROM episodes"),
    )


def _decoded(path: Path) -> bytes:
    """A parquet file's values as uncompressed Arrow IPC bytes (its raw bytes are zstd
    compressed, so a token in it need not appear in them literally); b"" if unreadable."""
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException):
        return b""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _inbox_files(inbox: Path) -> dict[Path, bytes]:
    """Every file under the inbox: its raw bytes, plus its decoded values for parquet."""
    return {
        path: path.read_bytes() + (_decoded(path) if path.suffix == ".parquet" else b"")
        for path in sorted(inbox.rglob("*"))
        if path.is_file()
    }


def _encodings_of(world: World, token: str) -> list[bytes]:
    """The record token and every encoding (filter or token) of its inbox row that no other
    row in the inbox shares: what must be gone from the inbox after the record is erased."""
    rows = [
        row
        for path in sorted(world.inbox.rglob("*.parquet"))
        if not path.name.endswith(".withdrawal.parquet")
        for row in pq.read_table(path).to_pylist()
    ]

    def values(row: dict) -> list:
        return [v for k, v in row.items() if k != "source_row" and isinstance(v, str | bytes)]

    counts = Counter(value for row in rows for value in values(row))
    (row,) = [row for row in rows if row["record_token"] == token]
    # A value another kept record shares (the same name's filter at the other agency) stays.
    unique = [v for v in values(row) if counts[v] == 1 and len(v) >= 16]
    return [v.encode() if isinstance(v, str) else v for v in unique]


def _assert_gone_from_inbox(world: World, secrets: list[bytes]) -> None:
    """No file under the inbox (batches, manifests, sidecars, withdrawal files or what is
    left of them) holds the record token or any of its row's encodings."""
    for path, content in _inbox_files(world.inbox).items():
        for secret in secrets:
            assert secret not in content, f"{path.relative_to(world.inbox)} still holds it"
            assert secret.hex().encode() not in content


def _assert_gone_everywhere(world: World, token: str) -> None:
    for path in sorted(world.warehouse.parent.rglob("*")):
        # The warehouse file, its WAL and spill files: encrypted, so no token in clear.
        if path.is_file() and path.suffix != ".json":
            assert token.encode() not in path.read_bytes(), path.name
    with world.connect() as con:
        assert tokens_present(con, [token]) == set()
        tables = token_tables(con)
        audit_text = " ".join(json.dumps(e.detail) + e.object + e.actor for e in read_events(con))
        assert verify_chain(con) == []
    print(f"checked {len(tables)} token columns: {sorted({f'{s}.{t}' for s, t, _ in tables})}")
    assert {"staging.shelter", "linkage.records", "core.survivor_records", "ops.quarantine"} <= {
        f"{s}.{t}" for s, t, _ in tables
    }
    assert token not in audit_text
    for reader in ("analyst.duckdb", "public.duckdb"):
        assert token.encode() not in (world.publish_dir / reader).read_bytes()


def _person_seen_by_both(world: World, index: int) -> int:
    both = sorted(p for p, seen in world.persons.items() if len(seen) == 2)
    return both[index]


def _officer_withdraw(world: World, token: str, *extra: str, env: dict | None = None):
    """`pahichan withdraw` of one record token by the data officer, on the world's warehouse."""
    return CliRunner().invoke(
        withdraw,
        [
            "--record-token",
            token,
            "--warehouse",
            str(world.warehouse),
            "--warehouse-key",
            str(world.key_file),
            "--by",
            "officer-asha",
            *extra,
        ],
        env=env,
    )


def test_agency_withdrawal_batch_erases_a_record_and_rebuilds(world: World) -> None:
    person = _person_seen_by_both(world, 0)
    record_id, token = world.persons[person]["shelter-a"]
    _, other_token = world.persons[person]["ocmc-b"]
    with world.connect() as con:
        survivor = con.execute(
            "SELECT survivor_id FROM linkage.memberships WHERE record_token = ?", [other_token]
        ).fetchone()[0]
        records_before = con.execute("SELECT count(*) FROM linkage.records").fetchone()[0]
        survivors_before = con.execute("SELECT count(*) FROM core.survivors").fetchone()[0]
    survivors_published, episodes_published = _analyst_counts(world)
    secrets = _encodings_of(world, token)

    written = write_withdrawal(
        source_type="shelter",
        agency_id="shelter-a",
        secret=SECRET,
        key_id=TEST_KEY_ID,
        record_ids=[record_id],
        out_dir=world.inbox / "shelter" / "shelter-a",
        signing_key=signing_key_for("shelter-a"),
    )
    summary = run_pipeline(world.resources)
    print(summary.line())
    assert summary.withdrawals_applied == 1 and summary.records_erased == 1
    assert not summary.failed_steps and summary.published

    _assert_gone_everywhere(world, token)
    _assert_gone_from_inbox(world, secrets)
    with world.connect() as con:
        assert con.execute("SELECT count(*) FROM linkage.records").fetchone()[0] == (
            records_before - 1
        )
        # The person is still known through the OCMC record, under a survivor id.
        assert (
            con.execute(
                "SELECT count(*) FROM linkage.memberships WHERE record_token = ?", [other_token]
            ).fetchone()[0]
            == 1
        )
        assert con.execute("SELECT count(*) FROM core.survivors").fetchone()[0] == (
            survivors_before
        )
        receipt = con.execute(
            "SELECT status, tokens_received, records_erased, tokens_not_found "
            "FROM ops.withdrawals WHERE batch_id = ?",
            [written.batch_id],
        ).fetchone()
        events = read_events(con)
        id_events = dict(
            con.execute(
                "SELECT event, count(*) FROM linkage.id_changes WHERE survivor_id = ? "
                "GROUP BY event",
                [survivor],
            ).fetchall()
        )
    assert receipt == ("applied", 1, 1, 0)
    withdrawal = [e for e in events if e.action == "withdrawal" and e.object == written.batch_id]
    assert len(withdrawal) == 1 and withdrawal[0].detail["records_erased"] == 1
    # The publication that follows the withdrawal is audited after it.
    assert any(e.action == "publication" and e.event_id > withdrawal[0].event_id for e in events)
    assert "member_removed" in id_events or "split" in id_events or "retired" in id_events
    survivors_after, episodes_after = _analyst_counts(world)
    assert (survivors_after, episodes_after) == (survivors_published, episodes_published - 1)


def test_data_officer_withdraw_command_erases_a_singleton_and_audits_who(world: World) -> None:
    singles = sorted(p for p, seen in world.persons.items() if list(seen) == ["shelter-a"])
    _, token = world.persons[singles[0]]["shelter-a"]
    survivors_before, episodes_before = _analyst_counts(world)
    secrets = _encodings_of(world, token)
    assert any(len(secret) == 128 for secret in secrets)  # Bloom filters of this record only
    readers = sorted(world.publish_dir.glob("*.duckdb"))
    before = {path: path.read_bytes() for path in readers}
    result = _officer_withdraw(
        world, token, "--reason", "survivor_request", env={"PAHICHAN_INBOX": str(world.inbox)}
    )
    print(result.output)
    assert result.exit_code == 0, result.output
    assert "1 record(s) erased" in result.output
    assert "next scheduled publication" in result.output
    # Not re-published on its own: the files would differ by exactly this one person.
    assert {path: path.read_bytes() for path in readers} == before
    assert token not in result.output
    _assert_gone_everywhere(world, token)
    _assert_gone_from_inbox(world, secrets)
    with world.connect() as con:
        (event,) = [
            e for e in read_events(con) if e.action == "withdrawal" and e.actor == "officer-asha"
        ]
    assert event.detail["reason"] == "survivor_request" and event.detail["records_erased"] == 1
    assert event.object in result.output  # the reference the officer files
    assert _analyst_counts(world) == (survivors_before, episodes_before)
    # The next scheduled publication (here `pahichan run` with nothing new) folds it in.
    assert run_pipeline(world.resources).published
    assert _analyst_counts(world) == (survivors_before - 1, episodes_before - 1)

    again = _officer_withdraw(world, token, "--inbox", str(world.inbox))
    assert again.exit_code != 0 and "nothing was changed" in again.output
    # Without an inbox the command refuses to start: the inbox copies must go too.
    no_inbox = _officer_withdraw(world, token, "--inbox", str(world.root / "none"))
    assert no_inbox.exit_code != 0 and "pass --inbox" in no_inbox.output


def test_withdraw_command_refuses_a_malformed_token_without_traceback(world: World) -> None:
    result = CliRunner().invoke(
        withdraw,
        ["--record-token", "Sita Tamang", "--warehouse", str(world.warehouse), "--by", "x"],
    )
    assert result.exit_code == 2 and "not record tokens" in result.output
    assert "Traceback" not in result.output


def test_forged_foreign_replayed_and_altered_withdrawals_erase_nothing(world: World) -> None:
    """Withdrawal abuse: an agency erasing another's records (as itself, or in the other's
    name), a replay, an altered file."""
    person = _person_seen_by_both(world, 1)
    shelter_record, shelter_token = world.persons[person]["shelter-a"]
    ocmc_record, ocmc_token = world.persons[person]["ocmc-b"]
    # 1. ocmc-b holds the shared secret and knows shelter-a's record id: it can compute the
    #    token, but the warehouse knows the token came from shelter-a.
    forged_token = encoder_for(SECRET).record_token("shelter-a", shelter_record)
    assert forged_token == shelter_token
    folder = world.inbox / "ocmc" / "ocmc-b"
    foreign = write_withdrawal(
        source_type="ocmc",
        agency_id="ocmc-b",
        secret=SECRET,
        key_id=TEST_KEY_ID,
        record_ids=[ocmc_record],
        out_dir=folder,
        signing_key=signing_key_for("ocmc-b"),
    )
    # Replace the token by shelter-a's (re-hash so only the ownership check can object).
    import hashlib

    import pyarrow as pa

    from linkage.encoding.batch import parquet_bytes

    data = parquet_bytes(pa.table({"record_token": [ocmc_token, shelter_token]}))
    foreign.data.write_bytes(data)
    # ocmc-b signs its own manifest (it holds its key): only the ownership check can object.
    digest = hashlib.sha256(data).hexdigest()
    resign_manifest(foreign.manifest, lambda m: m.update(sha256=digest, row_count=2))
    # 2. An altered withdrawal (sha256 no longer matches) from shelter-a.
    altered = write_withdrawal(
        source_type="shelter",
        agency_id="shelter-a",
        secret=SECRET,
        key_id=TEST_KEY_ID,
        record_ids=[shelter_record],
        out_dir=world.inbox / "shelter" / "shelter-a",
        signing_key=signing_key_for("shelter-a"),
    )
    manifest = json.loads(altered.manifest.read_text())
    manifest["sha256"] = "0" * 64
    altered.manifest.write_text(json.dumps(manifest))
    # 3. ocmc-b writes a withdrawal in shelter-a's name, into shelter-a's folder: everything
    #    matches except the signature, which is ocmc-b's.
    impostor = write_withdrawal(
        source_type="shelter",
        agency_id="shelter-a",
        secret=SECRET,
        key_id=TEST_KEY_ID,
        record_ids=[shelter_record, "another-id"],
        out_dir=world.inbox / "shelter" / "shelter-a",
        signing_key=signing_key_for("ocmc-b"),
    )
    # 4. A replay of shelter-a's withdrawal (a copy kept in its outbox: the inbox keeps none
    #    once applied) under another agency folder name is refused too (manifest names
    #    shelter-a, signed by shelter-a).
    outbox = world.root / "outbox-shelter-a"
    replay = write_withdrawal(
        source_type="shelter",
        agency_id="shelter-a",
        secret=SECRET,
        key_id=TEST_KEY_ID,
        record_ids=[world.persons[_person_seen_by_both(world, 0)]["shelter-a"][0]],
        out_dir=outbox,
        signing_key=signing_key_for("shelter-a"),
    )
    for path in (replay.data, replay.manifest):
        shutil.copy(path, folder / path.name)
    replayed = 1

    summary = run_pipeline(world.resources)
    print(summary.line(), summary.rejected)
    assert summary.withdrawals_applied == 0
    assert summary.withdrawals_rejected == 3 + replayed
    reasons = dict(summary.rejected)
    assert "tokens_belong_to_agency" in " ".join(reasons.values())
    assert "sha256_matches_manifest" in " ".join(reasons.values())
    impostor_reason = next(r for path, r in reasons.items() if impostor.batch_id in path)
    assert impostor_reason.startswith("manifest_is_signed_by_agency")
    assert "signed with key" in impostor_reason
    with world.connect() as con:
        assert tokens_present(con, [shelter_token, ocmc_token]) == {shelter_token, ocmc_token}
        rejected = con.execute(
            "SELECT count(*) FROM ops.rejected_batches WHERE inbox_path LIKE '%.withdrawal.parquet'"
        ).fetchone()[0]
        audited = [
            e
            for e in read_events(con)
            if e.action == "withdrawal" and e.detail.get("status") == "rejected"
        ]
        assert verify_chain(con) == []
    assert rejected == 3 + replayed and len(audited) == 3 + replayed


def test_dagster_rebuild_job_applies_withdrawals_before_linking_and_publishing(
    world: World,
) -> None:
    """The data officer's route in the Dagster UI: the nightly `rebuild_and_publish` job
    applies a pending withdrawal batch and reports a rejected one on its WARN check."""
    import dagster as dg

    from pipelines.definitions import build_definitions

    person = _person_seen_by_both(world, 3)
    record_id, token = world.persons[person]["shelter-a"]
    survivors_published, _ = _analyst_counts(world)
    written = write_withdrawal(
        source_type="shelter",
        agency_id="shelter-a",
        secret=SECRET,
        key_id=TEST_KEY_ID,
        record_ids=[record_id],
        out_dir=world.inbox / "shelter" / "shelter-a",
        signing_key=signing_key_for("shelter-a"),
    )
    other_record, other_token = world.persons[_person_seen_by_both(world, 4)]["shelter-a"]
    impostor = write_withdrawal(
        source_type="shelter",
        agency_id="shelter-a",
        secret=SECRET,
        key_id=TEST_KEY_ID,
        record_ids=[other_record],
        out_dir=world.inbox / "shelter" / "shelter-a",
        signing_key=signing_key_for("ocmc-b"),
    )
    job = build_definitions(world.resources).resolve_job_def("rebuild_and_publish")
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral())
    assert result.success
    (materialization,) = [m for m in result.asset_materializations_for_node("ingest__withdrawals")]
    metadata = {k: v.value for k, v in materialization.metadata.items()}
    assert metadata["withdrawals_applied"] == 1 and metadata["records_erased"] == 1
    assert metadata["withdrawals_rejected"] == 1
    (check,) = [
        c
        for c in result.get_asset_check_evaluations()
        if c.check_name == "withdrawals_are_accepted"
    ]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert impostor.batch_id in check.metadata["rejections"].value
    assert written.batch_id not in check.metadata["rejections"].value
    _assert_gone_everywhere(world, token)
    with world.connect() as con:
        assert tokens_present(con, [other_token]) == {other_token}
        # The publication of a run started from Dagster is audited too.
        (published,) = [
            e for e in read_events(con) if e.action == "publication" and e.object == result.run_id
        ]
    assert published.actor == "pipeline" and published.detail["dagster_run_id"] == result.run_id
    assert _analyst_counts(world)[0] <= survivors_published


def _rebuild_from(world: World, inbox: Path, root: Path, model_json: str) -> tuple:
    """The recovery path: a new warehouse file under the same warehouse key, the agencies'
    keys registered again, then `pahichan run` over the inbox. Returns (resources, summary)."""
    resources = resources_from_env(
        {},
        inbox=str(inbox),
        warehouse=str(root / "warehouse" / "pahichan.duckdb"),
        publish_dir=str(root / "published"),
        warehouse_key_file=str(world.key_file),
    )
    seed_model(resources["warehouse"], model_json)
    return resources, run_pipeline(resources)


def test_erasures_survive_a_rebuild_from_the_redacted_inbox_and_forgeries_are_refused(
    world: World, tmp_path: Path, model_json: str
) -> None:
    """Point 5 of issue 15: after an agency withdrawal and an officer erasure, a warehouse
    rebuilt from the inbox accepts the redacted batches and holds neither record; a batch
    altered in the inbox with a forged redaction record is still refused."""
    person = _person_seen_by_both(world, 5)
    record_id, agency_token = world.persons[person]["shelter-a"]
    _, kept_token = world.persons[person]["ocmc-b"]
    singles = sorted(p for p, seen in world.persons.items() if list(seen) == ["shelter-a"])
    _, officer_token = world.persons[singles[1]]["shelter-a"]
    secrets = _encodings_of(world, agency_token) + _encodings_of(world, officer_token)
    write_withdrawal(
        source_type="shelter",
        agency_id="shelter-a",
        secret=SECRET,
        key_id=TEST_KEY_ID,
        record_ids=[record_id],
        out_dir=world.inbox / "shelter" / "shelter-a",
        signing_key=signing_key_for("shelter-a"),
    )
    # The officer's erasure, then the next run, which applies the pending withdrawal batch
    # and publishes both: the two routes in one publication.
    result = _officer_withdraw(world, officer_token, "--inbox", str(world.inbox))
    assert result.exit_code == 0, result.output
    run_pipeline(world.resources)
    with world.connect() as con:
        assert tokens_present(con, [agency_token, officer_token]) == set()
    _assert_gone_from_inbox(world, secrets)
    # The original warehouse's receipts follow the rewrite: nothing looks new to re-load.
    assert pending_batches(world.inbox, world.resources["warehouse"]) == []

    inbox = tmp_path / "inbox"
    shutil.copytree(world.inbox, inbox)
    resources, rebuilt = _rebuild_from(world, inbox, tmp_path / "rebuilt", model_json)
    print(rebuilt.line(), rebuilt.rejected)
    data_rejections = [r for r in rebuilt.rejected if not r[0].endswith(".withdrawal.parquet")]
    assert rebuilt.batches_accepted == 2 and data_rejections == []
    with resources["warehouse"].connect() as con:
        assert tokens_present(con, [agency_token, officer_token, kept_token]) == {kept_token}

    # An attacker with write access to the inbox adds a row to the redacted batch and
    # rewrites the redaction record to the new hash, with and without a guessed MAC key.
    import hashlib
    import hmac

    (batch,) = (inbox / "shelter" / "shelter-a").glob("shelter-a-*[0-9].parquet")
    (sidecar,) = (inbox / "shelter" / "shelter-a").glob("*.redactions.json")
    table = pq.read_table(batch)
    forged = pa.concat_tables([table, table.slice(0, 1)])
    from linkage.encoding.batch import parquet_bytes

    data = parquet_bytes(forged)
    genuine = sidecar.read_text()
    assert agency_token not in genuine and officer_token not in genuine
    fresh = resources_from_env(
        {},
        warehouse=str(tmp_path / "forged" / "pahichan.duckdb"),
        warehouse_key_file=str(world.key_file),
    )["warehouse"]
    for mac_key in ("stale", b"guess" * 8, "genuine record"):
        record = json.loads(genuine)
        if mac_key != "genuine record":
            record["redactions"][-1]["sha256"] = hashlib.sha256(data).hexdigest()
            record["redactions"][-1]["row_count"] = forged.num_rows
            record["redactions"][-1]["rows_removed"] -= 1
        if isinstance(mac_key, bytes):
            body = {k: v for k, v in record.items() if k != "mac"}
            record["mac"] = hmac.new(
                mac_key, json.dumps(body, sort_keys=True).encode(), "sha256"
            ).hexdigest()
        batch.write_bytes(data)
        sidecar.write_text(json.dumps(record))
        with fresh.connect() as con:
            register_test_agencies(con)
            (files,) = [f for f in find_batches(inbox) if f.data_path == batch]
            outcome = load_batch(
                con,
                files,
                configured_key_id=TEST_KEY_ID,
                run_id="forged",
                redaction_key=fresh.redaction_key(),
            )
        print(outcome.reason)
        assert outcome.status == "rejected" and outcome.rows_loaded == 0
        assert "sha256_matches_manifest" in outcome.reason
        assert "redaction record" in outcome.reason
