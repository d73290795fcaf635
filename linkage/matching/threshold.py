"""The auto-link threshold, chosen by the trained model from its own predictions (no labels).

Rule `expected_f1`: if the model's match probabilities are calibrated, a pair scored p is a
true match with probability p. Over the scored candidate pairs, linking every pair with
p >= t is then expected to give

    expected TP(t)        = sum of p_i over pairs with p_i >= t
    expected positives    = sum of p_i over all scored pairs (true matches in the data)
    predicted positives   = number of pairs with p_i >= t
    expected F1(t)        = 2 * expected TP(t) / (predicted positives + expected positives)

and the threshold is the t that maximises it (for calibrated probabilities that lands near
half the best F1, i.e. p ~ 0.5: link when a match is more likely than not). The truth is
never consulted; the curve comes from the model alone, so a poorly calibrated model picks a
poor threshold - which is why the chosen value is bounded and stored in the model JSON.

Rule `probability`: a fixed posterior probability (`auto_link_probability`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def probability_to_weight(probability: float) -> float:
    """Match weight (log2 Bayes factor incl. prior) at which the posterior equals p."""
    return math.log2(probability / (1.0 - probability))


@dataclass(frozen=True)
class ThresholdChoice:
    """The chosen auto-link probability and what the model expected at it."""

    probability: float
    expected_f1: float
    expected_matches: float
    predicted_links: int


def expected_f1_threshold(
    probabilities: np.ndarray | list[float],
    *,
    lowest: float = 0.2,
    highest: float = 0.999,
) -> ThresholdChoice:
    """The probability threshold in [lowest, highest] that maximises expected F1.

    `probabilities` are the model's match probabilities of scored candidate pairs (pairs
    never scored are assumed to have probability ~0). Raises ValueError when empty.
    """
    p = np.sort(np.asarray(probabilities, dtype=float))[::-1]
    if p.size == 0:
        raise ValueError("No scored pairs: cannot choose an expected-F1 threshold.")
    expected_matches = float(p.sum())
    expected_tp = np.cumsum(p)  # linking the top k+1 pairs
    links = np.arange(1, p.size + 1)
    f1 = 2.0 * expected_tp / (links + expected_matches)
    allowed = (p >= lowest) & (p <= highest)
    if not allowed.any():
        # Every pair is above `highest` or below `lowest`: the bound itself is the answer.
        bound = highest if p[-1] > highest else lowest
        return ThresholdChoice(bound, 0.0, expected_matches, int((p >= bound).sum()))
    best = int(np.argmax(np.where(allowed, f1, -1.0)))
    # Ties (equal probabilities) must be linked together: the threshold is p[best] itself.
    threshold = float(p[best])
    predicted = int((p >= threshold).sum())
    f1_at = 2.0 * float(p[:predicted].sum()) / (predicted + expected_matches)
    return ThresholdChoice(threshold, round(f1_at, 6), round(expected_matches, 3), predicted)
