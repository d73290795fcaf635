"""Add romanised spellings of every district's Nepali name to `geography.csv` (build step 2).

Grain: one district row of `geography.csv` gets its `variants` column extended; nothing else
changes. Step 1 (`build_geography.py`, seed packages, curated spellings) writes the CSV;
this step runs afterwards in the project venv (`indic-transliteration` is a project
dependency) and is idempotent:

    .venv/bin/python schemas/reference/build_district_variants.py

Why: agencies type district names as they hear them, romanising the Devanagari under a few
habits. From the Devanagari name (via `indic_transliteration`'s IAST output) we generate the
spellings those habits produce:
- the inherent vowel dropped at the end of a word (पर्वत "Parbat", not "Parbata"), and in
  further forms also inside the word where Nepali speech may drop it (रौतहट "Rauthat");
- long vowels written plain (ā -> a) or doubled ("aa", "ee"/"ii", "oo"/"uu");
- व as "w", "v" or "b"; श/ष as "sh" or "s"; the aspirate h kept or dropped;
- nasals: ङ "ng", ञ/ण "n", anusvara "n" ("m" before p/b/m), chandrabindu "n" or nothing.

Vetting (a generated spelling is dropped, and logged, when): it normalises to the district's
own name or an existing variant (nothing new); it normalises to, or has the same phonetic key
as, any spelling of another district; it normalises to the bare name of a local level of
another district, or of a province; or two districts generate it.
"""

from __future__ import annotations

import csv
import itertools
import logging
import re
import sys
from collections import defaultdict
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `schemas` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from schemas.text import normalise_key, phonetic_key, strip_affixes

logger = logging.getLogger(__name__)

GEOGRAPHY_CSV = Path(__file__).with_name("geography.csv")

_LOCAL_SUFFIXES = (
    "rural municipality",
    "municipality",
    "sub metropolitan city",
    "metropolitan city",
)
# IAST letters; the tokeniser tries longer ones first so "kh" wins over "k", "ai" over "a".
_CONSONANTS = (
    "kh",
    "gh",
    "ch",
    "jh",
    "ṭh",
    "ḍh",
    "th",
    "dh",
    "ph",
    "bh",
    "k",
    "g",
    "ṅ",
    "c",
    "j",
    "ñ",
    "ṭ",
    "ḍ",
    "ṇ",
    "t",
    "d",
    "n",
    "p",
    "b",
    "m",
    "y",
    "r",
    "l",
    "v",
    "ś",
    "ṣ",
    "s",
    "h",
)
_VOWELS = ("ai", "au", "ā", "ī", "ū", "ṛ", "a", "i", "u", "e", "o")
_MARKS = ("ṃ", "~", "ḥ")
_TOKEN = re.compile(
    "|".join(re.escape(t) for t in sorted((*_CONSONANTS, *_VOWELS, *_MARKS), key=len, reverse=True))
    + "|."
)

# Spelling habits, each one change from the plain habit (long vowels single, व "w", श/ष
# "sh", aspirates kept). One habit at a time: the phonetic fallback in `schemas.geography`
# already covers mixtures, so listing every combination would only bloat the CSV.
_PLAIN = {"vowels": {"ā": "a", "ī": "i", "ū": "u"}, "v": "w", "sibilant": "sh", "aspirate": True}
_HABITS: tuple[dict, ...] = (
    {},
    {"vowels": {"ā": "aa", "ī": "ee", "ū": "oo"}},
    {"vowels": {"ā": "aa", "ī": "ii", "ū": "uu"}},
    {"v": "v"},
    {"v": "b"},
    {"sibilant": "s"},
    {"aspirate": False},
)
_BASE = {
    "kh": "kh",
    "gh": "gh",
    "ch": "chh",
    "jh": "jh",
    "ṭh": "th",
    "ḍh": "dh",
    "th": "th",
    "dh": "dh",
    "ph": "ph",
    "bh": "bh",
    "k": "k",
    "g": "g",
    "ṅ": "ng",
    "c": "ch",
    "j": "j",
    "ñ": "n",
    "ṭ": "t",
    "ḍ": "d",
    "ṇ": "n",
    "t": "t",
    "d": "d",
    "n": "n",
    "p": "p",
    "b": "b",
    "m": "m",
    "y": "y",
    "r": "r",
    "l": "l",
    "s": "s",
    "h": "h",
    "ṛ": "ri",
    "ḥ": "",
    "a": "a",
    "i": "i",
    "u": "u",
    "e": "e",
    "o": "o",
    "ai": "ai",
    "au": "au",
}
_DEASPIRATE = {
    "kh": "k",
    "gh": "g",
    "ch": "ch",
    "jh": "j",
    "ṭh": "t",
    "ḍh": "d",
    "th": "t",
    "dh": "d",
    "ph": "p",
    "bh": "b",
}


def _tokens(word_iast: str) -> list[str]:
    return _TOKEN.findall(word_iast)


def _is_vowel(token: str | None) -> bool:
    return token in _VOWELS


def _is_consonant(token: str | None) -> bool:
    return token in _CONSONANTS or token == "ṃ"


_NASALS = ("ṅ", "ñ", "ṇ", "n", "m", "ṃ")


def _final_schwa_dropped(tokens: list[str]) -> list[str]:
    """Drop a word-final inherent `a` after one consonant (or a nasal + consonant: डांग
    "Dang"); after other clusters it is spoken and typed (पूर्व "Purba")."""
    if len(tokens) < 2 or tokens[-1] != "a" or not _is_consonant(tokens[-2]):
        return list(tokens)
    before = tokens[-3] if len(tokens) >= 3 else None
    if _is_consonant(before) and before not in _NASALS:
        return list(tokens)
    return list(tokens[:-1])


def _medial_schwa_positions(tokens: list[str]) -> list[int]:
    """Positions of inherent `a`s between single consonants with vowels on both far sides
    (V C a C V), where Nepali speech tends to drop them (रौतहट "Rauthat")."""
    return [
        i
        for i in range(2, len(tokens) - 2)
        if tokens[i] == "a"
        and _is_consonant(tokens[i - 1])
        and _is_vowel(tokens[i - 2])
        and _is_consonant(tokens[i + 1])
        and _is_vowel(tokens[i + 2])
    ]


def _schwa_forms(tokens: list[str]) -> list[list[str]]:
    """The word with only its final schwa dropped, with each medial one dropped alone, and
    with every medial one dropped right to left (मकवानपुर "Makwanpur").

    Schwa deletion follows morphemes (compounds keep theirs: "Sankhuwasabha"), which letters
    cannot tell, so each candidate is offered and the vetting keeps what is unambiguous.
    """
    base = _final_schwa_dropped(tokens)
    forms = [base]
    positions = _medial_schwa_positions(base)
    forms += [base[:i] + base[i + 1 :] for i in positions]
    every = list(base)
    i = len(every) - 3
    while i >= 2:
        if i in _medial_schwa_positions(every):
            del every[i]
        i -= 1
    forms.append(every)
    return forms


def _spell(tokens: list[str], vowels: dict[str, str], v: str, sibilant: str, aspirate: bool) -> str:
    letters = []
    for i, token in enumerate(tokens):
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        if token in vowels:
            letters.append(vowels[token])
        elif token == "v":
            letters.append(v)
        elif token in ("ś", "ṣ"):
            letters.append(sibilant)
        elif token == "ṅ" and following in ("g", "gh", "k", "kh"):
            letters.append("n")  # ङ्ग is typed "ng", not "ngg"
        elif token == "ṃ":
            letters.append("m" if following in ("p", "ph", "b", "bh", "m") else "n")
        elif token == "~":
            letters.append("n" if not following else "")
        elif not aspirate and token in _DEASPIRATE:
            letters.append(_DEASPIRATE[token])
        else:
            letters.append(_BASE.get(token, token))
    return "".join(letters)


def romanisations(name_ne: str) -> list[str]:
    """Every spelling of `name_ne` that the habits above produce, title-cased, sorted.

    One habit applies to all words of a name at once ("Purbi Rukum", "Poorbee Rukum").
    """
    from indic_transliteration import sanscript

    words = [
        _tokens(sanscript.transliterate(word, sanscript.DEVANAGARI, sanscript.IAST))
        for word in re.findall(r"[\u0900-\u097f]+", name_ne)
    ]
    spellings: set[str] = set()
    # A schwa choice applies word by word; habits apply to the whole name.
    for forms in itertools.product(*(_schwa_forms(w) for w in words)):
        for habit, nasal in itertools.product(_HABITS, (True, False)):
            style = {**_PLAIN, **habit}
            spelt = []
            for tokens in forms:
                # A word-final chandrabindu reads as "n" (तनहुँ "Tanahun") or nothing.
                if not nasal and tokens and tokens[-1] == "~":
                    tokens = tokens[:-1]
                spelt.append(_spell(tokens, **style).capitalize())
            spellings.add(" ".join(spelt))
    return sorted(spellings)


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _split(variants: str) -> list[str]:
    return [v.strip() for v in variants.split(";") if v.strip()]


def generated_variants(rows: list[dict[str, str]]) -> dict[str, list[str]]:
    """District code -> vetted new spellings (see the module docstring for the rules)."""
    district_suffixes = tuple(normalise_key(s) for s in ("district", "jilla", "जिल्ला"))
    districts = [r for r in rows if r["level"] == "district"]
    own_keys: dict[str, set[str]] = {}
    for d in districts:
        names = [d["name_en"], d["name_ne"], *_split(d["variants"])]
        own_keys[d["code"]] = {strip_affixes(normalise_key(n), district_suffixes) for n in names}
    own_phonetic = {code: {phonetic_key(k) for k in keys} for code, keys in own_keys.items()}
    local_suffixes = tuple(normalise_key(s) for s in _LOCAL_SUFFIXES)
    foreign: dict[str, set[str]] = defaultdict(set)  # district code -> keys it must avoid
    for r in rows:
        if r["level"] in ("local_level", "province"):
            for name in (r["name_en"], r["name_ne"], *_split(r["variants"])):
                key = strip_affixes(normalise_key(name), local_suffixes)
                for code in own_keys:
                    if r["level"] == "province" or r["parent_code"] != code:
                        foreign[code].add(key)
    candidates: dict[str, list[str]] = {}
    generated_by: dict[str, set[str]] = defaultdict(set)
    for d in districts:
        code = d["code"]
        kept = []
        for spelling in romanisations(d["name_ne"]):
            key = normalise_key(spelling)
            others = [c for c in own_keys if c != code]
            if key in own_keys[code]:
                continue
            if key in foreign[code] or any(
                key in own_keys[c] or phonetic_key(key) in own_phonetic[c] for c in others
            ):
                logger.info("dropped %r for %s: collides with another unit", spelling, code)
                continue
            kept.append(spelling)
            generated_by[key].add(code)
        candidates[code] = kept
    shared = {k for k, codes in generated_by.items() if len(codes) > 1}
    for key in sorted(shared):
        logger.info("dropped %r: generated for several districts", key)
    return {
        code: [s for s in spellings if normalise_key(s) not in shared]
        for code, spellings in candidates.items()
    }


def main(path: Path = GEOGRAPHY_CSV) -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    rows = _read(path)
    added = generated_variants(rows)
    total = 0
    for row in rows:
        if row["level"] == "district" and added.get(row["code"]):
            variants = _split(row["variants"])
            variants += added[row["code"]]
            total += len(added[row["code"]])
            row["variants"] = ";".join(variants)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    logger.info("added %d generated district spellings to %s", total, path)


if __name__ == "__main__":
    main()
