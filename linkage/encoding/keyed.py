"""Keyed encoders of one secret: the four Bloom filter encoders and the token caches.

Holds derived sub-keys only (never the master secret). One instance per secret is kept in
process memory while encoding so that the per-value caches carry over between frames.

Birth years (`pahichan-enc-2`) are sent only as keyed windows: BIRTH_WINDOW_GRIDS grids of
windows BIRTH_WINDOW_YEARS wide, the grids a half window apart and the whole pattern
shifted by a keyed offset; a record sends the token of its window on each grid. Two
records then share both tokens when their years fall in the same 8-year cell, one when they
are less than a window apart. Nothing in a record's tokens tells which way a neighbouring
window lies, and a window token stands for 16 years, so tokens cannot be chained into a
year ladder (docs/threat-model.md, "Birth years").
"""

from __future__ import annotations

from linkage.encoding.bloom import BloomEncoder
from linkage.encoding.crypto import PreparedHmac, derive_subkey
from linkage.encoding.names import name_edit_messages

_TOKEN_PURPOSES = (
    "name_key/given",
    "name_key/family",
    "name_key/full",
    "name_key/set",
    "birth_year",
    "birth_date",
    "birth_window",
    "birth_day",
    "sex",
    "district",
    "ward",
    "citizenship",
    "passport",
    "phone",
)
# One-deletion variants of ID numbers: a sub-key of their own, so a variant of one number can
# never equal the token of another (shorter) number.
EDIT_TOKEN_PURPOSES = ("citizenship_edit", "passport_edit")
# Measured on a synthetic register (tests/encoding/test_encoding_birth_attack.py), all
# attacks combined: windows of 10 (cells of 5) left 6.2% of records to an attacker who pins
# windows with the clear age band, 12 left 5.6%, 16 (cells of 8) 4.5%.
BIRTH_WINDOW_YEARS = 16
BIRTH_WINDOW_GRIDS = 2
# Full names one letter apart in one field (issue 18, `pahichan-enc-3`): a sub-key of its own.
NAME_EDIT_PURPOSE = "name_edit"
_NAME_EDIT_CACHE = 200_000


class TokenCache:
    """Memoised HMAC tokens of one purpose (values repeat: years, districts, name keys)."""

    def __init__(self, subkey: bytes) -> None:
        self._hmac = PreparedHmac(subkey)
        self._cache: dict[str, str] = {}

    def __call__(self, value: str | None) -> str | None:
        if not value:
            return None
        cached = self._cache.get(value)
        if cached is None:
            cached = self._cache[value] = self._hmac.token(value)
        return cached


class RecordEncoder:
    """All keyed encoders of one secret; reusable across frames (caches persist)."""

    def __init__(self, secret: bytes) -> None:
        self.blooms = {
            name: BloomEncoder(secret, name)
            for name in ("given_name", "family_name", "father_name", "full_name")
        }
        self.tokens = {
            purpose: TokenCache(derive_subkey(secret, f"token/{purpose}"))
            for purpose in _TOKEN_PURPOSES
        }
        self._record_hmac = PreparedHmac(derive_subkey(secret, "token/record"))
        # The keyed shift of the window grids (0 .. width - 1): without the key, which years
        # share a window is not known in advance (the clear age bands still reveal it over
        # many batches, which the window width is chosen for).
        offset_hmac = PreparedHmac(derive_subkey(secret, "birth_window/offset"))
        self._birth_offset = int(offset_hmac.token("offset"), 16) % BIRTH_WINDOW_YEARS
        self._windows: dict[int, list[str]] = {}
        self._edit_hmacs = {
            purpose: PreparedHmac(derive_subkey(secret, f"token/{purpose}"))
            for purpose in EDIT_TOKEN_PURPOSES
        }
        self._name_edit_hmac = PreparedHmac(derive_subkey(secret, f"token/{NAME_EDIT_PURPOSE}"))
        self._name_edits: dict[tuple[str, str], list[str]] = {}

    def record_token(self, agency_id: str, record_id: str) -> str:
        """32-hex token of the agency's local record id (unit separator between the two)."""
        return self._record_hmac.token(f"{agency_id}\x1f{record_id}", hex_chars=32)

    def record_tokens(self, agency_id: str, record_ids: list[str]) -> list[str]:
        """:meth:`record_token` of each id (one tight loop: every record id is new)."""
        return self._record_hmac.tokens(
            [f"{agency_id}\x1f{record_id}" for record_id in record_ids], hex_chars=32
        )

    def birth_window_tokens(self, year: int | None) -> list[str]:
        """Token of the window holding ``year`` on each grid, in grid order; [] if unknown.

        Grid g's windows start where (year + offset + g * width / grids) is a multiple of
        the width; the token is keyed on the grid and the window's number, never on a year.
        """
        if year is None:
            return []
        cached = self._windows.get(year)
        if cached is None:
            step = BIRTH_WINDOW_YEARS // BIRTH_WINDOW_GRIDS
            window, shift = self.tokens["birth_window"], self._birth_offset
            cached = self._windows[year] = [
                window(f"{grid}/{(year + shift + grid * step) // BIRTH_WINDOW_YEARS}")
                for grid in range(BIRTH_WINDOW_GRIDS)
            ]  # type: ignore[misc]
        return cached

    def edit_tokens(self, purpose: str, variants: list[str]) -> list[str]:
        """Tokens of an ID number's deletion variants (not memoised: nearly all are unique)."""
        return self._edit_hmacs[purpose].tokens(variants)

    def name_edit_tokens(self, given: str, family: str) -> list[str]:
        """Tokens of the full name with one field's deletion variants (issue 18); sorted.

        The set is {variant of given + family} and {given + variant of family}, each field
        canonical with spaces removed; the exact full name is one member of both halves, so
        it is sent once. Two records share a token when one field is the same and the other
        one letter apart (a typo), or when each field is one deletion of the other's. Both
        fields are needed: a given name alone would put its variants in the frequent
        classes a frequency attack reads (tests/encoding/test_encoding_attack.py). Sorted
        by token, so the position of a token tells nothing of which variant it is.
        """
        if not given or not family:
            return []
        key = (given, family)
        cached = self._name_edits.get(key)
        if cached is None:
            if len(self._name_edits) >= _NAME_EDIT_CACHE:
                self._name_edits.clear()
            messages = list(name_edit_messages(given, family))
            cached = self._name_edits[key] = sorted(self._name_edit_hmac.tokens(messages))
        return cached


_ENCODERS: dict[bytes, RecordEncoder] = {}


def encoder_for(secret: bytes) -> RecordEncoder:
    # Keyed by the secret in process memory only (never persisted), so repeated calls reuse
    # the caches; bounded to a few keys.
    encoder = _ENCODERS.get(secret)
    if encoder is None:
        if len(_ENCODERS) >= 4:
            _ENCODERS.clear()
        encoder = _ENCODERS[secret] = RecordEncoder(secret)
    return encoder
