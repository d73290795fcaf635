"""Contract 1.2 consent scope at the agency: services_only rows never leave, the rest carry it.

A services_only row must not be in the batch file in any form (no record token, no filter,
no attribute), must be counted in the signed manifest, and must be named in the agency's
own rejects file (which stays at the agency) as withheld, not as an error.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from linkage.encoding import encode_frame
from linkage.encoding.batch import WITHHELD_REASON, pseudonymise_file
from linkage.encoding.keyed import encoder_for
from linkage.encoding.keys import read_key, write_key
from linkage.encoding.signing import signature_is_valid
from tests.agency_signing import signing_key_for

from .extract_factory import clear_extract, write_csv


def _pseudonymise(tmp_path: Path, secret: bytes, frame: pd.DataFrame):  # type: ignore[no-untyped-def]
    export = tmp_path / "export.csv"
    write_csv(frame, export)
    key_path = tmp_path / "k.key"
    write_key(key_path, secret)
    key = read_key(key_path)
    return pseudonymise_file(
        source_type="shelter",
        agency_id="sh-9",
        secret=key.secret,
        key_id=key.key_id,
        input_path=export,
        out_dir=tmp_path / "out",
        crosswalk_dir=tmp_path / "keep",
        signing_key=signing_key_for("sh-9"),
    )


def test_services_only_rows_never_reach_the_batch_and_are_counted(
    tmp_path: Path, secret: bytes
) -> None:
    frame = clear_extract(rows=30)
    scopes = [""] * 30
    for index in (2, 7, 11):
        scopes[index] = "services_only"
    scopes[12] = "Services only"  # the English label is accepted too
    scopes[5] = "statistics_only"
    scopes[6] = "linkage_and_statistics"
    frame["consent_scope"] = scopes
    withheld_ids = [frame["record_id"][i] for i in (2, 7, 11, 12)]

    written = _pseudonymise(tmp_path, secret, frame)

    assert (written.row_count, written.rejected_count, written.withheld_count) == (26, 0, 4)
    table = pq.read_table(written.parquet)
    assert table.num_rows == 26
    # Not in the batch in any form: neither its record token nor its source row.
    encoder = encoder_for(secret)
    withheld_tokens = {encoder.record_token("sh-9", record_id) for record_id in withheld_ids}
    assert withheld_tokens.isdisjoint(table.column("record_token").to_pylist())
    assert {3, 8, 12, 13}.isdisjoint(table.column("source_row").to_pylist())
    sent = written.parquet.read_bytes() + written.manifest.read_bytes()
    assert not [token for token in withheld_tokens if token.encode() in sent]
    # The other rows carry their scope; an empty cell is the default.
    by_row = dict(
        zip(
            table.column("source_row").to_pylist(),
            table.column("consent_scope").to_pylist(),
            strict=True,
        )
    )
    assert by_row[6] == "statistics_only" and by_row[7] == "linkage_and_statistics"
    assert by_row[1] == "linkage_and_statistics"
    assert sum(scope == "statistics_only" for scope in by_row.values()) == 1
    # The manifest counts them (only a count) and stays signed.
    manifest = json.loads(written.manifest.read_text())
    assert manifest["rows_withheld_services_only"] == 4
    assert manifest["row_count"] == 26 and manifest["rejected_count"] == 0
    assert signature_is_valid(manifest, signing_key_for("sh-9").private_key.public_key())
    # The agency's own files say so: not in the crosswalk, named in the rejects as withheld.
    crosswalk = list(csv.DictReader(written.crosswalk.open(encoding="utf-8")))
    assert {row["record_id"] for row in crosswalk}.isdisjoint(withheld_ids)
    assert len(crosswalk) == 26
    rejects = list(csv.DictReader(written.rejects.open(encoding="utf-8")))
    assert [(r["row"], r["column"], r["reason"], r["record_id"]) for r in rejects] == [
        (str(i + 1), "consent_scope", WITHHELD_REASON, frame["record_id"][i])
        for i in (2, 7, 11, 12)
    ]


def test_a_services_only_row_is_withheld_even_when_it_has_other_problems(secret: bytes) -> None:
    frame = clear_extract(rows=4)
    frame["consent_scope"] = ["services_only", "", "", ""]
    frame.loc[0, "contact_date"] = "not a date"
    batch = encode_frame(frame, secret=secret, agency_id="a", source_type="ocmc")
    assert batch.table.num_rows == 3
    assert batch.rejects == []  # nothing to fix and re-send: the row stays at the agency
    assert batch.withheld == [(1, frame["record_id"][0])]


def test_an_unknown_scope_rejects_the_row_and_is_never_widened(secret: bytes) -> None:
    frame = clear_extract(rows=3)
    frame["consent_scope"] = ["", "stats only please", "statistics"]
    batch = encode_frame(frame, secret=secret, agency_id="a", source_type="ocmc")
    assert batch.table.column("source_row").to_pylist() == [1]
    assert {(r.row, r.column) for r in batch.rejects} == {
        (2, "consent_scope"),
        (3, "consent_scope"),
    }
    assert all("unknown consent_scope" in r.reason for r in batch.rejects)
    assert batch.withheld == []


def test_an_export_without_the_column_is_sent_as_before(secret: bytes) -> None:
    frame = clear_extract(rows=10)
    assert "consent_scope" not in frame.columns
    batch = encode_frame(frame, secret=secret, agency_id="a", source_type="ocmc")
    assert batch.table.num_rows == 10 and batch.withheld == []
    assert set(batch.table.column("consent_scope").to_pylist()) == {"linkage_and_statistics"}
