"""MinHash band keys computed in the warehouse from the full-name Bloom filters.

Phonetic-key blocking misses pairs whose keys differ (a typo in both names, or a variant
transliteration). MinHash over the *set bit positions* of a 1024-bit filter estimates the
Jaccard similarity of the two bit sets; a band key is `rows` MinHash values packed into one
integer, so two records share a band with probability J**rows and at least one of `bands`
bands with 1 - (1 - J**rows)**bands (J=0.6, rows=4, bands=10: 0.75; J=0.1: 0.001).

Nothing here needs the linkage secret: the permutations come from a public seed and act on
bit positions the warehouse already holds.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

FILTER_BITS = 1024
FILTER_BYTES = FILTER_BITS // 8
_BITS_PER_VALUE = 10  # a MinHash value is a rank in 0..1023


def lsh_params_label(bands: int, rows: int, seed: int) -> str:
    """Identifies how band keys were computed, so stale keys are recomputed."""
    return f"minhash-b{bands}-r{rows}-s{seed}"


def minhash_bands(
    filters: pa.Array | pa.ChunkedArray, *, bands: int, rows: int, seed: int
) -> list[list[int] | None]:
    """Band keys per filter (None for a null or empty filter), one list of `bands` ints."""
    if rows * _BITS_PER_VALUE > 62:
        raise ValueError("rows must be <= 6 so a band key fits in a BIGINT")
    if isinstance(filters, pa.ChunkedArray):
        filters = filters.combine_chunks()
    n = len(filters)
    valid = np.asarray(filters.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    matrix = np.zeros((n, FILTER_BYTES), dtype=np.uint8)
    present = np.flatnonzero(valid)
    if len(present):
        values = filters.filter(pa.array(valid)).to_pylist()
        if any(len(v) != FILTER_BYTES for v in values):
            raise ValueError(f"Bloom filters must be {FILTER_BYTES} bytes")
        matrix[present] = np.frombuffer(b"".join(values), dtype=np.uint8).reshape(-1, FILTER_BYTES)
    keys = _band_keys(matrix, bands=bands, rows=rows, seed=seed)
    has_bits = matrix.any(axis=1)
    return [keys[i].tolist() if has_bits[i] else None for i in range(n)]


def _band_keys(matrix: np.ndarray, *, bands: int, rows: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ranks = np.stack([rng.permutation(FILTER_BITS) for _ in range(bands * rows)]).astype(np.int64)
    n = matrix.shape[0]
    keys = np.zeros((n, bands), dtype=np.int64)
    bits = np.unpackbits(matrix, axis=1)
    row_index, positions = np.nonzero(bits)
    if len(row_index) == 0:
        return keys
    # Rows with at least one set bit, and where their positions start in the flat arrays.
    nonempty, starts = np.unique(row_index, return_index=True)
    for band in range(bands):
        key = np.zeros(len(nonempty), dtype=np.int64)
        for r in range(rows):
            values = ranks[band * rows + r][positions]
            key |= np.minimum.reduceat(values, starts) << (_BITS_PER_VALUE * r)
        keys[nonempty, band] = key
    return keys
