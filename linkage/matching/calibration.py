"""Calibration of a trained model on its own scores of a record sample (no labels).

After EM, the model scores the candidate pairs of a random sample of the training records
(up to `threshold_sample_records`; sampling records keeps the share of matches among pairs,
both shrink by the square of the fraction), blocked by
`spec.calibration_blocking_rule_settings`. From those scores:

1. The match rate among random pairs is estimated as the model's expected number of
   matches in the sample (the sum of its match probabilities) over the number of record
   pairs in the sample. The deterministic-rule lambda assumes a recall (0.7) the data may
   not have: 4.4e-4 on encoded FEBRL3 where the expected matches say 5.1e-4, 1.5e-5 on
   100k synthetic records where they say 3.1e-5.
2. u is cleaned of the true matches the random sample for u contained
   (`parameters.remove_matches_from_u`) at that rate, and floored at one pair in the
   `u_max_pairs` sampled (below that, u cannot be told apart from 0).

Both steps re-weight the already scored pairs from their agreement levels (no second
Splink run), and repeat until the rate settles (it moves by under 1% after one round).
The prior of the model stays the deterministic-rule lambda: raising it to the expected
match rate as well lifted recall on 100k synthetic records (0.902 -> 0.920) but cut
precision more (0.966 -> 0.930, F1 0.933 -> 0.925), because the comparisons are not
independent (relatives share family name, father's name, place and phone) and the model
is overconfident on such pairs; the lower prior offsets that.

3. The auto-link threshold: with rule `expected_f1`, the probability that maximises the
   model's own expected F1 over the sample's pairs (`linkage.matching.threshold`), bounded
   to [min_auto_link_probability, max_auto_link_probability]; rule `probability` uses
   `auto_link_probability`.
"""

from __future__ import annotations

import copy
import logging
import math
from typing import Any

import duckdb
import numpy as np

from linkage.matching.parameters import clamp_probabilities, remove_matches_from_u
from linkage.matching.spec import LinkageSettings, calibration_blocking_rule_settings
from linkage.matching.threshold import expected_f1_threshold, probability_to_weight

logger = logging.getLogger(__name__)

SAMPLE_TABLE = "__pahichan_threshold_sample"
# Pairs below this posterior add almost nothing to the expected sums; not scoring them
# keeps the step cheap.
_SCORING_FLOOR_PROBABILITY = 1e-4
# Lowest m kept in a model (a level never seen among matches in a small EM sample).
PROBABILITY_FLOOR = 1e-5
_MAX_ROUNDS = 5
_LAMBDA_TOLERANCE = 0.01


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _level_weights(model: dict[str, Any]) -> dict[str, dict[int, float]]:
    """log2(m/u) per comparison and gamma value (Splink numbers levels else=0 upwards)."""
    weights: dict[str, dict[int, float]] = {}
    for comparison in model["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        by_gamma = {}
        for index, level in enumerate(levels):
            m, u = level.get("m_probability"), level.get("u_probability")
            if _is_number(m) and _is_number(u) and m > 0 and u > 0:
                by_gamma[len(levels) - 1 - index] = math.log2(m / u)
        weights[comparison["output_column_name"]] = by_gamma
    return weights


def _logit2(probability: float) -> float:
    return math.log2(probability / (1.0 - probability))


def reweight(
    weights: np.ndarray,
    gammas: dict[str, np.ndarray],
    scored_with: dict[str, Any],
    new: dict[str, Any],
) -> np.ndarray:
    """Match weights of pairs scored with `scored_with`, under the parameters of `new`.

    A level whose weight is unknown in either model keeps its contribution unchanged.
    """
    old_levels, new_levels = _level_weights(scored_with), _level_weights(new)
    out = weights + (
        _logit2(new["probability_two_random_records_match"])
        - _logit2(scored_with["probability_two_random_records_match"])
    )
    for name, values in gammas.items():
        old, fresh = old_levels.get(name, {}), new_levels.get(name, {})
        delta = {g: fresh[g] - old[g] for g in old.keys() & fresh.keys()}
        if delta:
            # Table indexed by gamma + 1 (null = -1 -> 0): one vector look-up per comparison.
            index = np.asarray(values, dtype=np.int64) + 1
            table = np.zeros(max(max(delta) + 1, int(index.max(initial=0))) + 1)
            for gamma, value in delta.items():
                table[gamma + 1] = value
            out = out + table[index]
    return out


def _probabilities(weights: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp2(-weights))


def _cleaned(raw: dict[str, Any], match_rate: float, u_floor: float) -> dict[str, Any]:
    """`raw` with u cleaned of a share `match_rate` of matches; its prior left as it is."""
    cleaned = remove_matches_from_u(copy.deepcopy(raw), match_rate=match_rate, floor=u_floor)
    return clamp_probabilities(cleaned, floor=PROBABILITY_FLOOR, u_floor=u_floor)


def _score_sample(
    con: duckdb.DuckDBPyConnection,
    table: str,
    model: dict[str, Any],
    settings: LinkageSettings,
    seed: int,
) -> tuple[int, np.ndarray, dict[str, np.ndarray]]:
    """(records in the sample, match weights, gammas) of the sample's candidate pairs."""
    from splink import DuckDBAPI, Linker

    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {SAMPLE_TABLE} AS SELECT * FROM {table}
        USING SAMPLE reservoir({int(settings.threshold_sample_records)} ROWS)
        REPEATABLE ({int(seed)})"""  # noqa: S608 - identifiers/ints from code
    )
    records = int(con.execute(f"SELECT count(*) FROM {SAMPLE_TABLE}").fetchone()[0])  # noqa: S608
    sample = DuckDBAPI(con).register(SAMPLE_TABLE)
    linker = Linker(sample, model, log_level=None)
    scored = linker.inference.predict_within(
        sample,
        blocking_rules_to_generate_predictions=calibration_blocking_rule_settings(settings),
        threshold_match_weight=probability_to_weight(_SCORING_FLOOR_PROBABILITY),
    )
    names = [c["output_column_name"] for c in model["comparisons"]]
    columns = ", ".join(["match_weight", *(f"gamma_{n}" for n in names)])
    data = con.execute(f"SELECT {columns} FROM {scored.physical_name}").fetchnumpy()  # noqa: S608
    scored.drop_table_from_database_and_remove_from_cache()
    linker.table_management.delete_tables_created_by_splink_from_db()
    con.execute(f"DROP TABLE IF EXISTS {SAMPLE_TABLE}")
    weights = np.asarray(data["match_weight"], dtype=float)
    return records, weights, {n: np.asarray(data[f"gamma_{n}"]) for n in names}


def calibrate(
    con: duckdb.DuckDBPyConnection,
    table: str,
    raw_model: dict[str, Any],
    settings: LinkageSettings,
    log: dict[str, Any],
    *,
    seed: int | None = None,
) -> tuple[dict[str, Any], float]:
    """(calibrated Splink model, auto-link probability) from the model's scores of `table`.

    `raw_model` is Splink's model JSON right after EM (sampled u, deterministic lambda);
    `seed` draws the record sample (default `settings.seed`).
    """
    rate = float(raw_model["probability_two_random_records_match"])
    # u cannot be told apart from 0 below one pair in the pairs sampled for it.
    u_floor = 1.0 / settings.u_max_pairs
    model = _cleaned(raw_model, rate, u_floor)
    records, weights, gammas = _score_sample(
        con, table, model, settings, settings.seed if seed is None else seed
    )
    sample_pairs = records * (records - 1) / 2
    rounds = []
    for _ in range(_MAX_ROUNDS):
        expected = float(_probabilities(weights).sum())
        if not expected or not sample_pairs:
            break
        new_rate = min(0.5, expected / sample_pairs)
        rounds.append(new_rate)
        settled = abs(new_rate - rate) <= _LAMBDA_TOLERANCE * rate
        rate = new_rate
        cleaned = _cleaned(raw_model, rate, u_floor)
        weights = reweight(weights, gammas, model, cleaned)
        model = cleaned
        if settled:
            break
    log["lambda"] = {
        "prior_deterministic_rules": model["probability_two_random_records_match"],
        "match_rate_rounds": rounds,
        "match_rate_for_u": rate,
    }
    return model, _auto_link_probability(_probabilities(weights), settings, log)


def _auto_link_probability(
    probabilities: np.ndarray, settings: LinkageSettings, log: dict[str, Any]
) -> float:
    if settings.threshold_rule == "probability":
        log["threshold"] = {"rule": "probability", "probability": settings.auto_link_probability}
        return settings.auto_link_probability
    if settings.threshold_rule != "expected_f1":
        raise ValueError(
            f"Unknown threshold_rule {settings.threshold_rule!r}: use 'expected_f1' or "
            "'probability'."
        )
    probabilities = probabilities[probabilities >= _SCORING_FLOOR_PROBABILITY]
    if len(probabilities) == 0:
        logger.warning(
            "The model scored no candidate pair in its training sample; auto-link threshold "
            "falls back to probability %s.",
            settings.auto_link_probability,
        )
        log["threshold"] = {"rule": "fallback", "probability": settings.auto_link_probability}
        return settings.auto_link_probability
    choice = expected_f1_threshold(
        probabilities,
        lowest=settings.min_auto_link_probability,
        highest=settings.max_auto_link_probability,
    )
    log["threshold"] = {
        "rule": "expected_f1",
        "probability": choice.probability,
        "expected_f1": choice.expected_f1,
        "expected_matches_in_sample": choice.expected_matches,
        "predicted_links_in_sample": choice.predicted_links,
        "sample_pairs_scored": len(probabilities),
    }
    logger.info(
        "Auto-link threshold: probability %.3f (model's expected F1 %.4f on %d sampled pairs)",
        choice.probability,
        choice.expected_f1,
        len(probabilities),
    )
    return choice.probability
