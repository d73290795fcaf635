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
# Values encoded per numpy pass: the diffusion gather holds 128 rows of 128 bytes per value,
# so 1024 values keep it near 16 MB.
_CHUNK = 1024
_BYTE_OFFSETS = np.arange(FILTER_BYTES, dtype=np.intp) * 256  # row of byte b in the table


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
    1024-bit columns of the set input bits, looked up a byte at a time (:meth:`_diffused`).
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
        self._byte_table = _byte_table(_column_words(wiring)) if hardened else None
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

    def _diffused(self, packed: np.ndarray) -> np.ndarray:
        """(n, 128) bytes: the diffusion layer applied to packed input filters.

        Input byte ``b`` with value ``v`` contributes the precomputed XOR of the columns of
        its set bits (``table[b, v]``), so each filter costs 128 row look-ups and one
        XOR-reduce, whatever its density ("method of four Russians").
        """
        assert self._byte_table is not None
        # np.take: the same gather as fancy indexing, measurably faster here.
        rows = np.take(self._byte_table, packed.astype(np.intp) + _BYTE_OFFSETS, axis=0)
        return np.bitwise_xor.reduce(rows, axis=1).astype(">u8").view(np.uint8)

    def _compute(self, values: list[str]) -> list[bytes | None]:
        present = [value for value in values if value]
        if not present:
            return [None] * len(values)
        packed = np.packbits(self._input_bits(present), axis=1)
        if self.hardened:
            packed = self._diffused(packed)
        blob = packed.tobytes()
        filters = iter(
            [blob[start : start + FILTER_BYTES] for start in range(0, len(blob), FILTER_BYTES)]
        )
        return [next(filters) if value else None for value in values]


def _column_words(wiring: list[list[int]]) -> np.ndarray:
    """1024 x 16 words: row ``i`` holds the output bits that input bit ``i`` toggles.

    Output ``j`` is the XOR of its wired inputs, so an input wired twice to one output
    cancels (parity of the wiring count). Words are big-endian 64-bit slices of the filter.
    """
    table = np.asarray(wiring, dtype=np.intp)
    counts = np.zeros((FILTER_BITS, FILTER_BITS), dtype=np.uint8)
    np.add.at(counts, (table.ravel(), np.repeat(np.arange(FILTER_BITS), table.shape[1])), 1)
    return np.packbits(counts & 1, axis=1).view(">u8").astype(np.uint64)


def _byte_table(columns: np.ndarray) -> np.ndarray:
    """(128 * 256) x 16 words: XOR of the columns of each input byte's set bits, per value.

    Built by doubling: values with bit ``k`` set are those without it XOR that bit's column
    (bit ``k`` of byte ``b``, value ``1 << k``, is input bit ``8 * b + 7 - k``).
    """
    per_bit = columns.reshape(FILTER_BYTES, 8, -1)
    table = np.zeros((FILTER_BYTES, 256, per_bit.shape[2]), dtype=np.uint64)
    for k in range(8):
        half = 1 << k
        table[:, half : 2 * half] = table[:, :half] ^ per_bit[:, 7 - k, None, :]
    return table.reshape(FILTER_BYTES * 256, -1)


def dice(left: bytes | None, right: bytes | None) -> float:
    """Dice coefficient of two packed filters (0.0 when either is missing or both empty)."""
    if left is None or right is None:
        return 0.0
    a = int.from_bytes(left, "big")
    b = int.from_bytes(right, "big")
    total = a.bit_count() + b.bit_count()
    return 2 * (a & b).bit_count() / total if total else 0.0
