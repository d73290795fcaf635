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
repeat, and the cache is what makes the encoder fast. New values are encoded many at a time
(:meth:`BloomEncoder.encode_many`): one numpy pass over the whole batch instead of a few numpy
calls per value, whose fixed overhead used to dominate.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from linkage.encoding.crypto import bigram_positions, derive_subkey, keyed_index_table

FILTER_BITS = 1024
FILTER_BYTES = FILTER_BITS // 8
HASHES_PER_BIGRAM = 20
DIFFUSION_WIDTH = 10
BLOOM_FIELDS = ("given_name", "family_name", "father_name", "full_name")
# Bounds of the per-encoder caches (one encoder per field and key, kept for the run).
_FILTER_CACHE = 100_000
_BIGRAM_CACHE = 50_000
# Values encoded per numpy pass: the gather below holds ~150 rows of 128 bytes per value,
# so 1024 values keep it near 20 MB.
_CHUNK = 1024


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
    Bit ``i`` of a filter is bit ``7 - i % 8`` of byte ``i // 8`` (``np.packbits`` order).
    The diffusion layer is linear over GF(2), so the output is the XOR of the precomputed
    1024-bit columns of the set input bits: a gather + XOR-reduce in numpy.
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
        # columns[i]: the output bits that input bit i toggles (output j = XOR of its inputs),
        # as a 1024 x 16 matrix of 64-bit words (big-endian word order, native values).
        columns = np.zeros((FILTER_BITS, FILTER_BITS), dtype=bool)
        for output, inputs in enumerate(wiring):
            for source in inputs:
                columns[source, output] ^= True
        self._column_words = np.packbits(columns, axis=1).view(">u8").astype(np.uint64)
        self._filters: dict[str, bytes | None] = {}
        self._bigram_ids: dict[str, int] = {}
        self._bigram_rows: list[list[int]] = []  # positions of bigram i (duplicates possible)
        self._bigram_table = np.zeros((0, HASHES_PER_BIGRAM), dtype=np.intp)

    def encode(self, value: str) -> bytes | None:
        """128-byte filter of a canonical value; None for an empty value."""
        return self.encode_many((value,))[value]

    def encode_joined(self, first: str, second: str) -> bytes | None:
        """``encode(first + second)`` (full name = given + family, spaces removed)."""
        return self.encode(first + second)

    def encode_many(self, values: Iterable[str]) -> dict[str, bytes | None]:
        """Filters of the distinct values (None for ''); new ones computed in bulk."""
        distinct = set(values)
        cache = self._filters
        missing = [value for value in distinct if value not in cache]
        if len(cache) + len(missing) > _FILTER_CACHE:
            cache.clear()
            missing = list(distinct)
        for start in range(0, len(missing), _CHUNK):
            chunk = missing[start : start + _CHUNK]
            cache.update(zip(chunk, self._compute(chunk), strict=True))
        return {value: cache[value] for value in distinct}

    def input_positions(self, value: str) -> set[int]:
        """Set positions of the unhardened filter (for measurements and attack tests)."""
        return {
            position
            for gram in bigrams(value)
            for position in self._bigram_rows[self._bigram_id(gram)]
        }

    def _bigram_id(self, gram: str) -> int:
        """Row of a bigram in the position table, computing its keyed positions once."""
        index = self._bigram_ids.get(gram)
        if index is None:
            index = self._bigram_ids[gram] = len(self._bigram_rows)
            self._bigram_rows.append(
                bigram_positions(self._positions_key, gram, HASHES_PER_BIGRAM, FILTER_BITS)
            )
        return index

    def _input_bits(self, values: list[str]) -> np.ndarray:
        """(len(values), 1024) booleans: the unhardened filters of non-empty values."""
        if len(self._bigram_rows) > _BIGRAM_CACHE:
            self._bigram_ids.clear()
            self._bigram_rows.clear()
        rows: list[int] = []
        grams: list[int] = []
        lookup, add = self._bigram_ids.get, self._bigram_id
        for row, value in enumerate(values):
            padded = f"_{value}_"
            for index in range(len(padded) - 1):
                gram = padded[index : index + 2]
                gram_id = lookup(gram)
                grams.append(add(gram) if gram_id is None else gram_id)
            rows.extend([row] * (len(padded) - 1))
        if len(self._bigram_table) != len(self._bigram_rows):
            self._bigram_table = np.array(self._bigram_rows, dtype=np.intp).reshape(
                -1, HASHES_PER_BIGRAM
            )
        bits = np.zeros((len(values), FILTER_BITS), dtype=bool)
        # A bigram seen twice sets the same bits twice: harmless for an OR.
        bits[np.repeat(rows, HASHES_PER_BIGRAM), self._bigram_table[grams].ravel()] = True
        return bits

    def _diffused(self, bits: np.ndarray) -> np.ndarray:
        """(n, 128) bytes: XOR of the columns of each row's set input bits."""
        rows, sources = np.nonzero(bits)  # row-major, so each row's bits are contiguous
        starts = np.searchsorted(rows, np.arange(len(bits)))  # every row has >= 2 bigrams
        words = np.bitwise_xor.reduceat(self._column_words[sources], starts, axis=0)
        return words.astype(">u8").view(np.uint8)

    def _compute(self, values: list[str]) -> list[bytes | None]:
        present = [value for value in values if value]
        if not present:
            return [None] * len(values)
        bits = self._input_bits(present)
        packed = self._diffused(bits) if self.hardened else np.packbits(bits, axis=1)
        blob = packed.tobytes()
        filters = iter(
            [blob[start : start + FILTER_BYTES] for start in range(0, len(blob), FILTER_BYTES)]
        )
        return [next(filters) if value else None for value in values]


def dice(left: bytes | None, right: bytes | None) -> float:
    """Dice coefficient of two packed filters (0.0 when either is missing or both empty)."""
    if left is None or right is None:
        return 0.0
    a = int.from_bytes(left, "big")
    b = int.from_bytes(right, "big")
    total = a.bit_count() + b.bit_count()
    return 2 * (a & b).bit_count() / total if total else 0.0
