"""Bad data never crashes the encoder: arbitrary text gives rejects or encodings."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.encoding import encode_frame
from linkage.encoding.cli import pseudonymise
from linkage.encoding.identifiers import normalise_document_number, normalise_phone
from linkage.encoding.keys import new_secret, write_key
from linkage.encoding.names import canonical_name
from tests.agency_signing import signing_key_file

SECRET = bytes(range(32))
TEXT = st.text(max_size=20)


@settings(max_examples=200, deadline=None)
@given(TEXT)
def test_canonical_name_is_plain_lowercase_latin(text: str) -> None:
    assert re.fullmatch(r"[a-z ]*", canonical_name(text))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "record_id": TEXT,
                "given_name": TEXT,
                "date_of_birth": TEXT,
                "age": TEXT,
                "contact_date": st.one_of(TEXT, st.just("2024-01-05")),
                "district": TEXT,
                "sex": TEXT,
                "phone": TEXT,
                "services": TEXT,
            }
        ),
        min_size=1,
        max_size=8,
    )
)
def test_encode_frame_never_raises_on_arbitrary_text(rows: list[dict[str, str]]) -> None:
    batch = encode_frame(pd.DataFrame(rows), secret=SECRET, agency_id="a", source_type="ocmc")
    assert batch.table.num_rows + batch.rejected_rows == len(rows)
    assert batch.table.num_rows == len(batch.crosswalk)


def test_identifier_normal_forms() -> None:
    expected = "9841234567"
    for raw in ("+977-984-1234567", "00977 9841234567", "984 123 4567", "०९८४१२३४५६७"):
        assert normalise_phone(raw) == expected
    assert normalise_phone("12") is None
    assert normalise_document_number("२७-०१-७२/ab 05432") == "27017205432".replace(
        "05432", "AB05432"
    )
    assert normalise_document_number("pa 123-4567") == "PA1234567"


def test_row_with_wrong_field_count_is_rejected(tmp_path: Path) -> None:
    key = tmp_path / "k.key"
    write_key(key, new_secret())
    export = tmp_path / "e.csv"
    export.write_text(
        "record_id,given_name,contact_date\nA,Sita,2024-01-01\nB,Gita,2024-01-01,extra\n"
        'C,"Rita\nRai",2024-01-02\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        pseudonymise,
        [
            "--source-type",
            "ocmc",
            "--agency",
            "ocmc-1",
            "--key",
            str(key),
            "--in",
            str(export),
            "--out",
            str(tmp_path / "out"),
            "--signing-key",
            str(signing_key_file(tmp_path / "sign", "ocmc-1")),
        ],
    )
    assert result.exit_code == 3, result.output
    assert "1 rows encoded, 2 rows rejected" in result.output
    rejects = next((tmp_path / "crosswalk").glob("*.rejects.csv")).read_text()
    assert '2,*,"row has 4 fields, header has 3",B' in rejects
    assert "no name" not in rejects  # the voided cell is the reason, reported once
    assert "3,given_name,control characters,C" in rejects
