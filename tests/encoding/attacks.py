"""Attacks on the batch encodings, as a warehouse insider without the key would run them.

The attacker sees the encodings of a population and knows the name frequency distribution
(the names and their probabilities), as public census or voter-list statistics give.

1. Frequency alignment: rank the distinct encodings of a field (identical filters or
   tokens) by count and pair them with the known names ranked by probability.
2. Bit-pattern mining (after Christen et al., "Efficient cryptanalysis of Bloom filters"):
   seed with the frequency-aligned most frequent filters, learn for each bigram the bit
   positions that every seed filter containing that bigram has set (AND), then decode every
   other filter as the dictionary name whose learned bigram patterns it contains and that
   explains its set bits; confident decodes join the seeds for further rounds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from linkage.encoding.bloom import bigrams


def frequency_alignment(encodings: Sequence[object], names_by_rank: Sequence[str]) -> dict:
    """Map each distinct encoding to the name of the same frequency rank."""
    counts = Counter(e for e in encodings if e is not None)
    ranked = [encoding for encoding, _ in counts.most_common()]
    return dict(zip(ranked, names_by_rank, strict=False))


def _bits(filter_bytes: bytes) -> np.ndarray:
    return np.unpackbits(np.frombuffer(filter_bytes, dtype=np.uint8)).astype(bool)


def _learn_patterns(
    labels: dict[bytes, str], bits: dict[bytes, np.ndarray], dictionary: dict[str, set[str]]
) -> dict[str, np.ndarray]:
    """Bit positions of each bigram: set in every labelled filter whose name has the bigram
    and in at most a third of those whose name lacks it (common collisions removed)."""
    matrix = np.array([bits[f] for f in labels])
    names = list(labels.values())
    grams = sorted({g for name in names for g in dictionary.get(name, set(bigrams(name)))})
    patterns: dict[str, np.ndarray] = {}
    for gram in grams:
        has = np.array([gram in dictionary.get(n, set(bigrams(n))) for n in names])
        pattern = matrix[has].all(axis=0)
        if (~has).any():
            pattern &= matrix[~has].mean(axis=0) <= 0.2
        if pattern.any():
            patterns[gram] = pattern
    return patterns


def pattern_mining(
    filters: Sequence[bytes | None],
    names_by_rank: Sequence[str],
    *,
    seeds: int = 30,
    rounds: int = 4,
    accept: float = 0.7,
) -> dict[bytes, str]:
    """Decode distinct filters to dictionary names; returns filter -> guessed name."""
    counts = Counter(f for f in filters if f is not None)
    distinct = [f for f, _ in counts.most_common()]
    bits = {f: _bits(f) for f in distinct}
    labels: dict[bytes, str] = dict(zip(distinct[:seeds], names_by_rank[:seeds], strict=False))
    dictionary = {name: set(bigrams(name)) for name in names_by_rank}
    guesses: dict[bytes, str] = dict(labels)
    for _ in range(rounds):
        usable = _learn_patterns(labels, bits, dictionary)
        new_labels: dict[bytes, str] = {}
        for f in distinct:
            if f in labels:
                continue
            x = bits[f]
            best, best_score = None, 0.0
            for name, grams in dictionary.items():
                known = [g for g in grams if g in usable]
                if not known:
                    continue
                # Soft containment: learned patterns keep some wrong positions.
                present = [(usable[g] & x).sum() / usable[g].sum() for g in known]
                contained = [g for g, share in zip(known, present, strict=True) if share >= 0.8]
                if not contained:
                    continue
                explained = np.logical_or.reduce([usable[g] for g in contained])
                coverage = (explained & x).sum() / max(x.sum(), 1)
                score = (sum(present) / len(grams)) * coverage
                if score > best_score:
                    best, best_score = name, score
            if best is not None:
                guesses[f] = best
                if best_score >= accept:
                    new_labels[f] = best
        if not new_labels:
            break
        labels.update(new_labels)
    return guesses
