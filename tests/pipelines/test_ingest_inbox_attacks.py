"""Attacks on the inbox by someone who can write files there but holds no agency signing key
(issue 15, points 2-4). Each test is the attack; docs/threat-model.md lists them.

- a file swapped between the hash check and the parse (time of check, time of use);
- parquet "memory bombs": a few hundred KB that decode to millions of null rows;
- an agency key used for a source type it was not registered for;
- look-alike agency ids (trailing newline, whitespace, non-ASCII letters).
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from linkage.encoding.signing import sign_manifest
from pipelines.defs.ingest.inbox import find_batches
from pipelines.defs.ingest.load import load_batch
from tests.agency_signing import signing_key_for
from tests.pipelines.conftest import _loose_schema, make_rows, write_batch


def _load_all(con: duckdb.DuckDBPyConnection, inbox: Path) -> dict:
    return {
        files.inbox_path: load_batch(con, files, configured_key_id=None, run_id="attack")
        for files in find_batches(inbox)
    }


def _staged_tokens(con: duckdb.DuckDBPyConnection, table: str = "staging.shelter") -> set[str]:
    return {token for (token,) in con.execute(f"SELECT record_token FROM {table}").fetchall()}  # noqa: S608


def _swap_after_hashing(
    monkeypatch: pytest.MonkeyPatch, genuine: bytes, path: Path, forged: bytes
) -> list[bool]:
    """Replace the file at `path` by `forged` right after any code finishes hashing bytes
    equal to `genuine`: the worst moment for a reader that hashes and then reads again.
    Deterministic (no threads, no timing); returns a list that gets an entry when it swapped.
    """
    genuine_sha = hashlib.sha256(genuine).hexdigest()
    real_sha256 = hashlib.sha256
    swapped: list[bool] = []

    class SwapAfterHash:
        def __init__(self, *data: bytes, **kwargs: object) -> None:
            self._hash = real_sha256(*data, **kwargs)

        def update(self, data: bytes) -> None:
            self._hash.update(data)

        def digest(self) -> bytes:
            self._after()
            return self._hash.digest()

        def hexdigest(self) -> str:
            self._after()
            return self._hash.hexdigest()

        def _after(self) -> None:
            if not swapped and self._hash.hexdigest() == genuine_sha:
                path.write_bytes(forged)
                swapped.append(True)

    monkeypatch.setattr(hashlib, "sha256", SwapAfterHash)
    return swapped


def test_data_file_swapped_after_the_hash_check_is_never_loaded(
    con, inbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    genuine_rows, forged_rows = make_rows(10, seed=1), make_rows(10, seed=99)
    data_path, _ = write_batch(inbox, batch_id="raced", rows=genuine_rows)
    forged_path = tmp_path / "forged.parquet"
    pq.write_table(pa.Table.from_pylist(forged_rows, schema=_loose_schema()), forged_path)
    swapped = _swap_after_hashing(
        monkeypatch, data_path.read_bytes(), data_path, forged_path.read_bytes()
    )

    outcome = _load_all(con, inbox)["shelter/agency-a/raced.parquet"]

    assert swapped, "the hook never fired: the test did not exercise the race"
    forged_tokens = {row["record_token"] for row in forged_rows}
    assert not _staged_tokens(con) & forged_tokens, "forged rows loaded under a valid signature"
    # What was verified is what is loaded: the genuine rows, read once, before the swap.
    assert outcome.status == "accepted", outcome.reason
    assert _staged_tokens(con) == {row["record_token"] for row in genuine_rows}


def _withdrawal(inbox: Path, tokens: list[str], batch_id: str = "agency-a-wd-1") -> Path:
    folder = inbox / "shelter" / "agency-a"
    folder.mkdir(parents=True, exist_ok=True)
    data_path = folder / f"{batch_id}.withdrawal.parquet"
    pq.write_table(pa.table({"record_token": pa.array(tokens, pa.string())}), data_path)
    manifest = {
        "batch_id": batch_id,
        "kind": "withdrawal",
        "contract_version": "1",
        "encoding_version": "pahichan-enc-1",
        "source_type": "shelter",
        "agency_id": "agency-a",
        "key_id": "pk1-0123456789abcdef",
        "row_count": len(tokens),
        "rejected_count": 0,
        "data_file": data_path.name,
        "sha256": hashlib.sha256(data_path.read_bytes()).hexdigest(),
        "created_at": "2024-11-02T00:00:00+00:00",
    }
    signed = sign_manifest(manifest, signing_key_for("agency-a"))
    (folder / f"{batch_id}.manifest.json").write_text(json.dumps(signed), encoding="utf-8")
    return data_path


def test_withdrawal_file_swapped_after_the_hash_check_erases_only_what_was_signed(
    con, inbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipelines.defs.ingest.withdrawals import apply_withdrawal, find_withdrawals

    rows = make_rows(4, seed=7)
    write_batch(inbox, batch_id="records", rows=rows)
    assert _load_all(con, inbox)["shelter/agency-a/records.parquet"].status == "accepted"
    asked, others = rows[0]["record_token"], {row["record_token"] for row in rows[1:]}
    data_path = _withdrawal(inbox, [asked])
    forged_path = tmp_path / "forged.withdrawal.parquet"
    pq.write_table(pa.table({"record_token": pa.array(sorted(others), pa.string())}), forged_path)
    swapped = _swap_after_hashing(
        monkeypatch, data_path.read_bytes(), data_path, forged_path.read_bytes()
    )

    (files,) = find_withdrawals(inbox)
    apply_withdrawal(con, files, configured_key_id=None, run_id="attack")

    assert swapped, "the hook never fired: the test did not exercise the race"
    assert _staged_tokens(con) == others, "records nobody asked to withdraw were erased"


def _null_bomb(inbox: Path, *, agency_id: str, rows: int, sign: bool, batch_id: str) -> Path:
    """A parquet of `rows` all-null rows in the encoder's schema (a few hundred KB: runs of
    nulls compress to almost nothing, but each null Bloom filter still takes its 128 bytes
    once decoded) and its manifest, signed by the agency or unsigned."""
    from linkage.encoding.schema import BATCH_SCHEMA

    folder = inbox / "shelter" / agency_id
    folder.mkdir(parents=True, exist_ok=True)
    schema = pa.schema([field.with_nullable(True) for field in BATCH_SCHEMA])
    data_path = folder / f"{batch_id}.parquet"
    # Written in slices, so the test itself does not hold the decoded bomb in memory.
    step = 250_000
    with pq.ParquetWriter(data_path, schema) as writer:
        for start in range(0, rows, step):
            count = min(step, rows - start)
            writer.write_table(
                pa.table({field.name: pa.nulls(count, field.type) for field in schema}, schema)
            )
    manifest = {
        "batch_id": batch_id,
        "contract_version": "1",
        "encoding_version": "pahichan-enc-1",
        "source_type": "shelter",
        "agency_id": agency_id,
        "key_id": "pk1-0123456789abcdef",
        "row_count": rows,
        "rejected_count": 0,
        "data_file": data_path.name,
        "sha256": hashlib.sha256(data_path.read_bytes()).hexdigest(),
        "created_at": "2024-11-01T00:00:00+00:00",
    }
    if sign:
        manifest = sign_manifest(manifest, signing_key_for(agency_id))
    (folder / f"{batch_id}.manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return data_path


def test_unsigned_bomb_from_an_unregistered_agency_is_rejected_unread(
    con, inbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_path = _null_bomb(inbox, agency_id="nobody", rows=3_000_000, sign=False, batch_id="bomb")
    assert data_path.stat().st_size < 2_000_000
    parsed: list[object] = []
    # Anything that would decode the file counts as reading it.
    for name in ("read_table", "read_metadata", "ParquetFile"):
        real = getattr(pq, name)
        monkeypatch.setattr(pq, name, lambda *a, _r=real, **k: parsed.append(a) or _r(*a, **k))

    started = time.perf_counter()
    outcome = _load_all(con, inbox)["shelter/nobody/bomb.parquet"]
    seconds = time.perf_counter() - started

    assert outcome.status == "rejected"
    assert parsed == [], "an unsigned file from an unregistered agency was parsed"
    assert "pahichan agency-key register" in outcome.reason
    assert seconds < 10, f"rejecting took {seconds:.1f} s"
    assert con.execute("SELECT count(*) FROM ops.quarantine").fetchone()[0] == 0


def test_signed_bomb_is_rejected_quickly_without_a_quarantine_flood(con, inbox: Path) -> None:
    _null_bomb(inbox, agency_id="agency-a", rows=1_000_000, sign=True, batch_id="signed-bomb")
    started = time.perf_counter()
    outcome = _load_all(con, inbox)["shelter/agency-a/signed-bomb.parquet"]
    seconds = time.perf_counter() - started

    assert outcome.status == "rejected"
    assert "quarantine_is_within_limits" in outcome.inspection.failed_checks
    assert "PAHICHAN_MAX_QUARANTINE" in outcome.reason
    assert con.execute("SELECT count(*) FROM ops.quarantine").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM staging.shelter").fetchone()[0] == 0
    (reason,) = con.execute(
        "SELECT reason FROM ops.rejected_batches WHERE batch_id = 'signed-bomb'"
    ).fetchone()
    assert "quarantine" in reason
    assert seconds < 20, f"rejecting took {seconds:.1f} s"


def test_key_of_a_shelter_cannot_file_a_batch_as_ocmc(con, inbox: Path) -> None:
    from pipelines.defs.ingest.agency_keys import register_agency_key

    key = signing_key_for("shelter-07").private_key.public_key()
    register_agency_key(
        con, agency_id="shelter-07", registered_by="asha", source_types=["shelter"], public_key=key
    )
    write_batch(inbox, source_type="ocmc", agency_id="shelter-07", batch_id="as-ocmc", seed=3)
    write_batch(inbox, source_type="shelter", agency_id="shelter-07", batch_id="as-shelter", seed=4)

    outcomes = _load_all(con, inbox)

    ocmc = outcomes["ocmc/shelter-07/as-ocmc.parquet"]
    assert ocmc.status == "rejected"
    assert ocmc.inspection.failed_checks == ["source_type_is_registered_for_agency"]
    assert "shelter-07 is registered to send shelter" in ocmc.reason
    assert "--source-type ocmc" in ocmc.reason
    assert con.execute("SELECT count(*) FROM staging.ocmc").fetchone()[0] == 0
    assert outcomes["shelter/shelter-07/as-shelter.parquet"].status == "accepted"


def test_registration_without_source_types_is_refused_until_re_registered(con, inbox: Path) -> None:
    from pipelines.defs.ingest.agency_keys import register_agency_key

    public_key = signing_key_for("shelter-08").private_key.public_key()
    register_agency_key(
        con,
        agency_id="shelter-08",
        registered_by="asha",
        source_types=["shelter"],
        public_key=public_key,
    )
    # A registration made before source types were recorded (migrated warehouse).
    con.execute("UPDATE ops.agency_keys SET source_types = NULL WHERE agency_id = 'shelter-08'")
    write_batch(inbox, agency_id="shelter-08", batch_id="legacy", seed=5)
    outcome = _load_all(con, inbox)["shelter/shelter-08/legacy.parquet"]
    assert outcome.status == "rejected"
    assert "registered before source types were recorded" in outcome.reason
    assert "pahichan agency-key register --agency shelter-08" in outcome.reason

    again = register_agency_key(
        con,
        agency_id="shelter-08",
        registered_by="asha",
        source_types=["shelter"],
        public_key=public_key,
    )
    assert not again.already_active  # the source types changed: recorded and audited
    con.execute("DELETE FROM ops.batches; DELETE FROM ops.rejected_batches")
    assert _load_all(con, inbox)["shelter/shelter-08/legacy.parquet"].status == "accepted"


LOOK_ALIKES = [
    "agency-a\n",  # `$` matches before a trailing newline
    "agency-a ",
    " agency-a",
    "agency\ta",
    "\u0430gency-a",  # Cyrillic a
    "agency\u2010a",  # Unicode hyphen
    "\uff41gency-a",  # full-width a
    "agency-a\u200b",  # zero-width space
]


@pytest.mark.parametrize("agency_id", LOOK_ALIKES, ids=repr)
def test_look_alike_agency_ids_are_refused_everywhere(
    agency_id: str, con, inbox: Path, tmp_path: Path
) -> None:
    from linkage.encoding.batch import is_agency_id
    from pipelines.commands.agency_key import agency_key
    from pipelines.defs.ingest.agency_keys import register_agency_key

    assert not is_agency_id(agency_id)
    public_key = signing_key_for(agency_id).private_key.public_key()
    with pytest.raises(ValueError, match="agency id"):
        register_agency_key(
            con,
            agency_id=agency_id,
            registered_by="asha",
            source_types=["shelter"],
            public_key=public_key,
        )

    public_path = tmp_path / "look-alike.pub.pem"
    from cryptography.hazmat.primitives import serialization

    public_path.write_bytes(
        public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    result = CliRunner().invoke(
        agency_key,
        [
            "register",
            "--agency",
            agency_id,
            "--public-key",
            str(public_path),
            "--by",
            "asha",
            "--source-type",
            "shelter",
            "--warehouse",
            str(tmp_path / "w" / "pahichan.duckdb"),
        ],
    )
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "--agency" in result.output

    # At ingest too, even if such a row reached the registry some other way.
    con.execute(
        "INSERT INTO ops.agency_keys SELECT ?, signing_key_id || '-x', public_key, "
        "registered_by, registered_at, NULL, source_types FROM ops.agency_keys "
        "WHERE agency_id = 'agency-a'",
        [agency_id],
    )
    con.execute(
        "UPDATE ops.agency_keys SET public_key = ?, signing_key_id = ? WHERE agency_id = ?",
        [bytes(public_key.public_bytes_raw()), signing_key_for(agency_id).key_id, agency_id],
    )
    write_batch(inbox, agency_id=agency_id, batch_id="look-alike", seed=8)
    (outcome,) = _load_all(con, inbox).values()
    assert outcome.status == "rejected"
    assert "not a valid agency id" in outcome.reason
    assert con.execute("SELECT count(*) FROM staging.shelter").fetchone()[0] == 0


RSS_LIMIT = 1_500_000_000


@pytest.mark.slow
@pytest.mark.parametrize("signed", [False, True], ids=["unsigned-3e6", "signed-1e6"])
def test_pahichan_run_on_a_bomb_stays_under_1_5_gb(signed: bool, tmp_path: Path) -> None:
    """`pahichan run` in a subprocess on a bomb inbox: peak RSS (the process and its children,
    sampled every 50 ms) stays under 1.5 GB. Killed as soon as it passes, so the attack on an
    unfixed ingest fails fast instead of taking the machine's memory."""
    import os
    import subprocess
    import sys

    import psutil

    from pipelines.defs.ingest.agency_keys import register_agency_key

    inbox, warehouse = tmp_path / "inbox", tmp_path / "warehouse" / "pahichan.duckdb"
    if signed:
        _null_bomb(inbox, agency_id="agency-a", rows=1_000_000, sign=True, batch_id="bomb")
        warehouse.parent.mkdir(parents=True)
        with duckdb.connect(str(warehouse)) as con:
            key = signing_key_for("agency-a").private_key.public_key()
            register_agency_key(
                con,
                agency_id="agency-a",
                registered_by="tests",
                source_types=["shelter"],
                public_key=key,
            )
    else:
        _null_bomb(inbox, agency_id="nobody", rows=3_000_000, sign=False, batch_id="bomb")
    env = {key: value for key, value in os.environ.items() if not key.startswith("PAHICHAN_")}
    command = [
        sys.executable,
        "-c",
        "from pipelines.cli import main; main()",
        "run",
        "--inbox",
        str(inbox),
        "--warehouse",
        str(warehouse),
    ]
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    watched = psutil.Process(process.pid)
    peak = 0
    while process.poll() is None:
        try:
            rss = sum(p.memory_info().rss for p in [watched, *watched.children(recursive=True)])
        except psutil.NoSuchProcess:
            rss = 0
        peak = max(peak, rss)
        if peak > RSS_LIMIT or time.perf_counter() - started > 300:
            process.kill()
            break
        time.sleep(0.05)
    out, err = process.communicate()
    seconds = time.perf_counter() - started
    print(
        f"pahichan run on the {'signed' if signed else 'unsigned'} bomb: peak RSS "
        f"{peak / 1e6:.0f} MB, {seconds:.1f} s"
    )
    assert peak < RSS_LIMIT, f"peak RSS {peak / 1e6:.0f} MB"
    assert process.returncode == 0, err.decode()[-2000:]
    assert "1 rejected" in out.decode()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM ops.quarantine").fetchone()[0] == 0


def test_links_fifos_and_linked_folders_in_the_inbox_are_never_read(
    con, inbox: Path, tmp_path: Path
) -> None:
    """A link can point anywhere on the machine (a file outside the inbox, `/dev/zero`, read
    forever); a FIFO blocks its reader. None is listed, hashed or loaded."""
    import os

    from pipelines.defs.ingest.inbox import InboxFileError, file_sha256

    outside = tmp_path / "outside"
    data_path, manifest_path = write_batch(outside, batch_id="elsewhere", seed=11)
    folder = inbox / "shelter" / "agency-a"
    folder.mkdir(parents=True)
    # A data file that is a link to a genuine, signed batch outside the inbox.
    (folder / "elsewhere.parquet").symlink_to(data_path)
    (folder / "elsewhere.manifest.json").symlink_to(manifest_path)
    # A data file that is a link to an endless device, and one that is a FIFO.
    (folder / "zero.parquet").symlink_to("/dev/zero")
    (folder / "zero.manifest.json").write_text("{}")
    os.mkfifo(folder / "fifo.parquet")
    (folder / "fifo.manifest.json").write_text("{}")
    # An agency folder that is a link to another folder.
    (inbox / "ocmc").mkdir()
    (inbox / "ocmc" / "agency-a").symlink_to(data_path.parent)

    assert find_batches(inbox) == []
    for name in ("zero.parquet", "fifo.parquet", "elsewhere.parquet"):
        with pytest.raises(InboxFileError):
            file_sha256(folder / name)

    # A link put in place after the listing (a race) is refused when the file is opened.
    write_batch(inbox, batch_id="swapped", seed=12)
    (batch,) = find_batches(inbox)
    batch.data_path.unlink()
    batch.data_path.symlink_to(data_path)
    with pytest.raises(InboxFileError, match="symbolic link"):
        load_batch(con, batch, configured_key_id=None, run_id="attack")
    assert con.execute("SELECT count(*) FROM staging.shelter").fetchone()[0] == 0


def test_oversized_or_overlong_batches_are_rejected_before_decoding(con, inbox: Path) -> None:
    from pipelines.defs.ingest.limits import IngestLimits

    write_batch(inbox, batch_id="big", count=30, seed=13)
    small = IngestLimits(max_batch_bytes=2_000)
    outcome = load_batch(
        con, find_batches(inbox)[0], configured_key_id=None, run_id="t", limits=small
    )
    assert outcome.status == "rejected"
    assert outcome.inspection.failed_checks == ["batch_is_within_limits"]
    assert "PAHICHAN_MAX_BATCH_BYTES" in outcome.reason and "split the export" in outcome.reason
    assert outcome.inspection.table is None

    few_rows = IngestLimits(max_batch_rows=10)
    outcome = load_batch(
        con, find_batches(inbox)[0], configured_key_id=None, run_id="t", limits=few_rows
    )
    assert outcome.inspection.failed_checks == ["batch_is_within_limits"]
    assert "announces 30 rows" in outcome.reason and "PAHICHAN_MAX_BATCH_ROWS" in outcome.reason
    (reason,) = con.execute(
        "SELECT reason FROM ops.rejected_batches WHERE batch_id = 'big'"
    ).fetchone()
    assert "PAHICHAN_MAX_BATCH_ROWS" in reason


def test_limits_come_from_pahichan_settings() -> None:
    from pipelines.defs.ingest.limits import DEFAULT_LIMITS
    from pipelines.resources import resources_from_env

    settings = resources_from_env(
        {
            "PAHICHAN_MAX_BATCH_BYTES": "1_000_000",
            "PAHICHAN_MAX_BATCH_ROWS": "5000",
            "PAHICHAN_MAX_QUARANTINE_ROWS": "50",
            "PAHICHAN_MAX_QUARANTINE_SHARE": "0.2",
        }
    )["settings"]
    limits = settings.ingest_limits()
    assert (limits.max_batch_bytes, limits.max_batch_rows) == (1_000_000, 5000)
    assert (limits.max_quarantine_rows, limits.max_quarantine_share) == (50, 0.2)
    assert resources_from_env({})["settings"].ingest_limits() == DEFAULT_LIMITS
    with pytest.raises(ValueError, match="PAHICHAN_MAX_BATCH_ROWS"):
        resources_from_env({"PAHICHAN_MAX_BATCH_ROWS": "lots"})
    assert limits.quarantine_problem(51, 10_000) and not limits.quarantine_problem(50, 10_000)
    assert limits.quarantine_problem(30, 100) is None  # below the floor the share applies from
    assert "PAHICHAN_MAX_QUARANTINE_SHARE" in DEFAULT_LIMITS.quarantine_problem(600, 1000)
