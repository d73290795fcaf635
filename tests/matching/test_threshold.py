"""The auto-link threshold comes from the model's own probabilities (expected F1), bounded."""

from __future__ import annotations

import math

import numpy as np
import pytest

from linkage.matching.threshold import expected_f1_threshold, probability_to_weight


def _expected_f1(p: np.ndarray, t: float) -> float:
    linked = p[p >= t]
    return 2 * linked.sum() / (len(linked) + p.sum())


def test_picks_the_maximum_of_the_expected_f1_curve():
    rng = np.random.default_rng(3)
    # Confident matches, confident non-matches and a band of doubtful pairs.
    p = np.concatenate(
        [rng.uniform(0.95, 1, 500), rng.uniform(0, 0.05, 5000), rng.uniform(0, 1, 300)]
    )
    choice = expected_f1_threshold(p)
    candidates = np.unique(p[(p >= 0.2) & (p <= 0.999)])
    best = max(candidates, key=lambda t: _expected_f1(p, t))
    assert choice.probability == pytest.approx(best)
    assert choice.expected_f1 == pytest.approx(_expected_f1(p, best), abs=1e-6)
    # For calibrated probabilities the optimum sits near half the best F1.
    assert 0.3 < choice.probability < 0.6


def test_threshold_moves_with_the_model_not_fixed():
    doubtful = np.array([0.7] * 100 + [0.3] * 100 + [0.99] * 50)
    # Pairs at 0.3 lower expected precision more than they add recall: not linked...
    assert expected_f1_threshold(doubtful).probability == pytest.approx(0.7)
    # ...but when most of the match mass sits at 0.3, linking them pays.
    many_low = np.array([0.3] * 1000 + [0.99] * 10)
    assert expected_f1_threshold(many_low).probability == pytest.approx(0.3)


def test_bounds_hold():
    assert expected_f1_threshold([0.1] * 50 + [0.15] * 50, lowest=0.2).probability == 0.2
    assert expected_f1_threshold([0.9999] * 10, highest=0.999).probability == 0.999
    assert expected_f1_threshold([0.05, 0.9, 0.95], lowest=0.5).probability >= 0.5


def test_ties_are_linked_together():
    choice = expected_f1_threshold([0.6, 0.6, 0.6, 0.01])
    assert choice.predicted_links == 3


def test_empty_input_is_refused():
    with pytest.raises(ValueError, match="No scored pairs"):
        expected_f1_threshold([])


def test_probability_to_weight():
    assert probability_to_weight(0.5) == 0.0
    assert probability_to_weight(0.99) == pytest.approx(math.log2(99))
