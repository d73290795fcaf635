"""Text normalisation shared by the reference-data resolvers (geography, vocabularies).

Agency registers spell the same place or category many ways: any case, extra spaces,
punctuation, Devanagari typed with or without chandrabindu, joiners, or Devanagari digits.
`normalise_key` folds those differences away so lookups compare like with like. It is for
*matching* reference vocabularies only; names of people are canonicalised in
`linkage.encoding`, not here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

# Devanagari digits ०..९ -> 0..9 (registers mix both).
_DIGITS = str.maketrans("०१२३४५६७८९", "0123456789")
# Spellings of one sound that registers use interchangeably: chandrabindu/anusvara, and
# zero-width joiners that some keyboards insert into conjuncts (कञ्‍चनपुर).
_DEVANAGARI_FOLD = str.maketrans({"ँ": "ं", "\u200c": None, "\u200d": None})
_NON_WORD = re.compile(r"[^\w\u0900-\u097f]+")


def normalise_key(text: object) -> str:
    """Fold case, Unicode form, punctuation, spacing and digit script into a lookup key.

    >>> normalise_key("  Sindhu-Palchok  District ")
    'sindhu palchok district'
    """
    if text is None:
        return ""
    value = unicodedata.normalize("NFC", str(text)).translate(_DIGITS).translate(_DEVANAGARI_FOLD)
    value = value.casefold()
    # Latin letters with diacritics (IAST romanisation: "Jhāpā") match their plain form;
    # Devanagari combining signs must stay, so only strip marks after Latin letters.
    decomposed = unicodedata.normalize("NFD", value)
    kept = [
        ch
        for i, ch in enumerate(decomposed)
        if not (unicodedata.combining(ch) and i > 0 and decomposed[i - 1].isascii())
    ]
    value = unicodedata.normalize("NFC", "".join(kept))
    return " ".join(_NON_WORD.sub(" ", value).replace("_", " ").split())


def strip_affixes(key: str, suffixes: Iterable[str], prefixes: Iterable[str] = ()) -> str:
    """Remove one trailing suffix and one leading prefix (already normalised keys), if present.

    Suffixes are tried longest first so "rural municipality" wins over "municipality".
    """
    for suffix in sorted(suffixes, key=len, reverse=True):
        if key.endswith(" " + suffix):
            key = key[: -len(suffix) - 1].strip()
            break
    for prefix in sorted(prefixes, key=len, reverse=True):
        if key.startswith(prefix + " "):
            key = key[len(prefix) + 1 :].strip()
            break
    return key


def build_lookup(*tables: Mapping[str, Iterable[str] | str]) -> dict[str, str]:
    """Map normalised spellings to codes: code itself plus every name the tables give it."""
    lookup: dict[str, str] = {}
    for table in tables:
        for code, names in table.items():
            spellings = [names] if isinstance(names, str) else list(names)
            for spelling in (code, *spellings):
                key = normalise_key(spelling)
                if key:
                    # First writer wins, so a code's own label outranks another's synonym.
                    lookup.setdefault(key, code)
    return lookup


# --- phonetic key ----------------------------------------------------------------------------
# Ordinary romanisation variation of Nepali place names, folded away (order matters):
# "sh"/"s" (श, ष, स), "chh"/"ch" (छ, च), "ow"/"o" (ओ), w/v/b (व), aspirated/unaspirated
# stops (registers drop the h of ध, ठ, भ...), long vowels typed doubled ("aa", "ee", "oo")
# and doubled consonants ("Mahottari"/"Mahotari"). Spaces and hyphens vanish ("Solu Khumbu").
_LATIN_FOLDS = (
    (re.compile(r"[^a-z]"), ""),
    (re.compile(r"sh"), "s"),
    (re.compile(r"chh"), "ch"),
    (re.compile(r"ow(?![aeiou])"), "o"),  # "chowk" for चोक
    (re.compile(r"[wv]"), "b"),
    (re.compile(r"([kgcjtdpb])h"), r"\1"),
    (re.compile(r"ee"), "i"),
    (re.compile(r"oo"), "u"),
    (re.compile(r"(.)\1+"), r"\1"),
)
# The same confusions in Devanagari: long/short i and u (ी/ि, ू/ु, ई/इ, ऊ/उ), श/ष/स,
# व/ब, and a nasal half-letter before a consonant written as anusvara (ङ्ग = ंग).
_DEVANAGARI_FOLDS = (
    (re.compile(r"[^\u0900-\u097f]"), ""),
    (re.compile(r"[ङञणनम]्(?=[क-ह])"), "ं"),
    (re.compile("[ीि]"), "ि"),
    (re.compile("[ूु]"), "ु"),
    (re.compile("ई"), "इ"),
    (re.compile("ऊ"), "उ"),
    (re.compile("[शष]"), "स"),
    (re.compile("व"), "ब"),
)


def phonetic_key(text: object) -> str:
    """Fold ordinary spelling variation of a (place) name into a coarse comparison key.

    Only for a *fallback* comparison after an exact lookup failed, and only where callers
    check that the key is unique: the fold deliberately merges different spellings.

    >>> phonetic_key("Sindhupalchowk") == phonetic_key("Sindupalchok")
    True
    """
    key = normalise_key(text)
    if re.search(r"[\u0900-\u097f]", key):
        for pattern, replacement in _DEVANAGARI_FOLDS:
            key = pattern.sub(replacement, key)
        return key
    for pattern, replacement in _LATIN_FOLDS:
        key = pattern.sub(replacement, key)
    return key
