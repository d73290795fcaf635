"""Keyed encoders of one secret: the four Bloom filter encoders and the token caches.

Holds derived sub-keys only (never the master secret). One instance per secret is kept in
process memory while encoding so that the per-value caches carry over between frames.
"""

from __future__ import annotations

from linkage.encoding.bloom import BloomEncoder
from linkage.encoding.crypto import PreparedHmac, derive_subkey

_TOKEN_PURPOSES = (
    "name_key/given", "name_key/family", "name_key/full", "name_key/set", "birth_year",
    "birth_date", "sex", "district", "ward", "citizenship", "passport", "phone",
)  # fmt: skip
# One-deletion variants of ID numbers: a sub-key of their own, so a variant of one number can
# never equal the token of another (shorter) number.
EDIT_TOKEN_PURPOSES = ("citizenship_edit", "passport_edit")


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
        self.tokens = {purpose: TokenCache(derive_subkey(secret, f"token/{purpose}"))
                       for purpose in _TOKEN_PURPOSES}  # fmt: skip
        self._record_hmac = PreparedHmac(derive_subkey(secret, "token/record"))
        self._edit_hmacs = {
            purpose: PreparedHmac(derive_subkey(secret, f"token/{purpose}"))
            for purpose in EDIT_TOKEN_PURPOSES
        }

    def record_token(self, agency_id: str, record_id: str) -> str:
        """32-hex token of the agency's local record id (unit separator between the two)."""
        return self._record_hmac.token(f"{agency_id}\x1f{record_id}", hex_chars=32)

    def record_tokens(self, agency_id: str, record_ids: list[str]) -> list[str]:
        """:meth:`record_token` of each id (one tight loop: every record id is new)."""
        return self._record_hmac.tokens(
            [f"{agency_id}\x1f{record_id}" for record_id in record_ids], hex_chars=32
        )

    def edit_tokens(self, purpose: str, variants: list[str]) -> list[str]:
        """Tokens of an ID number's deletion variants (not memoised: nearly all are unique)."""
        return self._edit_hmacs[purpose].tokens(variants)


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
