"""Fuzzing the agency tool: any CSV export gives encoded + rejected == input rows, or a whole-
file refusal with a reason; never a crash. Prints how many generated exports it tried."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linkage.encoding.batch import UnusableInput, pseudonymise_file
from linkage.encoding.keys import new_secret
from tests.agency_signing import signing_key_for

SECRET = new_secret()
COLUMNS = (
    "record_id",
    "given_name",
    "family_name",
    "father_name",
    "sex",
    "date_of_birth",
    "age",
    "citizenship_no",
    "phone",
    "district",
    "contact_date",
    "services",
)
PLAUSIBLE = {
    "record_id": st.text(alphabet="R0123456789", min_size=1, max_size=6),
    "given_name": st.sampled_from(["Sita", "सीता", "Maya", "Ram Bahadur", ""]),
    "family_name": st.sampled_from(["Tamang", "तामाङ", "Shrestha", ""]),
    "sex": st.sampled_from(["F", "M", "O", "female", "x", ""]),
    "date_of_birth": st.sampled_from(["1999-04-01", "1988-12-31", "", "2081-01-15", "abc"]),
    "age": st.sampled_from(["23", "-4", "200", "twenty", ""]),
    "district": st.sampled_from(["Sindhupalchok", "सिन्धुपाल्चोक", "Kathmandu", "Atlantis", ""]),
    "contact_date": st.sampled_from(
        ["2024-03-01", "2023-11-30", "2024-07-15", "2030-01-01", "2081-05-10", "", "yesterday"]
    ),
    "father_name": st.sampled_from(["Ram", "Hari Prasad", ""]),
    "citizenship_no": st.sampled_from(["12-34-567", "27/01/12345", ""]),
    "phone": st.sampled_from(["9841000000", "+977-1-4412345", ""]),
    "services": st.sampled_from(["counselling", "shelter;health_check", "", "unknown_svc"]),
}
NASTY_TEXT = st.one_of(
    st.text(max_size=40),  # any unicode, control characters included
    st.text(alphabet=st.characters(codec="utf-8"), min_size=2000, max_size=6000),  # huge
    st.integers().map(str),
    st.floats(allow_nan=True).map(str),
    st.sampled_from(["\x00", "\r", "\u202e", "\ufeff", '"', ",", "\n\n", "=cmd|' /C calc'!A0"]),
)
cases_tried = {"exports": 0, "rows": 0, "encoded": 0, "rejected": 0, "unusable": 0}


@st.composite
def exports(draw: st.DrawFn) -> tuple[bytes, int]:
    """(CSV bytes, number of data rows written): plausible rows with nasty cells mixed in,
    sometimes a BOM, sometimes a dropped column, sometimes a Latin-1 byte in a row."""
    columns = list(COLUMNS)
    if draw(st.booleans()):
        columns.remove(draw(st.sampled_from([c for c in COLUMNS if c != "record_id"])))
    rows = []
    for _ in range(draw(st.integers(min_value=0, max_value=8))):
        row = {}
        for column in columns:
            nasty = draw(st.integers(0, 29)) == 0
            row[column] = draw(NASTY_TEXT if nasty else PLAUSIBLE[column])
        rows.append(row)
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    data = buffer.getvalue().encode("utf-8", errors="surrogatepass")
    if rows and draw(st.booleans()):
        # A byte that is not UTF-8 in the last data line (e.g. a Latin-1 export cell).
        data = data[: len(data) - 3] + b"\xe9" + data[len(data) - 3 :]
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    return data, len(rows)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(export=exports())
def test_every_row_is_encoded_or_rejected(
    tmp_path_factory: pytest.TempPathFactory, export: tuple[bytes, int]
) -> None:
    data, rows = export
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "export.csv"
    path.write_bytes(data)
    cases_tried["exports"] += 1
    cases_tried["rows"] += rows
    try:
        written = pseudonymise_file(
            source_type="shelter",
            agency_id="shelter-01",
            secret=SECRET,
            key_id="pk1-x",
            input_path=path,
            out_dir=folder / "out",
            crosswalk_dir=folder / "keep",
            signing_key=signing_key_for("shelter-01"),
        )
    except UnusableInput as error:
        # A whole-file refusal must say why; it is never a crash.
        assert str(error)
        cases_tried["unusable"] += 1
        return
    encoded = pq.read_table(written.parquet).num_rows
    assert encoded == written.row_count
    assert written.row_count + written.rejected_count == rows, (rows, written)
    cases_tried["encoded"] += written.row_count
    cases_tried["rejected"] += written.rejected_count
    # Each reject names a reason, and rejects never quote clear values back.
    rejects = (folder / "keep" / f"{written.batch_id}.rejects.csv").read_text("utf-8")
    assert rejects.startswith("row,column,reason,record_id")


def test_zz_report_fuzz_counts(report) -> None:
    report(f"agency tool fuzz: {cases_tried}")
    assert cases_tried["exports"] >= 60
    # Both outcomes were exercised: some rows encoded, some rejected.
    assert cases_tried["encoded"] > 0 and cases_tried["rejected"] > 0


def test_binary_and_utf16_files_are_refused_whole(tmp_path: Path) -> None:
    for name, data in {
        "utf16": "record_id\r\nR1\r\n".encode("utf-16"),
        "binary": bytes(range(256)) * 4,
    }.items():
        path = tmp_path / f"{name}.csv"
        path.write_bytes(data)
        with pytest.raises(UnusableInput):
            pseudonymise_file(
                source_type="shelter",
                agency_id="a",
                secret=SECRET,
                key_id="k",
                input_path=path,
                out_dir=tmp_path / "o",
                crosswalk_dir=tmp_path / "c",
                signing_key=signing_key_for("a"),
            )
        assert not (tmp_path / "o").exists() or not list((tmp_path / "o").iterdir())
