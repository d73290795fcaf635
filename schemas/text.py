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
