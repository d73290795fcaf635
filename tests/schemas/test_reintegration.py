"""Reintegration indicator config and the provisional score: hand-computed examples.

Positions on a scale: five options sit at 0, .25, .5, .75, 1 (value 1..5); yes/partly/no at
1, .5, 0 (yes best). Indicators where a higher answer is worse are flipped (1 - position).
"""

from __future__ import annotations

import dataclasses
import math
import re

import pytest

from schemas.reintegration import (
    DIMENSIONS,
    answers_from_row,
    canonical_answer,
    dimension_scores,
    load_indicator_config,
    reintegration_score,
    rescale_answer,
)

CONFIG = load_indicator_config("v1")

ECONOMIC = {
    "ri_income": 4,  # rating5, better: .75
    "ri_work": "yes",  # yes/partly/no: 1
    "ri_debt": 2,  # agreement5, worse: 1 - .25 = .75
    "ri_food_security": 1,  # frequency5, worse: 1 - 0 = 1
    "ri_financial_access": "partly",  # .5
}  # economic = (.75 + 1 + .75 + 1 + .5) / 5 = 4.0 / 5 = .8
SOCIAL = {
    "ri_family_acceptance": 5,  # 1
    "ri_housing": "3",  # .5 (numbers may arrive as text)
    "ri_documents": "no",  # 0
    "ri_services_access": None,  # missing: skipped
    "ri_discrimination": 4,  # frequency5, worse: 1 - .75 = .25
}  # social = (1 + .5 + 0 + .25) / 4 = 1.75 / 4 = .4375
PSYCHOSOCIAL = {
    "ri_wellbeing": 2,  # .25
    "ri_stress": 5,  # worse: 1 - 1 = 0
    "ri_safety": 4,  # .75
    "ri_support_network": "yes",  # 1
}  # psychosocial = (.25 + 0 + .75 + 1) / 4 = 2 / 4 = .5


def test_config_is_versioned_provisional_and_complete() -> None:
    assert CONFIG.version == "v1" and CONFIG.provisional is True
    assert "provisional" in CONFIG.title.lower()
    assert 12 <= len(CONFIG.indicators) <= 15
    for dimension in DIMENSIONS:
        assert sum(i.dimension == dimension for i in CONFIG.indicators) >= 3, dimension
    assert math.isclose(sum(CONFIG.dimension_weights.values()), 1.0)
    assert len(set(CONFIG.dimension_weights.values())) == 1  # equal placeholders
    assert CONFIG.min_dimensions == 2
    for i in CONFIG.indicators:
        assert i.code.startswith("ri_") and i.question_en
        assert re.search(r"[\u0900-\u097f]", i.question_ne), i.code
    # The economic, social and psychosocial topics named in the issue are all there.
    codes = set(CONFIG.codes)
    for code in (
        "ri_income",
        "ri_debt",
        "ri_work",
        "ri_family_acceptance",
        "ri_housing",
        "ri_documents",
        "ri_services_access",
        "ri_wellbeing",
        "ri_stress",
        "ri_safety",
    ):
        assert code in codes


def test_unknown_config_version_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="v9"):
        load_indicator_config("v9")


def test_example_1_economic_dimension_all_answered() -> None:
    scores = dimension_scores(ECONOMIC)
    assert scores["economic"] == pytest.approx(0.8)
    assert scores["social"] is None and scores["psychosocial"] is None


def test_example_2_social_dimension_with_a_missing_answer() -> None:
    assert dimension_scores(SOCIAL)["social"] == pytest.approx(0.4375)


def test_example_3_psychosocial_and_the_composite_of_all_three() -> None:
    scores = dimension_scores({**ECONOMIC, **SOCIAL, **PSYCHOSOCIAL})
    assert scores == pytest.approx({"economic": 0.8, "social": 0.4375, "psychosocial": 0.5})
    # (.8 + .4375 + .5) / 3 = 1.7375 / 3
    assert reintegration_score(scores) == pytest.approx(1.7375 / 3)


def test_example_4_two_dimensions_renormalise_the_weights() -> None:
    scores = dimension_scores({**ECONOMIC, **PSYCHOSOCIAL})
    assert scores["social"] is None
    assert reintegration_score(scores) == pytest.approx((0.8 + 0.5) / 2)  # .65


def test_example_5_one_dimension_is_not_a_composite() -> None:
    assert reintegration_score(dimension_scores(ECONOMIC)) is None
    assert reintegration_score(dimension_scores({})) is None
    assert dimension_scores({}) == {"economic": None, "social": None, "psychosocial": None}


def test_example_6_nepali_labels_and_aliases() -> None:
    # छ = yes (1); राम्रो = good = 4 (.75)  -> (1 + .75) / 2 = .875
    scores = dimension_scores({"ri_work": "छ", "ri_income": "राम्रो"})
    assert scores["economic"] == pytest.approx(0.875)
    assert canonical_answer("ri_work", " Partially ") == "partly"
    assert canonical_answer("ri_stress", "सधैं") == 5
    assert canonical_answer("ri_stress", 3.0) == 3


def test_example_7_configured_weights() -> None:
    indicators = tuple(
        dataclasses.replace(i, weight=3.0) if i.code == "ri_income" else i
        for i in CONFIG.indicators
    )
    weighted = dataclasses.replace(
        CONFIG,
        indicators=indicators,
        dimension_weights={"economic": 0.5, "social": 0.25, "psychosocial": 0.25},
    )
    # income .75 weight 3, work 1 weight 1: (3 * .75 + 1 * 1) / 4 = 3.25 / 4 = .8125
    scores = dimension_scores({"ri_income": 4, "ri_work": "yes"}, weighted)
    assert scores["economic"] == pytest.approx(0.8125)
    # .5 * .8 + .25 * .4375 + .25 * .5 = .4 + .109375 + .125 = .634375
    composite = {"economic": 0.8, "social": 0.4375, "psychosocial": 0.5}
    assert reintegration_score(composite, weighted) == pytest.approx(0.634375)


def test_direction_flips_so_one_is_always_the_best_outcome() -> None:
    assert rescale_answer("ri_wellbeing", 5) == 1.0  # very good wellbeing
    assert rescale_answer("ri_stress", 5) == 0.0  # always stressed
    assert rescale_answer("ri_debt", 1) == 1.0  # strongly disagree that debts are too high
    assert rescale_answer("ri_documents", "partly") == 0.5


@pytest.mark.parametrize("missing", [None, "", "  ", float("nan")])
def test_missing_answers_are_skipped(missing: object) -> None:
    assert rescale_answer("ri_income", missing) is None  # type: ignore[arg-type]
    scores = dimension_scores({"ri_income": missing, "ri_work": "no"})  # type: ignore[dict-item]
    assert scores["economic"] == 0.0


@pytest.mark.parametrize(
    ("code", "answer"),
    [
        ("ri_income", 6),
        ("ri_income", 0),
        ("ri_income", 2.5),
        ("ri_income", "7"),
        ("ri_income", "maybe"),
        ("ri_work", 1),
        ("ri_work", "1"),
        ("ri_work", True),
        ("ri_stress", -1),
    ],
)
def test_answers_off_the_scale_raise(code: str, answer: object) -> None:
    with pytest.raises(ValueError, match=code):
        dimension_scores({code: answer})  # type: ignore[dict-item]


def test_unknown_indicator_and_bad_dimension_scores_raise() -> None:
    with pytest.raises(ValueError, match="ri_happiness"):
        dimension_scores({"ri_happiness": 3})
    with pytest.raises(ValueError, match="outside"):
        reintegration_score({"economic": 1.2, "social": 0.5, "psychosocial": 0.5})
    with pytest.raises(ValueError, match="unknown"):
        reintegration_score({"spiritual": 0.5, "social": 0.5})


def test_answers_from_row_keeps_only_indicator_columns() -> None:
    row = {"record_id": "A-1", "given_name": "Sita", "ri_income": "4", "ri_work": "yes"}
    assert answers_from_row(row) == {"ri_income": "4", "ri_work": "yes"}
