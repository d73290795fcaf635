"""Direct evidence between two records, for pairs the blocking rules never compared.

A cluster is a chain of links: A-B and B-C put A and C under one survivor ID although A
and C were never compared, or were compared and scored far below review (such pairs are
not stored). On a held-out register 41 of 170 false pairs arose that way, mostly
namesakes and siblings of one district whose fathers' names or birth dates differ.

`direct_evidence` scores arbitrary pairs with the trained model itself: every comparison
level's SQL condition of the model's Splink settings, evaluated on the prepared input (the
same columns Splink reads), and each level's log2(m/u) as trained. `against` sums the
negative contributions of the fields that tell two people apart (father's name, birth,
citizenship and passport number): how strongly the pair's own data say "two people".
`chain_conflicts` returns, within each linked component of >= 3 records, the record pairs
without a direct link whose evidence against reaches `LinkageSettings.cannot_link_bits`;
clustering treats them like reviewed cannot-links for that run (they are not stored),
except for records with a reviewed must-link.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import duckdb
import numpy as np
import pyarrow as pa

from linkage.matching.clustering import Edge
from linkage.matching.prepare import prepare_input
from linkage.matching.review import level_weights
from linkage.matching.spec import TrainedModel, gamma_case, gamma_columns

# Fields whose disagreement is evidence of two different people (names disagree for
# typos, married surnames and transliteration too; sex and place for clerical reasons).
AGAINST_FIELDS = ("father_name", "birth", "citizenship", "passport")
_INPUT = "__pahichan_evidence_input"
_PAIRS = "__pahichan_evidence_pairs"
_TOKENS = "__pahichan_evidence_tokens"
# A NULL level (none of the model's conditions held): weighs nothing, as an unknown level.
_NO_LEVEL = -(10**6)

Pair = tuple[str, str]


def direct_evidence(
    con: duckdb.DuckDBPyConnection, model: TrainedModel, pairs: Iterable[Pair]
) -> dict[Pair, tuple[float, float]]:
    """(low, high) pair -> (match weight of the pair, bits of evidence against).

    The match weight is the model's (prior + every comparison's log2(m/u)); the evidence
    against is the sum of the negative contributions of AGAINST_FIELDS (0 when none
    disagrees). Pairs with a record no longer linkable are left out.
    """
    wanted = sorted({(a, b) if a <= b else (b, a) for a, b in pairs})
    if not wanted:
        return {}
    left, right = zip(*wanted, strict=True)
    # Rows come back by their position in `wanted`: cheaper to fetch than the two tokens.
    con.register(_PAIRS, pa.table({"i": range(len(wanted)), "a": list(left), "b": list(right)}))
    con.register(_TOKENS, pa.table({"record_token": sorted(set(left) | set(right))}))
    try:
        prepare_input(con, _INPUT, model.settings, "all", record_tokens=_TOKENS)
        comparisons = model.splink_model["comparisons"]
        gammas_of = gamma_columns(model.splink_model)
        cases = ", ".join(
            f"{gamma_case(c)} AS {g}" for c, g in zip(comparisons, gammas_of, strict=True)
        )
        columns = con.execute(
            f"""SELECT p.i, {cases} FROM {_PAIRS} AS p
            JOIN {_INPUT} AS l ON l.record_token = p.a
            JOIN {_INPUT} AS r ON r.record_token = p.b"""  # noqa: S608 - model's own SQL
        ).fetchnumpy()
    finally:
        con.unregister(_PAIRS)
        con.unregister(_TOKENS)
        con.execute(f"DROP TABLE IF EXISTS {_INPUT}")
    weights = level_weights(model)
    prior = float(model.splink_model.get("probability_two_random_records_match", 1e-4))
    total = np.full(len(columns["i"]), math.log2(prior / (1 - prior)))
    against = np.zeros(len(total))
    # Per comparison, in the model's order (so the sums are the same floats as adding them
    # up pair by pair): each level's weight where the pair is at that level, else 0.
    for comparison, column in zip(comparisons, gammas_of, strict=True):
        name = comparison["output_column_name"]
        gammas = np.ma.filled(np.ma.asarray(columns[column]), _NO_LEVEL)
        contribution = np.zeros(len(total))
        for gamma, (_, bits) in weights[name].items():
            contribution[gammas == gamma] = bits
        total = total + contribution
        if name in AGAINST_FIELDS:
            against = against + np.minimum(contribution, 0.0)
    return {
        wanted[i]: (t, g)
        for i, t, g in zip(columns["i"].tolist(), total.tolist(), against.tolist(), strict=True)
    }


def chain_conflicts(
    con: duckdb.DuckDBPyConnection,
    model: TrainedModel,
    linked_components: list[list[str]],
    edges: list[Edge],
) -> set[frozenset[str]]:
    """Unlinked pairs inside linked components that their own data say are two people
    (`linked_components`: `clustering.components` of the graph of `edges`)."""
    linked = {(e.left, e.right) if e.left <= e.right else (e.right, e.left) for e in edges}
    candidates: list[Pair] = []
    limit = model.settings.max_cluster_size
    for component in linked_components:
        # Components beyond the size limit are rebuilt by the size guard anyway; their
        # pairs grow with the square of the size.
        if len(component) < 3 or len(component) > 4 * limit:
            continue
        ordered = sorted(component)
        for i, x in enumerate(ordered):
            candidates += [(x, y) for y in ordered[i + 1 :] if (x, y) not in linked]
    if not candidates:
        return set()
    # Reviewers' decisions win: a record with a reviewed must-link is never held apart by
    # inference (the reviewer saw more than the tokens, and her links are transitive).
    reviewed = {x for e in edges if e.must_link for x in (e.left, e.right)}
    candidates = [(x, y) for x, y in candidates if x not in reviewed and y not in reviewed]
    evidence = direct_evidence(con, model, candidates)
    cutoff = -model.settings.cannot_link_bits
    return {frozenset(pair) for pair, (_, against) in evidence.items() if against <= cutoff}
