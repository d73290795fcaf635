"""Contract 1.1: record_kind and reintegration answers cross the boundary; bad ones are rejected."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from linkage.encoding import encode_frame
from linkage.encoding.batch import UnusableInput, pseudonymise_file, read_export
from linkage.encoding.keys import read_key, write_key
from linkage.encoding.schema import BATCH_SCHEMA, FOLLOWUP_COLUMNS
from schemas.contract import followup_columns
from tests.agency_signing import signing_key_for

from .extract_factory import clear_extract, write_csv


def _base(record_id: str, **extra: str) -> dict[str, str]:
    return {
        "record_id": record_id,
        "given_name": "Sita",
        "family_name": "Tamang",
        "contact_date": "2024-05-01",
        **extra,
    }


def test_batch_schema_has_kind_and_every_indicator_column() -> None:
    assert followup_columns() == FOLLOWUP_COLUMNS
    assert len(FOLLOWUP_COLUMNS) == 14
    for column in ("record_kind", *FOLLOWUP_COLUMNS):
        assert BATCH_SCHEMA.field(column).type == "string"
    assert BATCH_SCHEMA.metadata[b"contract_version"] == b"1.2"  # consent_scope


def test_followup_answers_are_canonical_and_episodes_have_none(secret: bytes) -> None:
    frame = pd.DataFrame(
        [
            _base("1"),  # no record_kind column value: episode
            _base("2", record_kind="followup", ri_income="good", ri_work="हो", ri_stress="3"),
            _base("3", record_kind="Follow-up", ri_wellbeing="धेरै राम्रो", ri_debt="4"),
            _base("4", record_kind="episode"),
        ]
    )
    batch = encode_frame(frame, secret=secret, agency_id="mg-1", source_type="migration")
    assert batch.rejects == []
    rows = {r["source_row"]: r for r in batch.table.to_pylist()}
    assert [rows[i]["record_kind"] for i in (1, 2, 3, 4)] == [
        "episode",
        "followup",
        "followup",
        "episode",
    ]
    assert (rows[2]["ri_income"], rows[2]["ri_work"], rows[2]["ri_stress"]) == ("4", "yes", "3")
    assert (rows[3]["ri_wellbeing"], rows[3]["ri_debt"]) == ("5", "4")
    assert rows[2]["ri_safety"] is None
    for index in (1, 4):
        assert all(rows[index][c] is None for c in FOLLOWUP_COLUMNS)


@pytest.mark.parametrize(
    ("row", "column", "fragment"),
    [
        (_base("1", record_kind="visit-ish"), "record_kind", "is not episode or followup"),
        (_base("1", record_kind="episode", ri_income="4"), "record_kind", "on an episode row"),
        (_base("1", ri_work="yes"), "record_kind", "on an episode row"),  # kind empty = episode
        (_base("1", record_kind="followup", ri_income="7"), "ri_income", "not on scale"),
        (_base("1", record_kind="followup", ri_work="1"), "ri_work", "not on scale"),
    ],
)
def test_bad_kind_or_answers_reject_the_row(
    secret: bytes, row: dict[str, str], column: str, fragment: str
) -> None:
    frame = pd.DataFrame([_base("ok"), row])
    batch = encode_frame(frame, secret=secret, agency_id="sh-1", source_type="shelter")
    assert batch.table.num_rows == 1 and batch.table.column("source_row").to_pylist() == [1]
    assert [(r.row, r.column) for r in batch.rejects] == [(2, column)]
    assert fragment in batch.rejects[0].reason


def _pseudonymise(tmp_path: Path, secret: bytes, export: Path, mapping: Path | None):  # type: ignore[no-untyped-def]
    key_path = tmp_path / "k.key"
    if not key_path.exists():
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
        mapping_path=mapping,
        signing_key=signing_key_for("sh-9"),
    )


def test_mapping_file_maps_agency_headers_to_canonical_columns(
    tmp_path: Path, secret: bytes
) -> None:
    frame = clear_extract(rows=4)
    frame["record_kind"] = ["", "followup", "followup", "episode"]
    frame["ri_income"] = ["", "good", "poor", ""]
    frame = frame.rename(
        columns={
            "record_id": "Darta No",
            "contact_date": "Bhet Miti",
            "record_kind": "Visit type",
            "ri_income": "Income rating",
        }
    )
    export = tmp_path / "export.csv"
    write_csv(frame, export)
    mapping = tmp_path / "cols.yaml"
    mapping.write_text(
        "# agency header: canonical column\n"
        "Darta No: record_id\nBhet Miti: contact_date\n"
        "visit type: record_kind\n"  # matched loosely (case)
        "Income rating: ri_income\n",
        encoding="utf-8",
    )
    written = _pseudonymise(tmp_path, secret, export, mapping)
    assert (written.row_count, written.rejected_count) == (4, 0)
    table = pq.read_table(written.parquet)
    assert table.column("record_kind").to_pylist() == ["episode", "followup", "followup", "episode"]
    assert table.column("ri_income").to_pylist() == [None, "4", "2", None]
    manifest = json.loads(written.manifest.read_text())
    assert manifest["contract_version"] == "1.2"
    assert manifest["encoding_version"] == "pahichan-enc-4"


def test_mapping_written_the_wrong_way_round_is_refused(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    write_csv(clear_extract(rows=2).rename(columns={"record_id": "Darta No"}), export)
    mapping = tmp_path / "cols.yaml"
    mapping.write_text("record_id: Darta No\n", encoding="utf-8")  # canonical: header
    with pytest.raises(UnusableInput, match=r"unknown canonical column.*Darta No"):
        read_export(export, mapping)


def test_version_1_export_still_encodes_as_episodes(tmp_path: Path, secret: bytes) -> None:
    export = tmp_path / "export.csv"
    write_csv(clear_extract(rows=5), export)  # no record_kind, no ri_* columns
    written = _pseudonymise(tmp_path, secret, export, None)
    table = pq.read_table(written.parquet)
    assert set(table.column("record_kind").to_pylist()) == {"episode"}
    assert table.column("ri_wellbeing").null_count == 5
