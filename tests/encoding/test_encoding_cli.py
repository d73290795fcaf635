"""`pahichan pseudonymise`: exit codes 0/3/2, rejects file, help texts (CliRunner)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

from linkage.encoding.cli import keys, pseudonymise
from linkage.encoding.keys import new_secret, write_key
from tests.agency_signing import signing_key_file

from .extract_factory import clear_extract, write_csv


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "k.key"
    write_key(path, new_secret())
    return path


def _invoke(tmp: Path, key_file: Path, export: Path, *extra: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(
        pseudonymise,
        [
            "--source-type",
            "shelter",
            "--agency",
            "shelter-07",
            "--key",
            str(key_file),
            "--in",
            str(export),
            "--out",
            str(tmp / "outbox"),
            "--signing-key",
            str(signing_key_file(tmp / "sign", "shelter-07")),
            *extra,
        ],
    )


def test_clean_export_exits_0(tmp_path: Path, key_file: Path) -> None:
    export = tmp_path / "export.csv"
    write_csv(clear_extract(rows=30), export)
    result = _invoke(tmp_path, key_file, export)
    assert result.exit_code == 0, result.output
    assert "30 rows encoded, 0 rows rejected" in result.output
    assert len(list((tmp_path / "outbox").glob("*.parquet"))) == 1
    assert len(list((tmp_path / "crosswalk").glob("*.crosswalk.csv"))) == 1  # next to --in
    assert not list((tmp_path / "outbox").glob("*.csv"))


def test_bad_rows_are_rejected_and_good_rows_kept(tmp_path: Path, key_file: Path) -> None:
    frame = clear_extract(rows=12)
    frame.loc[1, "date_of_birth"] = "1990-02-30"
    frame.loc[2, "district"] = "Atlantis"
    frame.loc[3, ["given_name", "family_name", "father_name"]] = ["", "", ""]
    frame.loc[4, "record_id"] = frame.loc[0, "record_id"]
    frame.loc[5, "given_name"] = "Si\x07ta"
    frame.loc[6, ["date_of_birth", "age"]] = ["", "250"]
    frame.loc[7, "contact_date"] = "yesterday"
    export = tmp_path / "export.csv"
    write_csv(frame, export)
    # Row 9 (index 8): bytes that are not UTF-8 in the family name.
    raw = export.read_bytes()
    target = frame.loc[8, "family_name"].encode("utf-8")
    line_start = raw.index(frame.loc[8, "record_id"].encode())
    at = raw.index(target, line_start)
    export.write_bytes(raw[:at] + b"\xe9\xff" + raw[at + len(target) :])

    result = _invoke(tmp_path, key_file, export)
    assert result.exit_code == 3, result.output
    assert "4 rows encoded, 8 rows rejected" in result.output
    assert "Traceback" not in result.output
    rejects_path = next((tmp_path / "crosswalk").glob("*.rejects.csv"))
    with rejects_path.open(encoding="utf-8") as handle:
        rejects = list(csv.DictReader(handle))
    assert list(rejects[0]) == ["row", "column", "reason", "record_id"]
    by_row = {(int(r["row"]), r["column"]): r["reason"] for r in rejects}
    assert "unparseable" in by_row[(2, "date_of_birth")]
    assert by_row[(3, "district")] == "unknown district"
    assert "no name" in by_row[(4, "given_name")]
    assert "duplicate" in by_row[(5, "record_id")]
    assert by_row[(6, "given_name")] == "control characters"
    assert "absurd age" in by_row[(7, "age")]
    assert "unparseable" in by_row[(8, "contact_date")]
    assert "undecodable" in by_row[(9, "family_name")]
    # The rejects file names rows, never a clear name or date of the input.
    text = rejects_path.read_text(encoding="utf-8")
    for column in ("given_name", "family_name", "date_of_birth", "phone"):
        for value in frame[column]:
            if value and len(value) >= 4:
                assert value not in text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"record_id,given_name\n1,Sita\n", "contact_date"),
        (b"record_id,contact_date,district\n1,2024-01-01,Jhapa\n", "given_name|family_name"),
        (b"", "empty"),
        ("record_id,given_name,contact_date\n".encode("utf-16"), "UTF-16"),
        (b"record_id,giv\xe9n_name,contact_date\n1,x,2024-01-01\n", "not UTF-8"),
    ],
)
def test_unusable_exports_exit_2(
    tmp_path: Path, key_file: Path, content: bytes, message: str
) -> None:
    export = tmp_path / "export.csv"
    export.write_bytes(content)
    result = _invoke(tmp_path, key_file, export)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "outbox").exists() or not list((tmp_path / "outbox").iterdir())


def test_missing_input_and_bad_key_exit_2(tmp_path: Path, key_file: Path) -> None:
    result = _invoke(tmp_path, key_file, tmp_path / "nope.csv")
    assert result.exit_code == 2 and "cannot read" in result.output
    bad_key = tmp_path / "bad.key"
    bad_key.write_text("not a key")
    export = tmp_path / "export.csv"
    write_csv(clear_extract(rows=3), export)
    result = _invoke(tmp_path, bad_key, export)
    assert result.exit_code == 2 and "key file" in result.output


def test_crosswalk_dir_inside_out_is_refused(tmp_path: Path, key_file: Path) -> None:
    export = tmp_path / "export.csv"
    write_csv(clear_extract(rows=3), export)
    result = _invoke(tmp_path, key_file, export, "--crosswalk-dir", str(tmp_path / "outbox/x"))
    assert result.exit_code == 2 and "outside --out" in result.output


def test_rerun_gives_same_batch_id(tmp_path: Path, key_file: Path) -> None:
    export = tmp_path / "export.csv"
    write_csv(clear_extract(rows=5), export)
    first = _invoke(tmp_path, key_file, export).output
    second = _invoke(tmp_path, key_file, export).output
    assert first.split(":")[0] == second.split(":")[0]  # "Batch <id>"


@pytest.mark.parametrize(
    ("command", "args"),
    [(pseudonymise, []), (keys, []), (keys, ["new"]), (keys, ["id"])],
)
def test_help_texts_have_examples(command, args: list[str]) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(command, [*args, "--help"])
    assert result.exit_code == 0
    assert "Example: pahichan" in result.output


def test_mapping_file_maps_agency_headers(tmp_path: Path, key_file: Path) -> None:
    frame = clear_extract(rows=6).rename(
        columns={
            "record_id": "Reg No",
            "given_name": "नाम",
            "contact_date": "Date of contact",
            "district": "Jilla",
        }
    )
    export = tmp_path / "export.csv"
    write_csv(frame, export)
    mapping = tmp_path / "cols.yaml"
    mapping.write_text(
        "Reg No: record_id\nनाम: given_name\nDate of contact: contact_date\nJilla: district\n",
        encoding="utf-8",
    )
    assert _invoke(tmp_path, key_file, export).exit_code == 2  # unmapped: required missing
    result = _invoke(tmp_path, key_file, export, "--mapping", str(mapping))
    assert result.exit_code == 0, result.output
    assert "6 rows encoded" in result.output


def test_mapping_to_unknown_column_exits_2(tmp_path: Path, key_file: Path) -> None:
    export = tmp_path / "export.csv"
    write_csv(clear_extract(rows=2), export)
    mapping = tmp_path / "cols.yaml"
    mapping.write_text("Reg No: record_number\n", encoding="utf-8")
    result = _invoke(tmp_path, key_file, export, "--mapping", str(mapping))
    assert result.exit_code == 2 and "record_number" in result.output


def test_headers_match_in_any_case(tmp_path: Path, key_file: Path) -> None:
    frame = clear_extract(rows=3).rename(
        columns={"record_id": "Record ID", "contact_date": "contact-date"}
    )
    export = tmp_path / "export.csv"
    write_csv(frame, export, bom=True)
    assert _invoke(tmp_path, key_file, export).exit_code == 0
