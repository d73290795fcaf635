"""Name edit tokens (pahichan-enc-3, issue 18): full names one letter apart in one field."""

from __future__ import annotations

import pandas as pd

from linkage.encoding import encode_frame, keyed
from linkage.encoding.crypto import derive_subkey, token
from linkage.encoding.keyed import RecordEncoder
from linkage.encoding.names import (
    canonical_name,
    name_deletion_variants,
    name_edit_messages,
    name_skeleton_variants,
)

from .conftest import OTHER_SECRET, TEST_SECRET


def _tokens(encoder: RecordEncoder, given: str, family: str) -> set[str]:
    return set(encoder.name_edit_tokens(canonical_name(given), canonical_name(family)))


def test_deletion_variants_of_a_name() -> None:
    assert name_deletion_variants("sita") == ("ita", "sia", "sit", "sita", "sta")
    assert name_deletion_variants("ram bahadur")[0] == "ambahadur"  # spaces removed
    assert name_deletion_variants("ab") == ("ab",)
    assert name_deletion_variants("") == ()


def test_tokens_are_the_documented_construction_sorted() -> None:
    encoder = RecordEncoder(TEST_SECRET)
    subkey = derive_subkey(TEST_SECRET, "token/name_edit")
    messages = {f"{v}\x1ftamang" for v in name_deletion_variants("sita")} | {
        f"sita\x1f{v}" for v in name_deletion_variants("tamang")
    }
    skeletons = {"s\x1fst\x1ftamang"} | {
        f"s\x1fsita\x1f{v}" for v in ("mng", "tmg", "tmn", "tmng", "tng")
    }
    assert name_edit_messages("sita", "tamang") == messages | skeletons
    sent = encoder.name_edit_tokens("sita", "tamang")
    assert sent == sorted(token(subkey, message) for message in messages | skeletons)
    assert len(sent) == (5 + 7 - 1) + (1 + 5)  # the exact full name once


def test_one_typo_in_one_field_shares_a_token_unrelated_names_do_not() -> None:
    encoder = RecordEncoder(TEST_SECRET)
    sita = _tokens(encoder, "Sita", "Magar")
    assert sita & _tokens(encoder, "Sitq", "Magar")  # substitution in the given name
    assert sita & _tokens(encoder, "Stia", "Magar")  # transposition
    assert sita & _tokens(encoder, "Sita", "Maear")  # substitution in the family name
    assert sita & _tokens(encoder, "Sitaq", "Magar")  # extra letter
    assert sita & _tokens(encoder, "सीता", "मगर")  # Devanagari, same canonical name
    assert not sita & _tokens(encoder, "Gita", "Tamang")
    assert not sita & _tokens(encoder, "Sita", "Tamang")  # same given name only
    assert not sita & _tokens(encoder, "Gita", "Maear")  # one letter off in both fields
    assert not sita & set(RecordEncoder(OTHER_SECRET).name_edit_tokens("sita", "magar"))


def test_skeleton_variants_of_a_name() -> None:
    assert name_skeleton_variants("basita") == ("bs", "bst", "bt", "st")
    assert name_skeleton_variants("sita") == ("st",)  # two consonants: no deletions
    assert name_skeleton_variants("aaya") == ()


def test_a_typed_or_dropped_akshara_shares_a_skeleton_token() -> None:
    """Devanagari typos move whole aksharas: two or three letters once transliterated, which
    the one-letter tokens miss and the skeleton tokens catch (the issue 18 register cases)."""
    encoder = RecordEncoder(TEST_SECRET)

    def shared(a: tuple[str, str], b: tuple[str, str]) -> bool:
        return bool(_tokens(encoder, *a) & _tokens(encoder, *b))

    for typed, meant in (
        (("बसीता", "के.सी."), ("सीता", "के.सी.")),  # an akshara typed in front
        (("र्गादु", "तामाङ"), ("दुर्गा", "तामाङ")),  # aksharas swapped
        (("कल्पामना", "घिमिरे"), ("Kalpana", "Ghimire")),  # an akshara too many, two scripts
        (("रूपा", "ताधमाङ"), ("रूपा", "तामाङ")),  # in the family name
    ):
        assert shared(typed, meant), (typed, meant)
    # Still keyed on the other field as written: one name alike is not enough.
    assert not shared(("बसीता", "के.सी."), ("सीता", "थापा"))


def test_batch_column_is_empty_without_both_names() -> None:
    keyed._ENCODERS.clear()
    frame = pd.DataFrame(
        {
            "record_id": ["1", "2", "3"],
            "given_name": ["Sita", "Sita", ""],
            "family_name": ["Magar", "", "Magar"],
            "contact_date": "2024-03-01",
        }
    )
    table = encode_frame(frame, secret=TEST_SECRET, agency_id="a", source_type="shelter").table
    column = table.column("name_edit_tokens").to_pylist()
    assert column[0] == RecordEncoder(TEST_SECRET).name_edit_tokens("sita", "magar")
    assert column[1:] == [[], []]
