"""Reference geography of Nepal and resolvers from free text to stable codes.

Grain of `reference/geography.csv`: one row per administrative unit (7 provinces, 77
districts, 753 local levels), with a `level` column. Codes: province `1`..`7`; district =
province digit + 2-digit number (`301`); local level = district code + 2-digit number
(`30101`). The CSV is vendored (see `reference/build_geography.py`), so nothing here needs
the seed packages or the network.

Join on codes, never on names: names repeat across districts (there are several
"Tribeni Rural Municipality"), and the same place is spelt many ways. The `resolve_*`
functions turn whatever an agency wrote into a code, or None when they cannot be sure.
"""

from __future__ import annotations

import csv
import difflib
import logging
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from schemas.text import normalise_key, phonetic_key, strip_affixes

logger = logging.getLogger(__name__)

GEOGRAPHY_CSV = Path(__file__).parent / "reference" / "geography.csv"
_FUZZY_CUTOFF = 0.85
LEVEL_TYPES = ("metropolitan_city", "sub_metropolitan_city", "municipality", "rural_municipality")

_PROVINCE_SUFFIXES = ("province", "pradesh", "प्रदेश", "state")
_PROVINCE_PREFIXES = ("province no", "province number", "province", "pradesh", "प्रदेश")
_DISTRICT_SUFFIXES = ("district", "dist", "jilla", "zilla", "जिल्ला")
_LOCAL_SUFFIXES = (
    "rural municipality",
    "municipality",
    "sub metropolitan city",
    "metropolitan city",
    "sub metropolitan",
    "metropolitan",
    "submetropolitan city",
    "submetropolitan",
    "gaunpalika",
    "gaupalika",
    "gaun palika",
    "nagarpalika",
    "nagar palika",
    "mahanagarpalika",
    "upamahanagarpalika",
    "upa mahanagarpalika",
    "rm",
    "mun",
    "गाउँपालिका",
    "नगरपालिका",
    "महानगरपालिका",
    "उपमहानगरपालिका",
    "उप महानगरपालिका",
)


@dataclass(frozen=True)
class Province:
    code: str
    name_en: str
    name_ne: str


@dataclass(frozen=True)
class District:
    code: str
    province_code: str
    name_en: str
    name_ne: str
    variants: tuple[str, ...]


@dataclass(frozen=True)
class LocalLevel:
    code: str
    district_code: str
    name_en: str
    name_ne: str
    level_type: str
    ward_count: int
    variants: tuple[str, ...]


@dataclass(frozen=True)
class Geography:
    provinces: tuple[Province, ...]
    districts: tuple[District, ...]
    local_levels: tuple[LocalLevel, ...]


def _split(variants: str) -> tuple[str, ...]:
    return tuple(v for v in (part.strip() for part in variants.split(";")) if v)


@cache
def load_geography() -> Geography:
    """Load the vendored reference geography (cached: read once per process)."""
    provinces, districts, local_levels = [], [], []
    with GEOGRAPHY_CSV.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row["level"] == "province":
                provinces.append(Province(row["code"], row["name_en"], row["name_ne"]))
            elif row["level"] == "district":
                districts.append(
                    District(
                        row["code"],
                        row["parent_code"],
                        row["name_en"],
                        row["name_ne"],
                        _split(row["variants"]),
                    )
                )
            elif row["level"] == "local_level":
                local_levels.append(
                    LocalLevel(
                        row["code"],
                        row["parent_code"],
                        row["name_en"],
                        row["name_ne"],
                        row["level_type"],
                        int(row["ward_count"]),
                        _split(row["variants"]),
                    )
                )
    return Geography(tuple(provinces), tuple(districts), tuple(local_levels))


@cache
def _norm(*suffixes: str) -> tuple[str, ...]:
    return tuple(normalise_key(s) for s in suffixes)


@dataclass(frozen=True)
class _Index:
    provinces: dict[str, str]
    districts: dict[str, str]
    district_phonetic: dict[str, str]
    local_by_district: dict[str, dict[str, set[str]]]
    local_global: dict[str, set[str]]
    local_parent: dict[str, str]


def _keys(text: str, suffixes: tuple[str, ...]) -> set[str]:
    key = normalise_key(text)
    return {k for k in (key, strip_affixes(key, suffixes)) if k}


@cache
def _index() -> _Index:
    geo = load_geography()
    province_suffixes = _norm(*_PROVINCE_SUFFIXES)
    district_suffixes = _norm(*_DISTRICT_SUFFIXES)
    local_suffixes = _norm(*_LOCAL_SUFFIXES)
    provinces: dict[str, str] = {}
    for p in geo.provinces:
        for name in (p.code, p.name_en, p.name_ne, f"P{p.code}", f"NP-P{p.code}"):
            for key in _keys(name, province_suffixes):
                provinces[key] = p.code
    variants = {r["code"]: _split(r["variants"]) for r in _rows("province")}
    for code, names in variants.items():
        for name in names:
            for key in _keys(name, province_suffixes):
                provinces.setdefault(key, code)
    districts: dict[str, str] = {}
    for d in geo.districts:
        for name in (d.code, d.name_en, d.name_ne, *d.variants):
            for key in _keys(name, district_suffixes):
                # First writer wins: a district's own name beats another's variant.
                districts.setdefault(key, d.code)
    local_by_district: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    local_global: dict[str, set[str]] = defaultdict(set)
    for ll in geo.local_levels:
        for name in (ll.name_en, ll.name_ne, *ll.variants):
            for key in _keys(name, local_suffixes):
                local_by_district[ll.district_code][key].add(ll.code)
                local_global[key].add(ll.code)
    parents = {ll.code: ll.district_code for ll in geo.local_levels}
    phonetic = _district_phonetic_index(geo, districts, local_global, parents)
    return _Index(
        provinces, districts, phonetic, dict(local_by_district), dict(local_global), parents
    )


def _district_phonetic_index(
    geo: Geography,
    districts: dict[str, str],
    local_global: dict[str, set[str]],
    parents: dict[str, str],
) -> dict[str, str]:
    """Phonetic key -> district code, keeping only keys that point to one district.

    A key is also dropped when it is the phonetic key of a local level in another district
    (someone who wrote a municipality in the district column must not get a neighbour's
    district), unless the district's own name already has that key: its exact name
    resolves to it anyway ("Parsa" is a district and a rural municipality of Sarlahi).
    """
    candidates: dict[str, set[str]] = defaultdict(set)
    for key, code in districts.items():
        if not re.fullmatch(r"\d+", key):
            candidates[phonetic_key(key)].add(code)
    own_names: dict[str, set[str]] = defaultdict(set)
    for d in geo.districts:
        own_names[d.code] |= {phonetic_key(d.name_en), phonetic_key(d.name_ne)}
    foreign: dict[str, set[str]] = defaultdict(set)  # phonetic key -> districts of local levels
    for key, codes in local_global.items():
        foreign[phonetic_key(key)] |= {parents[c] for c in codes}
    index: dict[str, str] = {}
    for key, codes in candidates.items():
        if not key or len(codes) != 1:
            continue
        code = next(iter(codes))
        if foreign.get(key, set()) - {code} and key not in own_names[code]:
            continue
        index[key] = code
    return index


@cache
def _rows(level: str) -> tuple[dict[str, str], ...]:
    with GEOGRAPHY_CSV.open(encoding="utf-8", newline="") as f:
        return tuple(r for r in csv.DictReader(f) if r["level"] == level)


def resolve_province(text: str | None) -> str | None:
    """Province code `1`..`7` from a code, English/Nepali name or "Province 3"; else None."""
    key = normalise_key(text)
    if not key:
        return None
    index = _index().provinces
    if key in index:
        return index[key]
    stripped = strip_affixes(key, _norm(*_PROVINCE_SUFFIXES), _norm(*_PROVINCE_PREFIXES))
    return index.get(stripped)


def resolve_district(text: str | None) -> str | None:
    """3-digit district code from a code, English/Nepali name or spelling variant; else None.

    Exact (normalised) names and listed variants first. Failing that, the text's phonetic
    key (`schemas.text.phonetic_key`: "Kaaski", "Sindupalchowk", "Chitauan"...) is compared
    with the districts' keys, and accepted only when it points to exactly one district.
    """
    key = normalise_key(text)
    if not key:
        return None
    index = _index()
    stripped = strip_affixes(key, _norm(*_DISTRICT_SUFFIXES))
    exact = index.districts.get(key) or index.districts.get(stripped)
    if exact is not None:
        return exact
    for candidate in (key, stripped):
        code = index.district_phonetic.get(phonetic_key(candidate))
        if code is not None:
            logger.debug("district %r resolved by phonetic key to %s", text, code)
            return code
    return None


def resolve_local_level(text: str | None, district_code: str | None = None) -> str | None:
    """5-digit local-level code; `district_code` disambiguates names that repeat.

    Without a district, a name shared by several local levels resolves to None rather
    than to a guess, and only exact (normalised) spellings count. Within a district, a
    close misspelling is accepted when it points to one unit only. A code that contradicts
    the given district gives None.
    """
    key = normalise_key(text)
    if not key:
        return None
    index = _index()
    if district_code is not None and district_code not in index.local_by_district:
        district_code = resolve_district(district_code)
        if district_code is None:
            return None
    if re.fullmatch(r"\d{5}", key) and key in index.local_parent:
        if district_code is None or index.local_parent[key] == district_code:
            return key
        return None
    table = index.local_by_district[district_code] if district_code else index.local_global
    stripped = strip_affixes(key, _norm(*_LOCAL_SUFFIXES))
    for candidate in (key, stripped):
        codes = table.get(candidate, set())
        if len(codes) == 1:
            return next(iter(codes))
        if len(codes) > 1:
            logger.debug("local level %r is ambiguous: %s", text, sorted(codes))
            return None
    if district_code is None:
        return None
    # Within one district (about ten local levels) a close spelling ("Melamchi" for the
    # reference's "Melanchi") is safe to accept when every close candidate is the same unit.
    # Compare bare names only: full names share long suffixes that inflate similarity.
    suffixes = _norm(*_LOCAL_SUFFIXES)
    bare = [k for k in table if strip_affixes(k, suffixes) == k]
    close = difflib.get_close_matches(stripped, bare, n=3, cutoff=_FUZZY_CUTOFF)
    codes = set().union(*(table[c] for c in close)) if close else set()
    return next(iter(codes)) if len(codes) == 1 else None


def district_of(local_level_code: str) -> str:
    """District code of a local level; ValueError for an unknown code."""
    parent = _index().local_parent.get(str(local_level_code))
    if parent is None:
        raise ValueError(f"unknown local level code {local_level_code!r}")
    return parent


def ward_count(local_level_code: str) -> int:
    """Number of wards of a local level (wards are numbered 1..count); ValueError if unknown."""
    count = _ward_counts().get(str(local_level_code))
    if count is None:
        raise ValueError(f"unknown local level code {local_level_code!r}")
    return count


@cache
def _ward_counts() -> dict[str, int]:
    return {ll.code: ll.ward_count for ll in load_geography().local_levels}


def province_of(district_code: str) -> str:
    """Province code of a district (a local-level code is accepted too)."""
    code = str(district_code)
    if code in _index().local_parent:
        code = _index().local_parent[code]
    district = next((d for d in load_geography().districts if d.code == code), None)
    if district is None:
        raise ValueError(f"unknown district code {district_code!r}")
    return district.province_code
