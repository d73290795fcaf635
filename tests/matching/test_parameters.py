"""u from random sampling is cleaned of the true matches the sample holds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from linkage.matching.parameters import clamp_probabilities, remove_matches_from_u


def _model(lam: float, m: list[float], u: list[float]) -> dict:
    levels = [{"sql_condition": "x IS NULL", "is_null_level": True}]
    levels += [
        {"sql_condition": f"level {i}", "m_probability": mi, "u_probability": ui}
        for i, (mi, ui) in enumerate(zip(m, u, strict=True))
    ]
    return {
        "probability_two_random_records_match": lam,
        "comparisons": [{"output_column_name": "birth", "comparison_levels": levels}],
    }


def _u(model: dict) -> list[float]:
    levels = model["comparisons"][0]["comparison_levels"][1:]
    return [level["u_probability"] for level in levels]


def test_sampled_u_of_a_strong_level_loses_the_matches_it_counted():
    # 1 pair in 1,000 is a match; 90% of matches share the date, 0.01% of non-matches do.
    lam, m, true_u = 1e-3, [0.9, 0.1], [1e-4, 1 - 1e-4]
    sampled = [(1 - lam) * ui + lam * mi for mi, ui in zip(m, true_u, strict=True)]
    corrected = _u(remove_matches_from_u(_model(lam, m, sampled), floor=1e-6))
    assert corrected == pytest.approx(true_u, rel=1e-9)
    assert math.isclose(sum(corrected), 1.0)


def test_floor_holds_when_the_sample_saw_only_matches():
    model = remove_matches_from_u(_model(1e-3, [0.9, 0.1], [8e-4, 1 - 8e-4]), floor=1e-5)
    agree, disagree = _u(model)
    assert agree == pytest.approx(1e-5, rel=1e-3)
    assert agree + disagree == pytest.approx(1.0)


def test_untrained_levels_are_left_alone():
    model = _model(1e-3, [0.9, 0.1], [8e-4, 1 - 8e-4])
    model["comparisons"][0]["comparison_levels"][1]["m_probability"] = "level not observed"
    assert _u(remove_matches_from_u(model, floor=1e-5)) == [8e-4, 1 - 8e-4]


def test_clamp_lifts_zeros_only():
    model = clamp_probabilities(_model(1e-3, [0.0, 1.0], [0.5, 0.5]), floor=1e-5)
    assert model["comparisons"][0]["comparison_levels"][1]["m_probability"] == 1e-5
    assert _u(model) == [0.5, 0.5]


def test_reweight_matches_a_direct_sum_of_level_weights():
    from linkage.matching.calibration import reweight

    old = _model(1e-3, [0.9, 0.1], [1e-3, 1 - 1e-3])
    new = _model(2e-3, [0.9, 0.1], [1e-4, 1 - 1e-4])

    def direct(model: dict, gamma: int) -> float:
        lam = model["probability_two_random_records_match"]
        prior = math.log2(lam / (1 - lam))
        if gamma == -1:  # null level: no evidence
            return prior
        levels = model["comparisons"][0]["comparison_levels"][1:]
        level = levels[len(levels) - 1 - gamma]  # Splink numbers levels else=0 upwards
        return prior + math.log2(level["m_probability"] / level["u_probability"])

    gammas = np.array([1, 0, -1])
    weights = np.array([direct(old, g) for g in gammas])
    out = reweight(weights, {"birth": gammas}, old, new)
    assert out == pytest.approx([direct(new, g) for g in gammas])
