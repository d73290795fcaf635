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
3-4. Attacks on the name edit tokens: see the section at the end.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence

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


# --- Name edit tokens (pahichan-enc-3, issue 18) -------------------------------------------
# The attacker knows the construction (public code) and the name frequencies, not the key:
# every token is an unknown label of one "message" (a full name with one field's deletion
# variant). Two attacks:
# 3. Token frequency alignment (`edit_token_frequency`): rank the tokens by count and the
#    messages by their expected frequency under the name statistics, pair them, and decode
#    each record as the full name most of whose messages its aligned tokens carry.
# 4. Edit-graph propagation (`edit_graph`): records sharing a token have full names one
#    letter apart in one field. Starting from guesses for some records (e.g. the name-key
#    frequency alignment), a record whose neighbour's name is guessed gets the most probable
#    dictionary full name one letter apart from it (agreeing with every guessed neighbour).

Messages = Callable[[str, str], set[str]]
FullName = tuple[str, str]


def _priors(names: Sequence[str], probabilities: Sequence[float]) -> dict[str, float]:
    return dict(zip(names, probabilities, strict=True))


_INDEXES: dict[tuple, tuple[Counter, dict[str, list[FullName]]]] = {}


def _message_index(
    messages: Messages, given: dict[str, float], family: dict[str, float]
) -> tuple[Counter, dict[str, list[FullName]]]:
    """Expected weight of every message, and the dictionary full names that send it."""
    key = (messages, tuple(given.items()), tuple(family.items()))
    if key in _INDEXES:
        return _INDEXES[key]
    weight: Counter = Counter()
    senders: dict[str, list[FullName]] = defaultdict(list)
    for g, pg in given.items():
        for f, pf in family.items():
            for message in messages(g, f):
                weight[message] += pg * pf
                senders[message].append((g, f))
    _INDEXES[key] = weight, senders
    return weight, senders


def edit_token_frequency(
    token_lists: Sequence[Sequence[str]],
    messages: Messages,
    given: dict[str, float],
    family: dict[str, float],
) -> list[FullName | None]:
    """Attack 3: a full-name guess per record (None when nothing aligns)."""
    weight, senders = _message_index(messages, given, family)
    observed = Counter(t for tokens in token_lists for t in tokens)
    aligned = dict(
        zip(
            (t for t, _ in observed.most_common()),
            (m for m, _ in weight.most_common()),
            strict=False,
        )
    )
    decoded: dict[tuple[str, ...], FullName | None] = {}
    out: list[FullName | None] = []
    for tokens in token_lists:
        key = tuple(tokens)
        if key not in decoded:
            votes: Counter = Counter()
            for t in tokens:
                message = aligned.get(t)
                for name in senders.get(message, ()) if message else ():
                    votes[name] += 1
            decoded[key] = (
                max(votes, key=lambda n: (votes[n], given[n[0]] * family[n[1]])) if votes else None
            )
        out.append(decoded[key])
    return out


def edit_graph(
    token_lists: Sequence[Sequence[str]],
    seeds: Sequence[FullName | None],
    messages: Messages,
    given: dict[str, float],
    family: dict[str, float],
) -> list[FullName | None]:
    """Attack 4: propagate seed guesses to records one letter apart (one round)."""
    _, senders = _message_index(messages, given, family)

    apart: dict[FullName, set[FullName]] = {}

    def one_apart(name: FullName) -> set[FullName]:
        if name not in apart:
            apart[name] = {o for m in messages(*name) for o in senders.get(m, ())} - {name}
        return apart[name]

    classes: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for index, tokens in enumerate(token_lists):
        if tokens:
            classes[tuple(tokens)].append(index)
    seed_of: dict[tuple[str, ...], FullName] = {}
    for key, members in classes.items():
        votes = Counter(seeds[i] for i in members if seeds[i] is not None)
        if votes:
            seed_of[key] = votes.most_common(1)[0][0]
    by_token: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for key in classes:
        for t in key:
            by_token[t].append(key)
    out = list(seeds)
    for key, members in classes.items():
        neighbours = {other for t in key for other in by_token[t]} - {key}
        candidates: set[FullName] | None = None
        for other in neighbours:
            if other in seed_of:
                near = one_apart(seed_of[other])
                candidates = near if candidates is None else candidates & near
        if not candidates:
            continue
        own = seed_of.get(key)
        guess = (
            own if own in candidates else max(candidates, key=lambda n: given[n[0]] * family[n[1]])
        )
        for i in members:
            out[i] = guess
    return out
