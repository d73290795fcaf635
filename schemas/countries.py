"""Countries: ISO 3166-1 alpha-2 codes, names, and a resolver from free text to a code.

Grain of `reference/countries.csv`: one row per ISO 3166-1 alpha-2 code (249), with the
English name, a Nepali name for common destinations, and aliases (abbreviations such as
KSA/UAE, cities such as Dubai, Nepali spellings). `NP` stands for internal trafficking.
Regenerate with `reference/build_countries.py`; nothing here needs the network.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from schemas.text import build_lookup, normalise_key

_REFERENCE = Path(__file__).parent / "reference"


def _load_countries() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    with (_REFERENCE / "countries.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    names = {row["code"]: row["name_en"] for row in rows}
    names_ne = {row["code"]: row["name_ne"] for row in rows if row["name_ne"]}
    aliases = {row["code"]: [a for a in row["aliases"].split(";") if a] for row in rows}
    return names, names_ne, build_lookup(names, names_ne, aliases)


COUNTRIES, COUNTRIES_NE, _COUNTRY = _load_countries()


def resolve_country(text: object) -> str | None:
    """ISO 3166-1 alpha-2 code from a code, English/Nepali name, abbreviation or city."""
    key = normalise_key(text)
    if re.fullmatch(r"[a-z]{2}", key) and key.upper() in COUNTRIES:
        return key.upper()
    return _COUNTRY.get(key) if key else None
