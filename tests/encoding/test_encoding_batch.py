"""Batch files: no clear identifier anywhere, determinism, key separation, contract columns."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import itertools
import json
import re
import unicodedata
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from linkage.encoding import encode_frame
from linkage.encoding.batch import pseudonymise_file
from linkage.encoding.bloom import BloomEncoder, dice
from linkage.encoding.identifiers import normalise_document_number, normalise_phone
from linkage.encoding.keyed import BIRTH_WINDOW_GRIDS, RecordEncoder
from linkage.encoding.keys import read_key, write_key
from linkage.encoding.names import canonical_name
from linkage.encoding.schema import BATCH_SCHEMA
from linkage.encoding.signing import signature_is_valid, signing_key_id
from tests.agency_signing import signing_key_for

from .extract_factory import clear_extract, write_csv


def _run(tmp: Path, secret: bytes, frame, name: str = "out"):  # type: ignore[no-untyped-def]
    key_path = tmp / f"{name}.key"
    if not key_path.exists():
        write_key(key_path, secret)
    key = read_key(key_path)
    export = tmp / "export.csv"
    if not export.exists():
        write_csv(frame, export, bom=True)
    return pseudonymise_file(
        source_type="shelter",
        agency_id="shelter-07",
        secret=key.secret,
        key_id=key.key_id,
        input_path=export,
        out_dir=tmp / name,
        crosswalk_dir=tmp / f"{name}-keep",
        signing_key=signing_key_for("shelter-07"),
    )


def _needles(frame) -> set[str]:  # type: ignore[no-untyped-def]
    """Every clear identifier of the input, in the spellings an encoder could leak."""
    needles: set[str] = set()
    for column in ("given_name", "family_name", "father_name"):
        for value in frame[column]:
            for word in re.split(r"\s+", unicodedata.normalize("NFC", value)):
                if len(word) >= 4:
                    needles |= {word, word.lower(), word.upper(), canonical_name(word)}
    for value in frame["phone"]:
        if value:
            needles |= {value, re.sub(r"\D", "", value), normalise_phone(value) or ""}
    for column in ("citizenship_no", "passport_no"):
        for value in frame[column]:
            if value:
                needles |= {value, normalise_document_number(value) or ""}
    for value in frame["date_of_birth"]:
        if value:
            day = dt.date.fromisoformat(value)
            needles |= {
                value,
                day.strftime("%Y%m%d"),
                day.strftime("%d/%m/%Y"),
                day.strftime("%d-%m-%Y"),
                day.strftime("%d.%m.%Y"),
                day.strftime("%m/%d/%Y"),
            }
    return {n for n in needles if len(n) >= 4}


def _cell_texts(path: Path) -> list[bytes]:
    """Every cell of the parquet as bytes (decompressed), plus its schema metadata."""
    table = pq.read_table(path)
    cells: list[bytes] = [str(table.schema).encode(), str(pq.read_metadata(path)).encode()]
    for column in table.columns:
        for value in column.to_pylist():
            items = value if isinstance(value, list) else [value]
            for item in items:
                if isinstance(item, bytes):
                    cells.append(item)
                elif item is not None:
                    cells.append(str(item).encode("utf-8"))
    return cells


def _manifest_with_raw_signature(path: Path) -> bytes:
    """The manifest with its signature as the raw bytes it carries.

    The signature is 64 random-looking bytes (the manifest's time changes it each run),
    base64-encoded. As text it spelled a needle case-insensitively in 137 of 200,000 random
    signatures (CI once saw "SITA"); its raw bytes, which hold the same information, in none.
    """
    text = path.read_bytes()
    signature = json.loads(text)["signature"]
    return text.replace(signature.encode(), base64.b64decode(signature))


def test_batch_holds_no_clear_identifier(tmp_path: Path, secret: bytes) -> None:
    frame = clear_extract(rows=150)
    written = _run(tmp_path, secret, frame)
    assert written.row_count == 150 and written.rejected_count == 0
    needles = _needles(frame)
    assert len(needles) > 300  # the scan really looks for many values
    haystacks = {
        "parquet bytes": written.parquet.read_bytes(),
        "manifest": _manifest_with_raw_signature(written.manifest),
        "parquet cells": b"\x00".join(_cell_texts(written.parquet)),
    }
    # Column names are fixed by the contract, not data: "ri_discrimination" contains "mina".
    # Blank them out so that only values can match (a name inside a value still does).
    fixed_words = sorted({n.encode() for n in BATCH_SCHEMA.names}, key=len, reverse=True)
    for label, haystack in haystacks.items():
        lowered = haystack.lower()
        for word in fixed_words:
            lowered = lowered.replace(word, b"\x00")
        leaks = [n for n in needles if n.encode("utf-8").lower() in lowered]
        assert leaks == [], f"{label} contains clear values: {leaks[:5]}"
    # Only the encoded names are in the out folder; crosswalk and rejects stay elsewhere.
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        [written.parquet.name, written.manifest.name]
    )
    assert written.crosswalk.parent == tmp_path / "out-keep"


def test_batch_columns_follow_the_contract(tmp_path: Path, secret: bytes) -> None:
    written = _run(tmp_path, secret, clear_extract(rows=40))
    table = pq.read_table(written.parquet)
    assert table.schema.remove_metadata() == BATCH_SCHEMA.remove_metadata()
    row = table.slice(0, 1).to_pylist()[0]
    assert re.fullmatch(r"[0-9a-f]{32}", row["record_token"])
    assert len(row["given_name_bf"]) == 128
    assert "date_of_birth" not in table.column_names and "ward" not in table.column_names
    for rec in table.to_pylist():
        # pahichan-enc-2: no exact year/date tokens, no year-ordered lists (threat model,
        # "Birth years"); one keyed window token per grid and a day-month token instead.
        assert rec["birth_year_token"] is None and rec["birth_date_token"] is None
        assert rec["birth_year_pm1_tokens"] == [] and rec["birth_year_pm2_tokens"] == []
        assert rec["birth_precision"] in {"day", "year", "age", "unknown"}
        assert len(rec["birth_window_tokens"]) == (
            0 if rec["birth_precision"] == "unknown" else BIRTH_WINDOW_GRIDS
        )
        assert (rec["birth_day_token"] is not None) == (rec["birth_precision"] == "day")
    manifest = json.loads(written.manifest.read_text())
    assert set(manifest) == {
        "batch_id",
        "contract_version",
        "encoding_version",
        "source_type",
        "agency_id",
        "key_id",
        "row_count",
        "rejected_count",
        "data_file",
        "sha256",
        "created_at",
        "signing_key_id",
        "signature",
        "rows_withheld_services_only",
    }
    assert manifest["rows_withheld_services_only"] == 0  # no consent_scope column
    public_key = signing_key_for("shelter-07").private_key.public_key()
    assert manifest["signing_key_id"] == signing_key_id(public_key)
    assert signature_is_valid(manifest, public_key)
    assert manifest["sha256"] == hashlib.sha256(written.parquet.read_bytes()).hexdigest()
    assert manifest["row_count"] == table.num_rows == 40
    assert manifest["encoding_version"] == "pahichan-enc-4"


def test_same_key_same_input_gives_identical_bytes(tmp_path: Path, secret: bytes) -> None:
    frame = clear_extract(rows=60)
    first = _run(tmp_path, secret, frame, "a")
    second = _run(tmp_path, secret, frame, "a2")  # new key file, same secret
    assert first.batch_id == second.batch_id
    assert first.parquet.read_bytes() == second.parquet.read_bytes()
    one, two = (json.loads(p.manifest.read_text()) for p in (first, second))
    one.pop("created_at"), two.pop("created_at")
    assert one == two


def test_another_key_gives_unrelated_encodings(secret: bytes, other_secret: bytes) -> None:
    frame = clear_extract(rows=80)
    a = encode_frame(frame, secret=secret, agency_id="x", source_type="ocmc").table
    b = encode_frame(frame, secret=other_secret, agency_id="x", source_type="ocmc").table
    for column in ("record_token", "given_name_key", "phone_token", "sex_token"):
        left, right = a.column(column).to_pylist(), b.column(column).to_pylist()
        assert all(x != y for x, y in zip(left, right, strict=True) if x is not None)
    names = sorted({canonical_name(v) for v in frame["given_name"]})
    one, two = BloomEncoder(secret, "given_name"), BloomEncoder(other_secret, "given_name")
    across = [dice(one.encode(n), two.encode(n)) for n in names]
    within = [dice(one.encode(x), one.encode(y)) for x, y in itertools.combinations(names, 2)]
    mean_across, mean_within = sum(across) / len(across), sum(within) / len(within)
    print(
        f"\nsame name across keys: mean Dice {mean_across:.3f} (max {max(across):.3f}); "
        f"different names, one key: mean {mean_within:.3f}"
    )
    assert max(across) < 0.6
    assert abs(mean_across - mean_within) < 0.1


def test_filters_are_deterministic_and_hardened(secret: bytes) -> None:
    plain = BloomEncoder(secret, "given_name", hardened=False)
    hard = BloomEncoder(secret, "given_name")
    assert hard.encode("laxmi") == BloomEncoder(secret, "given_name").encode("laxmi")
    assert hard.encode("laxmi") != plain.encode("laxmi")
    assert BloomEncoder(secret, "family_name").encode("laxmi") != hard.encode("laxmi")
    assert hard.encode("") is None


@pytest.mark.parametrize("calendar", ["ad", "bs"])
def test_birth_year_from_date_or_age(calendar: str, secret: bytes) -> None:
    import pandas as pd

    dates = {"ad": ("1995-06-10", "2024-05-01"), "bs": ("2052-02-27", "2081-01-19")}[calendar]
    frame = pd.DataFrame(
        [
            {
                "record_id": "1",
                "given_name": "Sita",
                "date_of_birth": dates[0],
                "contact_date": dates[1],
            },
            {"record_id": "2", "given_name": "Sita", "age": "28", "contact_date": dates[1]},
        ]
    )
    rows = encode_frame(
        frame, secret=secret, agency_id="a", source_type="shelter", calendar=calendar
    ).table.to_pylist()
    assert [r["birth_precision"] for r in rows] == ["day", "age"]
    assert [r["age_band"] for r in rows] == ["25-34", "25-34"]
    # pahichan-enc-2: no exact year/date token and no neighbour lists, only the keyed
    # windows of 1995 (from the date, BS dates converted first) and of 2024 - 28 = 1996 (from
    # the age), which share at least one window; the day token only where the date is known.
    assert all(r["birth_year_token"] is None and r["birth_date_token"] is None for r in rows)
    assert all(r["birth_year_pm1_tokens"] == r["birth_year_pm2_tokens"] == [] for r in rows)
    encoder = RecordEncoder(secret)
    assert rows[0]["birth_window_tokens"] == encoder.birth_window_tokens(1995)
    assert rows[1]["birth_window_tokens"] == encoder.birth_window_tokens(1996)
    assert set(rows[0]["birth_window_tokens"]) & set(rows[1]["birth_window_tokens"])
    assert rows[0]["birth_day_token"] is not None and rows[1]["birth_day_token"] is None
    assert rows[0]["contact_date"] == dt.date(2024, 5, 1)


@pytest.mark.parametrize("hardened", [True, False])
def test_joined_full_name_filter_equals_direct_encoding(secret: bytes, hardened: bool) -> None:
    encoder = BloomEncoder(secret, "full_name", hardened=hardened)
    direct = BloomEncoder(secret, "full_name", hardened=hardened)
    words = ["sita", "laxmi", "tamang", "sresta", "a", "ram", "bisbakarma", "oo"]
    for first, second in itertools.product(words, [*words, ""]):
        assert encoder.encode_joined(first, second) == direct.encode(first + second)
