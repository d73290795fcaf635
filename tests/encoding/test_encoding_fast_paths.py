"""The encoder's fast paths compute exactly what the plain construction computes.

Golden digests were taken from the encoder before its batch/numpy rewrite (commit e120228):
any change of an encoded byte for the same key and input fails here, whatever the cause.
"""

from __future__ import annotations

import gc
import hashlib

import pandas as pd
import pytest

from linkage.encoding import encode_frame, keyed
from linkage.encoding.bloom import FILTER_BITS, FILTER_BYTES, BloomEncoder, bigrams
from linkage.encoding.cells import cell_strings
from linkage.encoding.crypto import (
    PreparedHmac,
    bigram_positions,
    derive_subkey,
    keyed_index_table,
    token,
)
from linkage.encoding.keyed import RecordEncoder
from linkage.encoding.schema import BIRTH_WINDOW_COLUMNS, NAME_EDIT_COLUMNS

from .conftest import TEST_SECRET
from .extract_factory import clear_extract

VALUES = ("laxmi", "sita", "ram bahadur", "a", "sresta", "bisbakarma", "x y", "ab" * 30)
FIELDS = ("given_name", "family_name", "father_name", "full_name")
GOLDEN_HARDENED = "8f025f200fcee87273381c6b967a40b6321081974b8848d3f36942b0db0e36b9"
GOLDEN_PLAIN = "7be91e4400a26a00fbac929b3c44235e1b5433b4d1c93dc33cb9a681bfbd375a"
# Re-pinned for pahichan-enc-2, which changed the birth columns on purpose (issue 15 point 1:
# no exact year/date tokens or year-ordered lists). Every other column is byte-identical to
# the pahichan-enc-1 encoder (commit 2b216da, whose full digest was 73ad75cb...): the digest
# below is of the same columns without BIRTH_COLUMNS, and both encoders give it.
GOLDEN_TABLE = "74b7fb9f7cdc680be1c0e5397551052292de12d8af4bb1e84116f12208828b6c"
# The order-free name key, the ward token and the ID edit tokens came later: the digest above
# covers every other column, so a batch from the older tool still compares token for token
# with a new one.
LATER_COLUMNS = ("name_set_key", "ward_token", "citizenship_edit_tokens", "passport_edit_tokens")
# Contract 1.2's consent scope came last; this extract has no consent_scope column, so every
# row carries the default and the digests of the columns above stay byte-identical.
CONSENT_COLUMNS = ("consent_scope",)
# Birth columns: the four of pahichan-enc-1 (null / empty since enc-2) and those of enc-2.
BIRTH_COLUMNS = (
    "birth_year_token",
    "birth_year_pm1_tokens",
    "birth_year_pm2_tokens",
    "birth_date_token",
    *BIRTH_WINDOW_COLUMNS,
)
GOLDEN_BIRTH_COLUMNS = "d964db6a7ed6edd381cb6e02acd357380a7e2013845ab442f7d7a76f122a8768"
# Digest of the later columns but the ward token (this extract has no local levels, so its
# wards are all null; test_encoding_ward checks the token against its construction).
GOLDEN_LATER_COLUMNS = "11642c4f73e3768c3e3807aa216b1bb36acb708dadae22e2110b9d2016133d25"
# pahichan-enc-3 added the name edit tokens only (issue 18): every column above keeps its
# digest, so enc-2 and enc-3 batches compare token for token. pahichan-enc-4 added the
# skeleton messages to the same column (enc-3: dc1dd932983ac568...).
GOLDEN_NAME_EDIT_COLUMNS = "bbe6dd2156fabf072fd85d9a1fa87ad3e901d3a6a7802005b4f61e00bbe3b7ca"


def _reference_filter(secret: bytes, field: str, value: str, *, hardened: bool) -> bytes:
    """The construction of bloom.py's docstring, one bit at a time on Python integers."""
    key = derive_subkey(secret, f"bloom/{field}")
    inputs = {
        position
        for gram in bigrams(value)
        for position in bigram_positions(key, gram, 20, FILTER_BITS)
    }
    if hardened:
        wiring = keyed_index_table(derive_subkey(secret, f"diffusion/{field}"), 1024, 10, 1024)
        outputs = [j for j, wired in enumerate(wiring) if sum(i in inputs for i in wired) % 2]
    else:
        outputs = list(inputs)
    number = sum(1 << (FILTER_BITS - 1 - position) for position in outputs)
    return number.to_bytes(FILTER_BYTES, "big")


@pytest.mark.parametrize("hardened", [True, False])
def test_filters_match_golden_digest(hardened: bool) -> None:
    digest = hashlib.sha256()
    for field in FIELDS:
        encoder = BloomEncoder(TEST_SECRET, field, hardened=hardened)
        for value in VALUES:
            digest.update(encoder.encode(value) or b"")
    assert digest.hexdigest() == (GOLDEN_HARDENED if hardened else GOLDEN_PLAIN)


@pytest.mark.parametrize("hardened", [True, False])
def test_batch_filters_equal_reference_construction(hardened: bool) -> None:
    encoder = BloomEncoder(TEST_SECRET, "family_name", hardened=hardened)
    values = [*VALUES, "", "laxmi", "सीता", "_", "ab cd"]
    batch = encoder.encode_many(values)
    assert batch[""] is None
    for value in filter(None, values):
        assert batch[value] == _reference_filter(
            TEST_SECRET, "family_name", value, hardened=hardened
        )
    fresh = BloomEncoder(TEST_SECRET, "family_name", hardened=hardened)
    assert all(fresh.encode(value) == batch[value] for value in values)


def test_input_positions_are_the_unhardened_bits() -> None:
    encoder = BloomEncoder(TEST_SECRET, "given_name", hardened=False)
    for value in VALUES:
        number = int.from_bytes(encoder.encode(value) or b"", "big")
        expected = {i for i in range(FILTER_BITS) if number >> (FILTER_BITS - 1 - i) & 1}
        assert encoder.input_positions(value) == expected


def test_bulk_tokens_equal_single_tokens() -> None:
    subkey = derive_subkey(TEST_SECRET, "token/phone")
    prepared = PreparedHmac(subkey)
    values = ["", "9841234567", "सीता", "x" * 200]
    for hex_chars in (16, 32, 64, 7):
        expected = [token(subkey, value, hex_chars) for value in values]
        assert prepared.tokens(values, hex_chars) == expected
        assert [prepared.token(value, hex_chars) for value in values] == expected
    encoder = RecordEncoder(TEST_SECRET)
    ids = ["SH-1", "SH-2", "सीता-3"]
    assert encoder.record_tokens("a", ids) == [encoder.record_token("a", i) for i in ids]


def test_encoded_table_matches_golden_digest() -> None:
    keyed._ENCODERS.clear()
    table = encode_frame(
        clear_extract(rows=300), secret=TEST_SECRET, agency_id="golden", source_type="shelter"
    ).table

    def digest_of(names: list[str]) -> str:
        digest = hashlib.sha256()
        for name in names:
            digest.update(name.encode())
            digest.update(repr(table.column(name).to_pylist()).encode())
        return digest.hexdigest()

    later = (*LATER_COLUMNS, *CONSENT_COLUMNS, *NAME_EDIT_COLUMNS)
    older = [name for name in table.column_names if name not in later and name not in BIRTH_COLUMNS]
    assert digest_of(older) == GOLDEN_TABLE
    assert digest_of(list(BIRTH_COLUMNS)) == GOLDEN_BIRTH_COLUMNS
    assert digest_of([c for c in LATER_COLUMNS if c != "ward_token"]) == GOLDEN_LATER_COLUMNS
    assert digest_of(list(NAME_EDIT_COLUMNS)) == GOLDEN_NAME_EDIT_COLUMNS
    assert set(table.column("consent_scope").to_pylist()) == {"linkage_and_statistics"}
    assert table.column("citizenship_edit_tokens").to_pylist().count([]) < table.num_rows


@pytest.mark.parametrize("enabled", [True, False])
def test_encode_frame_restores_the_garbage_collector(enabled: bool) -> None:
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        encode_frame(clear_extract(rows=5), secret=TEST_SECRET, agency_id="a", source_type="ocmc")
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_cell_strings_with_missing_values_and_numbers() -> None:
    frame = pd.DataFrame({"age": [" 12 ", None, float("nan"), 30.0, 2.5, "x"]})
    assert cell_strings(frame, "age") == ["12", "", "", "30", "2.5", "x"]
    assert cell_strings(frame, "phone") == [""] * 6
    text = pd.DataFrame({"name": [" a", "b ", ""]})
    assert cell_strings(text, "name") == ["a", "b", ""]


def test_rows_and_problems_survive_many_rejects() -> None:
    """Kept-row selection with 0, 1 and many kept rows (itemgetter edge cases)."""
    frame = clear_extract(rows=6)
    for kept in (0, 1, 6):
        broken = frame.copy()
        broken.loc[kept:, "contact_date"] = ""
        batch = encode_frame(broken, secret=TEST_SECRET, agency_id="a", source_type="ocmc")
        assert batch.table.num_rows == kept
        assert batch.rejected_rows == 6 - kept
        assert batch.crosswalk["record_id"].tolist() == frame["record_id"][:kept].tolist()
