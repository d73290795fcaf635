"""Linkage accuracy and blocking recall per hard case of the synthetic data.

Grain of `scores_by_case`: one row per case of `linkage.synthetic.cases.CASES` (plus
`all`). A pair belongs to a case when either of its records carries the label
(`cases.label_records`); per case, precision is over the predicted pairs of the case,
recall over its true pairs, and blocking recall is the share of its true pairs that at
least one prediction blocking rule makes a candidate.

Evaluation only: it needs the truth, which never reaches the warehouse.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import duckdb

from linkage.synthetic.cases import CASES

Pair = tuple[str, str]


def caught_pairs(
    con: duckdb.DuckDBPyConnection, settings: object, pairs: Iterable[Pair]
) -> set[Pair]:
    """The pairs (of record tokens in `linkage.records`) that some prediction rule blocks.

    Evaluates the rules on the given pairs only: the cost grows with the truth, not with
    the square of the store.
    """
    import pyarrow as pa

    from linkage.matching.prepare import prepare_input
    from linkage.matching.spec import blocking_conditions  # with the exploded rule

    pairs = list(pairs)
    if not pairs:
        return set()
    prepare_input(con, "__case_input", settings, "all")  # type: ignore[arg-type]
    left, right = zip(*pairs, strict=True)
    con.register("__case_pairs", pa.table({"a": list(left), "b": list(right)}))
    condition = " OR ".join(f"({rule})" for rule in blocking_conditions(settings))  # type: ignore[arg-type]
    try:
        rows = con.execute(
            f"""SELECT t.a, t.b FROM __case_pairs AS t
            JOIN __case_input AS l ON l.record_token = t.a
            JOIN __case_input AS r ON r.record_token = t.b
            WHERE coalesce({condition}, FALSE)"""  # noqa: S608 - rules are code constants
        ).fetchall()
    finally:
        con.unregister("__case_pairs")
        con.execute("DROP TABLE IF EXISTS __case_input")
    return {(a, b) for a, b in rows}


def _prf(hits: int, predicted: int, true: int) -> dict[str, float]:
    precision = hits / predicted if predicted else 0.0
    recall = hits / true if true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def scores_by_case(
    predicted: set[Pair],
    truth: set[Pair],
    labels: Mapping[str, frozenset[str]],
    caught: set[Pair] | None = None,
) -> dict[str, dict[str, float]]:
    """Per case (and `all`): true and predicted pairs, precision, recall, F1, blocking recall.

    `labels` maps a record token to its case labels; `caught` is the subset of `truth` some
    blocking rule pairs (None: not reported). Pairs are (low, high) token tuples.
    """
    empty: frozenset[str] = frozenset()

    def cases_of(pair: Pair) -> frozenset[str]:
        return labels.get(pair[0], empty) | labels.get(pair[1], empty)

    out: dict[str, dict[str, float]] = {}
    true_by: dict[str, set[Pair]] = {case: set() for case in CASES}
    predicted_by: dict[str, set[Pair]] = {case: set() for case in CASES}
    for pair in truth:
        for case in cases_of(pair):
            true_by[case].add(pair)
    for pair in predicted:
        for case in cases_of(pair):
            predicted_by[case].add(pair)
    true_by["all"], predicted_by["all"] = truth, predicted
    for case in (*CASES, "all"):
        true_pairs, predicted_pairs = true_by[case], predicted_by[case]
        row: dict[str, float] = {
            "true_pairs": len(true_pairs),
            "predicted_pairs": len(predicted_pairs),
            **_prf(len(true_pairs & predicted_pairs), len(predicted_pairs), len(true_pairs)),
        }
        if caught is not None:
            row["blocking_recall"] = (
                round(len(true_pairs & caught) / len(true_pairs), 4) if true_pairs else 1.0
            )
        out[case] = row
    return out


def hard_case_blocking_recall(table: Mapping[str, Mapping[str, float]]) -> float:
    """Blocking recall over the true pairs of the hard cases, from `scores_by_case` rows.

    Weighted by true pairs per case (a pair in two cases counts twice), the figure the
    issue's ">= 0.99 on the hard cases" target reads.
    """
    rows = [table[c] for c in CASES if c in table and "blocking_recall" in table[c]]
    total = sum(r["true_pairs"] for r in rows)
    if not total:
        return 1.0
    return round(sum(r["blocking_recall"] * r["true_pairs"] for r in rows) / total, 4)
