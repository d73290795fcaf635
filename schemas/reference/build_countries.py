"""Regenerate the vendored country list `schemas/reference/countries.csv`.

Grain: one row per ISO 3166-1 alpha-2 code (249 rows), with an English short name, a Nepali
name for the destinations that Nepali registers name most often, and semicolon-separated
aliases (cities, abbreviations, Nepali spellings) that resolve to the code.

Source: the `iso3166.tab` table that ships with the IANA time-zone database (the `tzdata`
package, already a dependency of pandas), which lists every ISO 3166-1 alpha-2 code. Its
names are tz-database short forms ("Britain (UK)", "Korea (South)"), so `NAME_OVERRIDES`
gives the common English name where that reads better on a dashboard. Run with the project
venv: `.venv/bin/python schemas/reference/build_countries.py`. Nothing reads tzdata at run time.
"""

from __future__ import annotations

import csv
import logging
from importlib.metadata import version
from importlib.resources import files
from pathlib import Path

logger = logging.getLogger(__name__)

OUTPUT = Path(__file__).with_name("countries.csv")

NAME_OVERRIDES = {
    "AS": "American Samoa",
    "WS": "Samoa",
    "GB": "United Kingdom",
    "KP": "North Korea",
    "KR": "South Korea",
    "CD": "Democratic Republic of the Congo",
    "CG": "Republic of the Congo",
    "MM": "Myanmar",
    "SZ": "Eswatini",
    "TL": "Timor-Leste",
    "TC": "Turks and Caicos Islands",
    "UM": "United States Minor Outlying Islands",
    "VC": "Saint Vincent and the Grenadines",
    "MF": "Saint Martin (French part)",
    "SX": "Sint Maarten (Dutch part)",
    "VG": "British Virgin Islands",
    "VI": "United States Virgin Islands",
}

# Destinations and transit countries that Nepali registers name; Nepali names and aliases.
DESTINATIONS: dict[str, tuple[str, list[str]]] = {
    "NP": ("नेपाल", ["Nepal", "internal", "domestic", "within Nepal", "आन्तरिक"]),
    "IN": ("भारत", ["Bharat", "इन्डिया", "इण्डिया", "Delhi", "Mumbai", "Bombay", "Kolkata"]),
    "SA": ("साउदी अरब", ["KSA", "Saudi", "Saudi Arab", "साउदी", "Riyadh", "Jeddah"]),
    "AE": (
        "संयुक्त अरब इमिरेट्स",
        ["UAE", "U.A.E.", "Emirates", "Dubai", "दुबई", "Abu Dhabi", "Sharjah", "यूएई", "युएई"],
    ),
    "QA": ("कतार", ["Doha", "दोहा"]),
    "KW": ("कुवेत", ["Kuwait City"]),
    "OM": ("ओमान", ["Muscat"]),
    "BH": ("बहराइन", ["Bahrein"]),
    "MY": ("मलेसिया", ["Malaysia", "मलेशिया", "Kuala Lumpur"]),
    "KR": ("दक्षिण कोरिया", ["Korea", "कोरिया", "Republic of Korea", "Korea (South)", "ROK"]),
    "JP": ("जापान", []),
    "IL": ("इजरायल", ["इजराइल"]),
    "LB": ("लेबनान", ["Beirut"]),
    "JO": ("जोर्डन", []),
    "CY": ("साइप्रस", []),
    "IQ": ("इराक", []),
    "AF": ("अफगानिस्तान", []),
    "CN": ("चीन", ["PRC"]),
    "HK": ("हङकङ", []),
    "SG": ("सिंगापुर", []),
    "MV": ("माल्दिभ्स", ["Maldive Islands"]),
    "KE": ("केन्या", ["Nairobi"]),
    "RO": ("रोमानिया", []),
    "PL": ("पोल्याण्ड", []),
    "HR": ("क्रोएसिया", []),
    "MT": ("माल्टा", []),
    "PT": ("पोर्चुगल", []),
    "RU": ("रुस", ["Russian Federation"]),
    "GB": ("बेलायत", ["UK", "Britain", "England", "Great Britain", "Britain (UK)"]),
    "US": ("अमेरिका", ["USA", "U.S.A.", "America", "United States of America"]),
    "AU": ("अष्ट्रेलिया", []),
    "BD": ("बंगलादेश", []),
    "LK": ("श्रीलंका", []),
    "PK": ("पाकिस्तान", []),
    "TH": ("थाइल्यान्ड", []),
    "KH": ("कम्बोडिया", []),
    "LA": ("लाओस", ["Lao PDR"]),
    "MM": ("म्यानमार", ["Burma", "Myanmar (Burma)"]),
}

EXTRA_ALIASES = {
    "TR": ["Türkiye"],
    "CZ": ["Czechia"],
    "CI": ["Ivory Coast", "Cote d'Ivoire"],
    "VN": ["Viet Nam"],
    "IR": ["Persia"],
    "NL": ["Holland"],
}


def build_rows() -> list[dict[str, str]]:
    """One row per ISO 3166-1 alpha-2 code, with names and aliases."""
    table = files("tzdata").joinpath("zoneinfo", "iso3166.tab").read_text(encoding="utf-8")
    source = f"tzdata {version('tzdata')} iso3166.tab"
    rows = []
    for line in table.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        code, tz_name = line.split("\t")[:2]
        name = NAME_OVERRIDES.get(code, tz_name.replace(" & ", " and ").replace("St ", "Saint "))
        name_ne, aliases = DESTINATIONS.get(code, ("", []))
        aliases = [tz_name, *aliases, *EXTRA_ALIASES.get(code, [])]
        unique = [a for i, a in enumerate(aliases) if a != name and a not in aliases[:i]]
        rows.append(
            dict(code=code, name_en=name, name_ne=name_ne, aliases=";".join(unique), source=source)
        )
    assert len(rows) == 249 and {r["code"] for r in rows} >= set(DESTINATIONS)
    return rows


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    rows = build_rows()
    with OUTPUT.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    logger.info("wrote %d countries to %s", len(rows), OUTPUT)


if __name__ == "__main__":
    main()
