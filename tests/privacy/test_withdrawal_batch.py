"""Agency side: `pahichan withdrawal` writes tokens equal to the encoder's, and no record id."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq
from click.testing import CliRunner

from linkage.encoding.cli import pseudonymise
from linkage.encoding.keys import new_secret, read_key, write_key
from linkage.encoding.withdrawal import WITHDRAWAL_SUFFIX, withdrawal_batch
from pipelines.defs.ingest.inbox import WITHDRAWAL_SUFFIX as INBOX_WITHDRAWAL_SUFFIX
from pipelines.defs.ingest.inbox import find_batches
from pipelines.defs.ingest.withdrawals import find_withdrawals
from tests.agency_signing import signing_key_file
from tests.encoding.extract_factory import clear_extract, write_csv


def _withdraw(tmp_path: Path, key: Path, ids: Path, out: Path):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(
        withdrawal_batch,
        [
            "--source-type",
            "shelter",
            "--agency",
            "shelter-07",
            "--key",
            str(key),
            "--record-ids",
            str(ids),
            "--out",
            str(out),
            "--signing-key",
            str(signing_key_file(tmp_path / "sign", "shelter-07")),
        ],
    )


def test_withdrawal_tokens_match_the_crosswalk_of_the_sent_batch(tmp_path: Path) -> None:
    key = tmp_path / "k.key"
    write_key(key, new_secret())
    export = tmp_path / "export.csv"
    write_csv(clear_extract(rows=12), export)
    inbox_folder = tmp_path / "inbox" / "shelter" / "shelter-07"
    sent = CliRunner().invoke(
        pseudonymise,
        [
            "--source-type",
            "shelter",
            "--agency",
            "shelter-07",
            "--key",
            str(key),
            "--in",
            str(export),
            "--out",
            str(inbox_folder),
            "--signing-key",
            str(signing_key_file(tmp_path / "sign", "shelter-07")),
        ],
    )
    assert sent.exit_code in (0, 3), sent.output
    (crosswalk,) = (tmp_path / "crosswalk").glob("*.crosswalk.csv")
    pairs = list(csv.DictReader(crosswalk.open(encoding="utf-8")))
    chosen = pairs[:3]
    ids = tmp_path / "withdrawn.csv"
    ids.write_text(
        "record_id,comment\n"
        + "".join(f"{p['record_id']},x\n" for p in chosen)
        + f"{chosen[0]['record_id']},again\n\n",
        encoding="utf-8",
    )

    result = _withdraw(tmp_path, key, ids, inbox_folder)
    assert result.exit_code == 0, result.output
    assert "3 record(s)" in result.output
    (data,) = inbox_folder.glob(f"*{WITHDRAWAL_SUFFIX}")
    assert pq.read_table(data).column("record_token").to_pylist() == [
        p["record_token"] for p in chosen
    ]
    manifest = json.loads(
        (inbox_folder / data.name.replace(WITHDRAWAL_SUFFIX, ".manifest.json")).read_text()
    )
    assert manifest["kind"] == "withdrawal" and manifest["row_count"] == 3
    assert manifest["key_id"] == read_key(key).key_id and manifest["agency_id"] == "shelter-07"
    assert manifest["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    # No record id crosses: neither in the data file nor in the manifest.
    sent_bytes = data.read_bytes() + json.dumps(manifest).encode()
    assert not [p for p in chosen if p["record_id"].encode() in sent_bytes]
    # The warehouse sees one data batch and one withdrawal, never a withdrawal as data.
    assert WITHDRAWAL_SUFFIX == INBOX_WITHDRAWAL_SUFFIX
    assert len(find_batches(tmp_path / "inbox")) == 1
    assert [w.batch_id for w in find_withdrawals(tmp_path / "inbox")] == [manifest["batch_id"]]
    # The same request gives the same batch id (a re-send is recognised as a duplicate).
    again = _withdraw(tmp_path, key, ids, tmp_path / "again")
    assert manifest["batch_id"] in again.output


def test_unusable_record_id_files_are_clear_errors(tmp_path: Path) -> None:
    key = tmp_path / "k.key"
    write_key(key, new_secret())
    cases = {
        "missing.txt": (None, "does not exist"),
        "empty.txt": (b"\n\n", "lists no record ids"),
        "control.txt": (b"R1\nR\x072\n", "line 2: control character"),
        "latin1.txt": (b"R\xe91\n", "not UTF-8"),
    }
    for name, (content, message) in cases.items():
        path = tmp_path / name
        if content is not None:
            path.write_bytes(content)
        result = _withdraw(tmp_path, key, path, tmp_path / "out")
        assert result.exit_code == 2, (name, result.output)
        assert message in result.output and "Traceback" not in result.output, name
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
