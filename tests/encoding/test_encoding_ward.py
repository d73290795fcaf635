"""The ward crosses the boundary only as a keyed token of its local level and number."""

from __future__ import annotations

import pytest

from linkage.encoding import attributes, encode_frame
from linkage.encoding.crypto import derive_subkey, token

from .conftest import TEST_SECRET
from .extract_factory import clear_extract

# Phaktanlung Rural Municipality (district 101) has wards 1..7, Mikwakhola (10102) 1..5.
LOCAL_LEVEL, OTHER_LOCAL_LEVEL = "10101", "10102"


@pytest.mark.parametrize("text", ["5", "05", "Ward 5", "ward no. 5", "५", "वडा नं. ५"])
def test_a_ward_written_any_way_is_one_value(text: str) -> None:
    assert attributes.ward(text, LOCAL_LEVEL) == (f"{LOCAL_LEVEL}/5", None)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("0", "ward 0 is not a ward of local level 10101 (1..7)"),
        ("8", "ward 8 is not a ward of local level 10101 (1..7)"),
        ("5-6", "ward must be one number"),
        ("north", "ward must be one number"),
    ],
)
def test_a_ward_outside_its_local_level_is_a_reject_reason(text: str, reason: str) -> None:
    assert attributes.ward(text, LOCAL_LEVEL) == (None, reason)


def test_a_ward_without_its_local_level_names_nothing() -> None:
    assert attributes.ward("5", None) == (None, None)


def test_ward_token_is_keyed_on_local_level_and_ward() -> None:
    frame = clear_extract(rows=6)
    frame["district"] = ""
    level, other = LOCAL_LEVEL, OTHER_LOCAL_LEVEL
    frame["local_level"] = [level, level, other, level, "", level]
    frame["ward"] = ["5", "Ward 05", "5", "", "5", "9"]
    batch = encode_frame(frame, secret=TEST_SECRET, agency_id="A", source_type="shelter")

    assert [(r.row, r.column) for r in batch.rejects] == [(6, "ward")]
    assert "not a ward of local level 10101 (1..7)" in batch.rejects[0].reason
    wards = batch.table.column("ward_token").to_pylist()
    subkey = derive_subkey(TEST_SECRET, "token/ward")
    assert wards[0] == wards[1] == token(subkey, f"{LOCAL_LEVEL}/5")
    assert wards[2] == token(subkey, f"{OTHER_LOCAL_LEVEL}/5") != wards[0]
    assert wards[3] is None  # no ward
    assert wards[4] is None  # a ward without a local level
    assert "5" not in wards and f"{LOCAL_LEVEL}/5" not in wards
