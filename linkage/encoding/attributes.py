"""Coarse, non-identifying attributes that cross the boundary in clear, as reference codes.

Thin adapters over ``schemas.geography`` and ``schemas.vocabularies``: each returns
``(code, problem)`` where ``problem`` is a reject reason when a non-empty value does not
resolve (the agency then fixes the value or its column mapping; nothing is guessed).
Results are cached: the same few hundred spellings repeat across thousands of rows.
"""

from __future__ import annotations

import re
from functools import lru_cache

from schemas import geography, vocabularies

Resolved = tuple[str | None, str | None]


def _coded(resolver, value: str, what: str) -> Resolved:  # type: ignore[no-untyped-def]
    if not value:
        return None, None
    code = resolver(value)
    return (code, None) if code else (None, f"unknown {what}")


@lru_cache(maxsize=4096)
def sex(value: str) -> Resolved:
    """``F``/``M``/``O``."""
    return _coded(vocabularies.resolve_sex, value, "sex")


@lru_cache(maxsize=4096)
def district(value: str) -> Resolved:
    """3-digit district code."""
    return _coded(geography.resolve_district, value, "district")


@lru_cache(maxsize=4096)
def province(value: str) -> Resolved:
    """Province code ``1``..``7``."""
    return _coded(geography.resolve_province, value, "province")


@lru_cache(maxsize=16384)
def local_level(value: str, district_code: str | None) -> Resolved:
    """5-digit local-level code, disambiguated by the district when known."""
    if not value:
        return None, None
    if len(value) == 5 and value.isdigit():  # a reference code: two dict look-ups suffice
        try:
            parent = geography.district_of(value)
        except ValueError:
            return None, "unknown or ambiguous local_level"
        if district_code is None or parent == district_code:
            return value, None
        return None, "local_level is not in the district"
    code = geography.resolve_local_level(value, district_code)
    if code:
        return code, None
    return None, "unknown or ambiguous local_level (add the district or the 5-digit code)"


_DIGIT_RUN = re.compile(r"\d+")  # any script's decimal digits: "5", "05", "५"


@lru_cache(maxsize=16384)
def ward(value: str, local_level_code: str | None) -> Resolved:
    """The ward as ``<local level code>/<ward number>``, the value its token is keyed on.

    One number in the cell, in any script ("5", "Ward 05", "वडा नं. ५"), within the local
    level's wards. A ward means nothing without its local level, so then there is none
    (and no reject: the local level's own check has spoken).
    """
    if not value or local_level_code is None:
        return None, None
    numbers = _DIGIT_RUN.findall(value)
    if len(numbers) != 1:
        return None, "ward must be one number"
    number = int(numbers[0])  # int() reads Devanagari digits too
    wards = geography.ward_count(local_level_code)
    if not 1 <= number <= wards:
        return None, f"ward {number} is not a ward of local level {local_level_code} (1..{wards})"
    return f"{local_level_code}/{number}", None


@lru_cache(maxsize=1024)
def province_of_district(district_code: str) -> str | None:
    """Province of a district code (used when the export has no province column)."""
    try:
        return geography.province_of(district_code)
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def caste_ethnicity(value: str) -> Resolved:
    """Coarse caste/ethnicity group code."""
    return _coded(vocabularies.resolve_caste_ethnicity, value, "caste_ethnicity")


@lru_cache(maxsize=4096)
def exploitation_type(value: str) -> Resolved:
    """HTCDS exploitation type code."""
    return _coded(vocabularies.resolve_exploitation_type, value, "exploitation_type")


@lru_cache(maxsize=4096)
def country(value: str) -> Resolved:
    """ISO 3166-1 alpha-2 (``NP`` for internal)."""
    return _coded(vocabularies.resolve_country, value, "destination_country")


@lru_cache(maxsize=4096)
def agency_type(value: str) -> Resolved:
    """``shelter``/``ocmc``/``migration``/``police``/``other``."""
    return _coded(vocabularies.resolve_agency_type, value, "agency type")


@lru_cache(maxsize=4096)
def services(value: str) -> tuple[tuple[str, ...], str | None]:
    """Semicolon list of services to sorted unique service codes."""
    codes: set[str] = set()
    for part in value.replace(",", ";").split(";"):
        part = part.strip()
        if not part:
            continue
        code = vocabularies.resolve_service(part)
        if code is None:
            return (), "unknown service"
        codes.add(code)
    return tuple(sorted(codes)), None


@lru_cache(maxsize=64)
def consent_scope(value: str) -> Resolved:
    """Consent scope code; empty is the default (linkage_and_statistics), never a guess."""
    code = vocabularies.resolve_consent_scope(value)
    if code is None:
        scopes = ", ".join(vocabularies.CONSENT_SCOPES)
        return None, f"unknown consent_scope (write one of {scopes}, or leave it empty)"
    return code, None


@lru_cache(maxsize=256)
def age_band(age: int | None) -> str | None:
    """Age band label at contact (``0-11`` .. ``50+``)."""
    return vocabularies.age_band(age)


MAX_PLAUSIBLE_AGE = vocabularies.MAX_PLAUSIBLE_AGE
