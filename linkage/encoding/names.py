"""Name canonicalisation: one Latin spelling per Nepali name, whatever the script or variant.

Pipeline for one name field (the result feeds Bloom filters and phonetic keys)::

    NFC -> Devanagari words transliterated (IAST, with Nepali word-final schwa deletion)
        -> lowercase ASCII -> spelling folds (vowel length, sh/s, v/w/b, ksh/x, chh/ch,
           aspirates, doubled letters) -> canonical form, e.g. "laxmi", "sresta"

Deterministic and dependency-light (``indic_transliteration`` only) so every agency gets
the same bytes. The folds are deliberately coarse: two spellings of one name must meet;
two different names keep enough letters (bigrams) to stay apart in the Bloom filter.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from indic_transliteration import sanscript

_DEVANAGARI = re.compile(r"[\u0900-\u097F]")
_CONSONANT = re.compile(r"[\u0915-\u0939\u0958-\u095F]")
_VIRAMA = "\u094d"
_NUKTA = "\u093c"

# IAST letters that carry a Nepali Latin spelling other than "strip the accent".
_IAST_TO_LATIN = str.maketrans(
    {
        "ś": "sh",
        "ṣ": "sh",
        "ṛ": "ri",
        "ṝ": "ri",
        "ḷ": "li",
        "ṃ": "n",
        "ṁ": "n",
        "ṅ": "ng",
        "ñ": "n",
        "ḥ": "",
        "ṭ": "t",
        "ḍ": "d",
        "ṇ": "n",
    }
)

# Ordered spelling folds on lowercase ASCII. Order matters: clusters before single letters.
_FOLDS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"[^a-z]", ""),
        (r"ksh|kch|ks|kx|x", "x"),  # क्ष: Laxmi / Lakshmi / Laksmi
        (r"ux", "ax"),  # English-style schwa before क्ष: Luxmi
        (r"chh|ch|c", "c"),  # छ/च: Chhetri / Chetri
        (r"sh|s", "s"),  # श/ष/स: Shrestha / Srestha
        (r"(?<=[^aeiou])wo", "wa"),  # Bishwokarma / Bishwakarma
        (r"[vw]", "b"),  # व: Bishwakarma / Biswakarma / Vishwakarma
        (r"ph|f", "p"),
        (r"([kgjtdb])h", r"\1"),  # aspirates: kh gh jh th dh bh
        (r"z", "j"),
        (r"q", "k"),
        (r"ee|ii|ey$", "i"),  # vowel length: Seeta / Sita
        (r"(?<=[^aeiou])y$", "i"),  # Chaudhary / Chaudhari, Laxmy (but Sanjay keeps "ay")
        (r"ou", "au"),  # औ: Poudel / Paudel / पौडेल
        (r"oo|uu", "u"),
        (r"aa", "a"),
        (r"([a-z])\1+", r"\1"),  # doubled letters: Lalitt / Lalit
    )
)


def _delete_final_schwa(word: str) -> str:
    """Mark a Devanagari word's final consonant as vowel-less when Nepali drops its schwa.

    Nepali does not pronounce the inherent "a" of a final single consonant (राम = Ram,
    गुरुङ = Gurung) but keeps it after a conjunct (कृष्ण = Krishna, श्रेष्ठ = Shrestha).
    """
    if not word:
        return word
    last = word[-1]
    if last == _NUKTA and len(word) > 1:
        body, last = word[:-2], word[-2:]
    else:
        body = word[:-1]
    if not _CONSONANT.match(last[0]) or len(body) < 1:
        return word
    if body.endswith(_VIRAMA):  # conjunct: keep the schwa
        return word
    return word + _VIRAMA


def transliterate(text: str) -> str:
    """Devanagari words to Nepali-style Latin (lowercase, may keep non-letters); others as is."""
    if not _DEVANAGARI.search(text):
        return text
    words = [_delete_final_schwa(word) for word in text.split()]
    iast = sanscript.transliterate(" ".join(words), sanscript.DEVANAGARI, sanscript.IAST)
    # ज्ञ is said "gya" in Nepali (Gyanendra, ज्ञानेन्द्र), not "jña".
    iast = iast.lower().replace("jñ", "gy").translate(_IAST_TO_LATIN)
    # c = च, ch = छ in IAST; Nepali Latin writes च as "ch" - the folds treat both alike.
    return unicodedata.normalize("NFKD", iast).encode("ascii", "ignore").decode("ascii")


def fold_word(word: str) -> str:
    """Apply the spelling folds to one lowercase ASCII word."""
    for pattern, replacement in _FOLDS:
        word = pattern.sub(replacement, word)
    return word


@lru_cache(maxsize=200_000)
def canonical_name(raw: str) -> str:
    """Canonical form of a name field: folded words joined by single spaces ('' if none).

    >>> canonical_name("लक्ष्मी") == canonical_name("Lakshmi") == canonical_name("Luxmi")
    True
    """
    text = unicodedata.normalize("NFC", raw).strip()
    text = transliterate(text).lower()
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    words = (fold_word(word) for word in re.split(r"[\s\-.,'/]+", text))
    return " ".join(word for word in words if word)


@lru_cache(maxsize=200_000)
def phonetic_key(canonical: str) -> str:
    """Coarse blocking key of a canonical name: first letter + consonant skeleton, <= 6 chars.

    Vowels carry most spelling noise in Nepali romanisation (Luxmi, Bishwo), so they are
    dropped after the first letter; e.g. "laxmi" -> "lxm", "bisbakarma" -> "bsbkrm".
    """
    compact = canonical.replace(" ", "")
    if not compact:
        return ""
    skeleton = compact[0] + re.sub(r"[aeiouy]", "", compact[1:])
    skeleton = re.sub(r"([a-z])\1+", r"\1", skeleton)
    return skeleton[:6]


# Names shorter than this send their exact form only: the deletion variants of a two-letter
# name are single letters, shared by a large share of all names.
NAME_VARIANT_MIN_LENGTH = 3


@lru_cache(maxsize=200_000)
def name_deletion_variants(canonical: str) -> tuple[str, ...]:
    """The canonical name (spaces removed) and the strings left by deleting one letter.

    Two names share a variant when they are at most one letter apart after dropping one
    letter from each: a wrong, missing, extra or swapped letter ("asa" / "aas" share "as";
    "reka" is itself a variant of "rekah"). Sorted; empty for an empty name; the name alone
    when it is shorter than NAME_VARIANT_MIN_LENGTH.
    """
    compact = canonical.replace(" ", "")
    if not compact:
        return ()
    if len(compact) < NAME_VARIANT_MIN_LENGTH:
        return (compact,)
    return tuple(sorted({compact, *(compact[:i] + compact[i + 1 :] for i in range(len(compact)))}))


@lru_cache(maxsize=200_000)
def name_skeleton_variants(canonical: str) -> tuple[str, ...]:
    """The name's consonant skeleton and the skeletons left by deleting one consonant.

    Vowels and doubled letters dropped ("basita" -> "bst"). A Devanagari typo adds, drops
    or swaps a whole akshara, which is two or three letters once transliterated, but one
    consonant of the skeleton: "basita" / "sita" share "st", "rgadu" / "durga" share
    "rg". Sorted; empty for a name without consonants; the skeleton alone when it is
    shorter than NAME_VARIANT_MIN_LENGTH (its deletions would be single letters).
    """
    skeleton = re.sub(r"([a-z])\1+", r"\1", re.sub(r"[aeiouy ]", "", canonical))
    if not skeleton:
        return ()
    if len(skeleton) < NAME_VARIANT_MIN_LENGTH:
        return (skeleton,)
    deletions = (skeleton[:i] + skeleton[i + 1 :] for i in range(len(skeleton)))
    return tuple(sorted({skeleton, *deletions}))


def name_edit_messages(given: str, family: str) -> set[str]:
    """The messages the name edit tokens are HMACs of (`keyed.RecordEncoder.name_edit_tokens`).

    {one-letter deletion variant of one field + the other field exact}, each field canonical
    with spaces removed (the exact full name is a member of both halves), and since
    pahichan-enc-4 the same with one field's consonant-skeleton variants, prefixed "s" so
    that no skeleton message equals a one-letter-deletion message.
    """
    exact_given, exact_family = given.replace(" ", ""), family.replace(" ", "")
    return {
        *(f"{variant}\x1f{exact_family}" for variant in name_deletion_variants(given)),
        *(f"{exact_given}\x1f{variant}" for variant in name_deletion_variants(family)),
        *(f"s\x1f{variant}\x1f{exact_family}" for variant in name_skeleton_variants(given)),
        *(f"s\x1f{exact_given}\x1f{variant}" for variant in name_skeleton_variants(family)),
    }
