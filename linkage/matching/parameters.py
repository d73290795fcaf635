"""Adjustments of trained m/u probabilities (Splink model JSON, edited in place).

`remove_matches_from_u`: u from random sampling counts *every* sampled pair as a
non-match, but a random sample of a store holds about lambda x pairs that are true matches,
and they agree on strong fields almost always. For a level that non-matches rarely reach
(same birth date, same ID number) those matches are most of what the sample counts:

    u_sampled = (1 - lambda) * u + lambda * m,  so  u = (u_sampled - lambda * m) / (1 - lambda)

On encoded FEBRL3 (lambda ~5e-4) the sampled u of "same birth date" was 5.2e-4 where true
non-matches share a date about 1 time in 36,000 (2.7e-5), and the sampled u of "same ID
number" (4.4e-4) was almost all matches: the strongest evidence in the data was discounted
by 4-8 bits, so pairs held together by ID number and birth date alone stayed below the
threshold. The correction uses only the model's own estimates (match rate, m; no labels);
u is kept at or above `floor` (the sampling resolution), then each comparison's u is
renormalised.

`clamp_probabilities`: m/u values of 0 (a level never seen among matches in a small
sample) lifted to a floor, since Splink refuses a model with an infinite weight.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def remove_matches_from_u(
    model: dict[str, Any], *, floor: float, match_rate: float | None = None
) -> dict[str, Any]:
    """Subtract the expected share of true matches from each sampled u (see module doc).

    `match_rate` is the share of matches among random pairs (lambda); by default the
    model's own `probability_two_random_records_match`.
    """
    lam = float(model["probability_two_random_records_match"] if match_rate is None else match_rate)
    for comparison in model["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        m = [lv.get("m_probability") for lv in levels]
        u = [lv.get("u_probability") for lv in levels]
        if not all(_is_number(v) for v in m + u):
            continue  # a level without a trained m or u: leave the comparison as it is
        corrected = [max(floor, (ui - lam * mi) / (1.0 - lam)) for mi, ui in zip(m, u, strict=True)]
        total = sum(corrected)
        for level, value in zip(levels, corrected, strict=True):
            level["u_probability"] = value / total
    return model


def clamp_probabilities(
    model: dict[str, Any], floor: float = 1e-5, u_floor: float | None = None
) -> dict[str, Any]:
    """Lift m/u values of 0 (a level never seen among matches in a small sample) to a floor.

    Zero means an infinite negative weight, which Splink refuses to load back; a small floor
    keeps the level's evidence strongly negative but finite. `u_floor` (default `floor`)
    applies to u.
    """
    floors = {"m_probability": floor, "u_probability": floor if u_floor is None else u_floor}
    for comparison in model["comparisons"]:
        for level in comparison["comparison_levels"]:
            for name, lowest in floors.items():
                value = level.get(name)
                if _is_number(value) and value < lowest:
                    level[name] = lowest
    return model
