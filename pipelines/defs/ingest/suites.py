"""Expectation suites per source type, read from `schemas/expectations/<source_type>.json`.

The JSON files are the reviewable source of truth. They reference the reference vocabularies
by name (`{"$vocabulary": "district_codes"}`) instead of copying 753 local-level codes, and
the validation date as `{"$date": "today"}`; `load_suite_spec` resolves both.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

EXPECTATIONS_DIR = Path(__file__).resolve().parents[3] / "schemas" / "expectations"


def _vocabularies() -> dict[str, Callable[[], list[str]]]:
    from schemas import vocabularies
    from schemas.geography import load_geography

    return {
        "sexes": lambda: list(vocabularies.SEXES),
        "age_bands": lambda: list(vocabularies.AGE_BANDS),
        "caste_ethnicity_groups": lambda: list(vocabularies.CASTE_ETHNICITY_GROUPS),
        "exploitation_types": lambda: list(vocabularies.EXPLOITATION_TYPES),
        "country_codes": lambda: list(vocabularies.COUNTRIES),
        "service_codes": lambda: list(vocabularies.SERVICES),
        "agency_types": lambda: list(vocabularies.AGENCY_TYPES),
        "province_codes": lambda: [p.code for p in load_geography().provinces],
        "district_codes": lambda: [d.code for d in load_geography().districts],
        "local_level_codes": lambda: [a.code for a in load_geography().local_levels],
    }


@cache
def vocabulary(name: str) -> tuple[str, ...]:
    """The codes of one reference vocabulary named in the suites."""
    try:
        return tuple(_vocabularies()[name]())
    except KeyError as error:
        raise ValueError(f"unknown vocabulary {name!r} in an expectation suite") from error


def _resolve(value: Any, today: dt.date) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$vocabulary"}:
            return list(vocabulary(value["$vocabulary"]))
        if set(value) == {"$date"}:
            text = value["$date"]
            return today if text == "today" else dt.date.fromisoformat(text)
        return {key: _resolve(item, today) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item, today) for item in value]
    return value


def load_suite_spec(source_type: str, today: dt.date | None = None) -> list[dict[str, Any]]:
    """The expectations (type, kwargs, meta) for one source type, placeholders resolved.

    Dates come back as `datetime.date`; the validator converts them for pandas.
    """
    path = EXPECTATIONS_DIR / f"{source_type}.json"
    spec = json.loads(path.read_text(encoding="utf-8"))
    expectations: list[dict[str, Any]] = []
    for included in spec.get("include", []):
        expectations.extend(
            json.loads((EXPECTATIONS_DIR / included).read_text(encoding="utf-8"))["expectations"]
        )
    expectations.extend(spec.get("expectations", []))
    resolved = _resolve(expectations, today or dt.datetime.now(dt.UTC).date())
    rules = [item["meta"]["rule"] for item in resolved]
    duplicates = sorted({rule for rule in rules if rules.count(rule) > 1})
    if duplicates:
        raise ValueError(f"suite {source_type}: rule names used twice: {duplicates}")
    return resolved
