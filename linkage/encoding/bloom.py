"""Hardened 1024-bit Bloom filters of canonical names (field-level, keyed, deterministic).

Construction for one field value (e.g. given name "laxmi"):

1. bigrams of the value padded with "_" at both ends (``_l la ax xm mi i_``);
2. each bigram sets ``HASHES_PER_BIGRAM`` (20) positions drawn from the field's keyed HMAC
   (:func:`linkage.encoding.crypto.bigram_positions`) - positions differ per field and key;
3. hardening: a keyed *diffusion layer* (Armknecht et al., PETS 2023). Output bit ``j`` is
   the XOR of ``DIFFUSION_WIDTH`` (10) input bits picked by a secret wiring table. An input
   bit no longer maps to a fixed output position, and a bigram's presence toggles output
   bits depending on the other bigrams present, so the bigram-to-position associations that
   pattern-mining attacks learn from frequent filters (Christen et al.) fade. Similar inputs
   still give similar outputs (few input bits differ -> few output bits flip), so Dice keeps
   separating variants from different names. Width 3 was measured first: on sparse filters
   (~10% of bits set) an XOR of 3 inputs mostly copies one of them, and the pattern-mining
   test decoded as many names as without hardening; width 10 halves what it decodes at the
   cost of denser outputs (~45% bits set; Dice of unrelated names ~0.45 instead of ~0.2).
   Numbers: linkage/encoding/README.md.

Same key + same value => identical 128 bytes. Filters are cached per (field, value): names
repeat, and the cache is what makes the encoder fast.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from linkage.encoding.crypto import bigram_positions, derive_subkey, keyed_index_table

FILTER_BITS = 1024
FILTER_BYTES = FILTER_BITS // 8
HASHES_PER_BIGRAM = 20
DIFFUSION_WIDTH = 10
BLOOM_FIELDS = ("given_name", "family_name", "father_name", "full_name")


def bigrams(value: str) -> list[str]:
    """Padded character bigrams, in order, duplicates kept once."""
    padded = f"_{value}_"
    seen: dict[str, None] = {}
    for index in range(len(padded) - 1):
        seen.setdefault(padded[index : index + 2], None)
    return list(seen)


class BloomEncoder:
    """Encodes values of one field into hardened filters, under one secret.

    Holds only derived sub-keys (never the master secret); caches per bigram and per value.
    Filters are computed on Python integers (bit ``i`` of the filter is integer bit
    ``1023 - i``, the big-endian order of ``int.to_bytes``): the diffusion layer is linear,
    so each set input bit XORs one precomputed 1024-bit column into the output - about a
    hundred integer XORs per value instead of array gathers.
    """

    def __init__(self, secret: bytes, field: str, *, hardened: bool = True) -> None:
        self.field = field
        self.hardened = hardened
        self._positions_key = derive_subkey(secret, f"bloom/{field}")
        wiring = keyed_index_table(
            derive_subkey(secret, f"diffusion/{field}"),
            FILTER_BITS,
            DIFFUSION_WIDTH,
            FILTER_BITS,
        )
        # columns[i]: the output bits that input bit i toggles (output j = XOR of its inputs).
        columns = [0] * FILTER_BITS
        for output, inputs in enumerate(wiring):
            for source in inputs:
                columns[source] ^= 1 << (FILTER_BITS - 1 - output)
        self._columns = columns
        # The same columns as a 1024 x 16 matrix of big-endian 64-bit words, so one gather +
        # XOR-reduce in numpy computes the output (about twice as fast as integer XORs).
        self._column_words = (
            np.frombuffer(b"".join(c.to_bytes(FILTER_BYTES, "big") for c in columns), ">u8")
            .reshape(FILTER_BITS, FILTER_BYTES // 8)
            .astype(np.uint64)
        )
        self.encode = lru_cache(maxsize=100_000)(self._encode)  # type: ignore[method-assign]
        self._bigram_positions = lru_cache(maxsize=50_000)(self._positions)

    def _positions(self, bigram: str) -> frozenset[int]:
        return frozenset(
            bigram_positions(self._positions_key, bigram, HASHES_PER_BIGRAM, FILTER_BITS)
        )

    def input_positions(self, value: str) -> set[int]:
        """Set positions of the unhardened filter (for measurements and attack tests)."""
        return set().union(*map(self._bigram_positions, bigrams(value)))

    @lru_cache(maxsize=50_000)  # noqa: B019 - one encoder per field and key, kept for the run
    def _part_positions(self, part: str, *, leading: bool) -> frozenset[int]:
        padded = f"_{part}" if leading else f"{part}_"
        grams = {padded[i : i + 2] for i in range(len(padded) - 1)}
        return frozenset().union(*map(self._bigram_positions, grams))

    def encode_joined(self, first: str, second: str) -> bytes | None:
        """``encode(first + second)``, reusing cached halves (full name = given + family).

        Bigrams of ``_ab_`` are those of ``_a``, of ``b_`` and the junction bigram, so a new
        combination of known names costs two cache hits instead of a full recomputation.
        """
        if not first or not second:
            return self.encode(first or second)
        positions = (
            self._part_positions(first, leading=True)
            | self._part_positions(second, leading=False)
            | self._bigram_positions(first[-1] + second[0])
        )
        return self._from_positions(positions)

    def _from_positions(self, positions: set[int] | frozenset[int]) -> bytes:
        if self.hardened:
            rows = np.fromiter(positions, dtype=np.intp, count=len(positions))
            words = np.bitwise_xor.reduce(self._column_words[rows], axis=0)
            return words.astype(">u8").tobytes()
        accumulator = 0
        for position in positions:
            accumulator |= 1 << (FILTER_BITS - 1 - position)
        return accumulator.to_bytes(FILTER_BYTES, "big")

    def _encode(self, value: str) -> bytes | None:
        """128-byte filter of a canonical value; None for an empty value."""
        if not value:
            return None
        return self._from_positions(self.input_positions(value))


def dice(left: bytes | None, right: bytes | None) -> float:
    """Dice coefficient of two packed filters (0.0 when either is missing or both empty)."""
    if left is None or right is None:
        return 0.0
    a = int.from_bytes(left, "big")
    b = int.from_bytes(right, "big")
    total = a.bit_count() + b.bit_count()
    return 2 * (a & b).bit_count() / total if total else 0.0
