"""Reintegration monitoring: indicator configuration and the provisional composite score.

Follow-up visits record a fixed list of indicators in three dimensions (economic, social,
psychosocial), each answered on a fixed scale, after the approach of IOM's reintegration
sustainability survey. The list, scales and weights live in a versioned config,
`reintegration/indicators-<version>.yaml`. Version v1 is PROVISIONAL: its weights are equal
placeholders (IOM's published weights were not available), so the score is Pahichan's
provisional score, not IOM's Reintegration Sustainability Score.

Scoring, all pure functions:
1. `rescale_answer`: one answer -> 0..1. The options of a scale sit evenly on 0..1 (lowest
   0, highest 1); for an indicator where a higher answer is worse the result is flipped. So
   1 is always the best reintegration outcome.
2. `dimension_scores`: per dimension, the weighted mean of its *answered* indicators (weights
   renormalised over those answered); None when no indicator of the dimension was answered.
3. `reintegration_score`: the weighted mean of the dimensions that have a score (dimension
   weights renormalised over them), or None when fewer than `min_dimensions` (v1: 2 of 3)
   have one: a single dimension must not be reported under the composite's name, while
   demanding all three would discard every visit where one topic was skipped.

Missing answers (None, "", NaN) are skipped; an answer outside its scale, or an indicator
code the config does not know, raises ValueError (a data error to send back, not to guess).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from schemas.text import normalise_key

CONFIG_DIR = Path(__file__).parent / "reintegration"
DIMENSIONS: tuple[str, ...] = ("economic", "social", "psychosocial")
DIRECTIONS: tuple[str, ...] = ("higher_is_better", "higher_is_worse")

Answer = int | float | str | None


@dataclass(frozen=True)
class ScaleOption:
    """One answer of a scale; `position` is its place on 0..1 before direction."""

    value: int | str
    label_en: str
    label_ne: str
    aliases: tuple[str, ...]
    position: float


@dataclass(frozen=True)
class Indicator:
    """One follow-up question; `code` is also its column in the agency extract."""

    code: str
    dimension: str
    scale: str
    direction: str
    weight: float
    question_en: str
    question_ne: str


@dataclass(frozen=True)
class IndicatorConfig:
    """A versioned indicator list with scales and weights (see the module docstring)."""

    version: str
    provisional: bool
    title: str
    min_dimensions: int
    dimension_weights: dict[str, float]
    scales: dict[str, tuple[ScaleOption, ...]]
    indicators: tuple[Indicator, ...]

    def indicator(self, code: str) -> Indicator:
        for indicator in self.indicators:
            if indicator.code == code:
                return indicator
        raise ValueError(f"unknown reintegration indicator {code!r} (config {self.version})")

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(i.code for i in self.indicators)


def _scale(name: str, entry: dict) -> tuple[ScaleOption, ...]:
    options = entry["options"]
    if len(options) < 2:
        raise ValueError(f"scale {name!r} needs at least two options")
    return tuple(
        ScaleOption(
            value=o["value"],
            label_en=str(o["en"]),
            label_ne=str(o["ne"]),
            aliases=tuple(str(a) for a in o.get("aliases", ())),
            position=i / (len(options) - 1),
        )
        for i, o in enumerate(options)
    )


@cache
def load_indicator_config(version: str = "v1") -> IndicatorConfig:
    """Read and validate `reintegration/indicators-<version>.yaml` (cached)."""
    path = CONFIG_DIR / f"indicators-{version}.yaml"
    if not path.exists():
        raise ValueError(f"no reintegration indicator config {version!r} ({path} missing)")
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if str(document["version"]) != version:
        raise ValueError(f"{path} declares version {document['version']!r}, expected {version!r}")
    scales = {name: _scale(name, entry) for name, entry in document["scales"].items()}
    weights = {name: float(d["weight"]) for name, d in document["dimensions"].items()}
    if tuple(weights) != DIMENSIONS:
        raise ValueError(f"{path}: dimensions must be {DIMENSIONS}, got {tuple(weights)}")
    indicators = tuple(
        Indicator(
            code=i["code"],
            dimension=i["dimension"],
            scale=i["scale"],
            direction=i["direction"],
            weight=float(i.get("weight", 1)),
            question_en=" ".join(str(i["question_en"]).split()),
            question_ne=" ".join(str(i["question_ne"]).split()),
        )
        for i in document["indicators"]
    )
    for i in indicators:
        problems = [
            f"dimension {i.dimension!r}" if i.dimension not in DIMENSIONS else "",
            f"scale {i.scale!r}" if i.scale not in scales else "",
            f"direction {i.direction!r}" if i.direction not in DIRECTIONS else "",
            f"weight {i.weight}" if not i.weight > 0 else "",
            "code must start with 'ri_'" if not i.code.startswith("ri_") else "",
        ]
        if any(problems):
            raise ValueError(f"{path}: indicator {i.code}: {'; '.join(p for p in problems if p)}")
    if len({i.code for i in indicators}) != len(indicators):
        raise ValueError(f"{path}: indicator codes repeat")
    return IndicatorConfig(
        version=version,
        provisional=bool(document["provisional"]),
        title=str(document["title"]),
        min_dimensions=int(document["min_dimensions"]),
        dimension_weights=weights,
        scales=scales,
        indicators=indicators,
    )


def _is_missing(answer: Answer) -> bool:
    if answer is None:
        return True
    if isinstance(answer, float) and math.isnan(answer):
        return True
    return isinstance(answer, str) and not answer.strip()


@functools.lru_cache(maxsize=64)
def _options_by_spelling(options: tuple[ScaleOption, ...]) -> dict[str, ScaleOption]:
    """Normalised spelling (value, labels, aliases) -> option; the first option wins.

    Built once per scale: normalising every spelling on every answer made scoring a
    million-record warehouse's follow-ups take many minutes.
    """
    lookup: dict[str, ScaleOption] = {}
    for option in options:
        for spelling in (str(option.value), option.label_en, option.label_ne, *option.aliases):
            lookup.setdefault(normalise_key(spelling), option)
    return lookup


def _match_option(options: tuple[ScaleOption, ...], answer: Answer) -> ScaleOption | None:
    if isinstance(answer, bool):
        return None  # True/False is not an answer on any scale (and would pass as 1/0)
    numeric = all(isinstance(o.value, int) for o in options)
    if isinstance(answer, int | float):
        if numeric and float(answer).is_integer():
            return next((o for o in options if o.value == int(answer)), None)
        return None
    key = normalise_key(answer)
    option = _options_by_spelling(options).get(key)
    if option is not None:
        return option
    if numeric:
        try:
            number = float(key)
        except ValueError:
            return None
        return _match_option(options, number)
    return None


def resolve_scale_answer(
    scale: str, answer: Answer, config: IndicatorConfig | None = None
) -> int | str | None:
    """Canonical value of `answer` on `scale`, or None when missing or not on the scale."""
    config = config or load_indicator_config()
    if _is_missing(answer):
        return None
    option = _match_option(config.scales[scale], answer)
    return None if option is None else option.value


def canonical_answer(code: str, answer: Answer, config: IndicatorConfig | None = None) -> Answer:
    """The scale's canonical value for an answer (label, alias or value); None if missing.

    Raises ValueError for an unknown indicator or an answer outside the indicator's scale.
    """
    config = config or load_indicator_config()
    indicator = config.indicator(code)
    if _is_missing(answer):
        return None
    option = _match_option(config.scales[indicator.scale], answer)
    if option is None:
        allowed = ", ".join(str(o.value) for o in config.scales[indicator.scale])
        raise ValueError(f"{code}: answer {answer!r} is not on scale {indicator.scale} ({allowed})")
    return option.value


def rescale_answer(
    code: str, answer: Answer, config: IndicatorConfig | None = None
) -> float | None:
    """One answer on 0..1 where 1 is the best outcome; None when the answer is missing."""
    config = config or load_indicator_config()
    value = canonical_answer(code, answer, config)
    if value is None:
        return None
    indicator = config.indicator(code)
    position = next(o.position for o in config.scales[indicator.scale] if o.value == value)
    return 1.0 - position if indicator.direction == "higher_is_worse" else position


def weighted_answer(
    code: str, answer: Answer, config: IndicatorConfig | None = None
) -> tuple[str, float, float] | None:
    """(dimension, weight, 0..1 score) of one answer; None when the answer is missing.

    Raises ValueError as `canonical_answer` does.
    """
    config = config or load_indicator_config()
    score = rescale_answer(code, answer, config)
    if score is None:
        return None
    indicator = config.indicator(code)
    return indicator.dimension, indicator.weight, score


def mean_by_dimension(parts: Iterable[tuple[str, float, float]]) -> dict[str, float | None]:
    """Per dimension, the weighted mean of the scores of its `weighted_answer`s (None when
    none of its indicators was answered)."""
    totals = {d: 0.0 for d in DIMENSIONS}
    weights = {d: 0.0 for d in DIMENSIONS}
    for dimension, weight, score in parts:
        totals[dimension] += weight * score
        weights[dimension] += weight
    return {d: (totals[d] / weights[d] if weights[d] else None) for d in DIMENSIONS}


def dimension_scores(
    answers: Mapping[str, Answer], config: IndicatorConfig | None = None
) -> dict[str, float | None]:
    """Score per dimension (0..1, or None when none of its indicators was answered).

    `answers` maps indicator codes to answers; codes the config does not know raise
    ValueError (pass only the indicator columns: see `answers_from_row`).
    """
    config = config or load_indicator_config()
    parts = (weighted_answer(code, answer, config) for code, answer in answers.items())
    return mean_by_dimension(part for part in parts if part is not None)


def reintegration_score(
    dimension_scores: Mapping[str, float | None], config: IndicatorConfig | None = None
) -> float | None:
    """Composite 0..1: weighted mean of the scored dimensions, None below `min_dimensions`."""
    config = config or load_indicator_config()
    unknown = set(dimension_scores) - set(DIMENSIONS)
    if unknown:
        raise ValueError(f"unknown reintegration dimension(s): {sorted(unknown)}")
    present = {d: s for d, s in dimension_scores.items() if s is not None}
    for dimension, score in present.items():
        if not 0.0 <= score <= 1.0:
            raise ValueError(f"dimension score {dimension}={score} is outside 0..1")
    if len(present) < config.min_dimensions:
        return None
    weight = sum(config.dimension_weights[d] for d in present)
    return sum(config.dimension_weights[d] * s for d, s in present.items()) / weight


def answers_from_row(
    row: Mapping[str, object], config: IndicatorConfig | None = None
) -> dict[str, Answer]:
    """The indicator answers of an extract row (other columns ignored)."""
    config = config or load_indicator_config()
    return {code: row[code] for code in config.codes if code in row}  # type: ignore[misc]
