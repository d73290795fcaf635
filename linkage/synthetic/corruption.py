"""How clean facts get written down wrong or differently: typos, swaps, identifier formats.

Every function takes arrays (one element per record) and a numpy Generator, draws all its
randomness up front with numpy (so results depend only on the seed), and touches Python
strings only for the records it changes.
"""

from __future__ import annotations

import numpy as np

_LATIN_LETTERS = "abcdefghijklmnoprstuy"
# Consonants and vowel signs a hurried typist on a Nepali keyboard substitutes or inserts.
_DEVANAGARI_CONSONANTS = "कखगघचछजझटडतथदधनपफबभमयरलवशसह"
_TYPO_OPERATIONS = ("insert", "delete", "substitute", "transpose")


_COMBINING = set("\u0900\u0901\u0902\u0903\u093c\u094d") | {chr(c) for c in range(0x093E, 0x094D)}
_VIRAMA = "\u094d"


def _units(text: str) -> list[str]:
    """Letters to edit: Latin characters, or Devanagari aksharas (a consonant cluster with its
    vowel signs), so that a typo never leaves a vowel sign without a consonant."""
    units: list[str] = []
    for ch in text:
        if units and (ch in _COMBINING or units[-1].endswith(_VIRAMA)):
            units[-1] += ch
        else:
            units.append(ch)
    return units


def _is_devanagari(text: str) -> bool:
    return any("\u0900" <= ch <= "\u097f" for ch in text)


def _letter(devanagari: bool, draw: float, upper: bool = False) -> str:
    if devanagari:
        return _DEVANAGARI_CONSONANTS[int(draw * len(_DEVANAGARI_CONSONANTS))]
    letter = _LATIN_LETTERS[int(draw * len(_LATIN_LETTERS))]
    return letter.upper() if upper else letter


def typo(text: str, operation: str, position_draw: float, letter_draw: float) -> str:
    """One typing error (insert, delete, substitute or transpose) that always changes `text`.

    Devanagari is edited by akshara (consonant + signs), Latin by letter; a transpose of two
    equal letters or an edit that changes nothing falls back to an appended letter.
    """
    units = _units(text)
    devanagari = _is_devanagari(text)
    if len(units) < 2 and operation in ("delete", "transpose"):
        operation = "insert"
    n = len(units)
    if operation == "insert":
        pos = int(position_draw * (n + 1))
        upper = text.isupper() and not devanagari
        units.insert(pos, _letter(devanagari, letter_draw, upper))
    elif operation == "delete":
        del units[int(position_draw * n)]
    elif operation == "transpose":
        pos = int(position_draw * (n - 1))
        units[pos], units[pos + 1] = units[pos + 1], units[pos]
    else:
        pos = int(position_draw * n)
        old = units[pos]
        new = _letter(devanagari, letter_draw, old.isupper()) + old[1:]
        if new.lower() == old.lower():
            new = _letter(devanagari, (letter_draw + 0.5) % 1.0, old.isupper()) + old[1:]
        units[pos] = new
    result = "".join(units)
    # Degenerate edits (equal letters transposed, a space moved to an end) fall back to an
    # appended letter, so a record counted as "typo" always differs from every true spelling.
    if result.strip() != result or "  " in result or result.lower() == text.lower():
        result = text + _letter(devanagari, letter_draw)
    return result


def apply_typos(values: np.ndarray, chosen: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Copy of `values` (object array) with one typo in every element where `chosen` is True."""
    out = values.copy()
    rows = np.flatnonzero(chosen & (values != ""))
    operations = rng.integers(0, len(_TYPO_OPERATIONS), size=len(rows))
    positions = rng.random(len(rows))
    letters = rng.random(len(rows))
    out[rows] = [
        typo(str(values[r]), _TYPO_OPERATIONS[o], p, c)
        for r, o, p, c in zip(
            rows.tolist(), operations.tolist(), positions.tolist(), letters.tolist(), strict=True
        )
    ]
    return out


def swap_day_month(dates: np.ndarray) -> np.ndarray:
    """Dates (datetime64[D]) with day and month exchanged; callers pass only days <= 12."""
    years = dates.astype("datetime64[Y]")
    months = (dates.astype("datetime64[M]") - years).astype(int) + 1
    days = (dates - dates.astype("datetime64[M]")).astype(int) + 1
    return years + (days - 1).astype("timedelta64[M]") + (months - 1).astype("timedelta64[D]")


def swappable_day_month(dates: np.ndarray) -> np.ndarray:
    """True where swapping day and month gives another valid, different date."""
    months = (dates.astype("datetime64[M]") - dates.astype("datetime64[Y]")).astype(int) + 1
    days = (dates - dates.astype("datetime64[M]")).astype(int) + 1
    return (days <= 12) & (days != months)


def choose(rng: np.random.Generator, weights: tuple[float, ...], size: int) -> np.ndarray:
    """Category index per element, drawn with `weights`."""
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(p), size=size, p=p / p.sum())


def format_phones(phones: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """10-digit mobiles written the ways registers do: 98.., +977-98.., 977 98.., 98xx-xxxxxx."""
    style = choose(rng, (0.45, 0.20, 0.15, 0.10, 0.10), len(phones))
    phones = phones.astype(str)
    grouped = phones.astype(object)
    split = np.flatnonzero(style == 4)
    grouped[split] = [f"{p[:4]}-{p[4:]}" for p in phones[split].tolist()]
    written = np.select(
        [style == 0, style == 1, style == 2, style == 3],
        [
            phones,
            np.char.add("+977-", phones),
            np.char.add("977 ", phones),
            np.char.add("+977 ", phones),
        ],
        default=grouped,
    )
    return np.where(phones == "", "", written).astype(object)


def format_citizenship(numbers: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Citizenship numbers `27-01-74-05123` written with dashes, without, or with slashes."""
    style = choose(rng, (0.6, 0.3, 0.1), len(numbers))
    written = numbers.astype(object).copy()
    plain, slashed = np.flatnonzero(style == 1), np.flatnonzero(style == 2)
    written[plain] = [v.replace("-", "") for v in written[plain].tolist()]
    written[slashed] = [v.replace("-", "/") for v in written[slashed].tolist()]
    return written


def format_passports(numbers: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Passport numbers `PA1234567`, sometimes lower case or with a space after the letters."""
    style = choose(rng, (0.8, 0.1, 0.1), len(numbers))
    numbers = numbers.astype(str)
    lower = np.char.lower(numbers)
    spaced = np.char.add("PA ", np.char.lstrip(numbers, "PA"))
    written = np.where(style == 0, numbers, np.where(style == 1, lower, spaced))
    return np.where(numbers == "", "", written).astype(object)
