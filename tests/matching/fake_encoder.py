"""A stand-in for the agency-side encoder, for tests only.

It produces the columns of docs/interfaces.md section 2 from clear test records with a fixed
test key, so the matching engine can be tested without depending on `linkage.encoding`.
Bloom filters: 1024 bits, bigrams of the padded name, k=10 positions per bigram from HMAC.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

import pyarrow as pa

from linkage.encoding.identifiers import deletion_variants
from linkage.encoding.keyed import BIRTH_WINDOW_GRIDS, BIRTH_WINDOW_YEARS
from linkage.encoding.names import name_edit_messages

TEST_KEY = b"pahichan-test-key-not-a-secret!!"
FILTER_BITS = 1024
HASHES_PER_BIGRAM = 10


def _token(purpose: str, value: str, key: bytes = TEST_KEY, hex_chars: int = 16) -> str:
    digest = hmac.new(key, f"{purpose}\x1f{value}".encode(), hashlib.sha256).hexdigest()
    return digest[:hex_chars]


def bloom_filter(name: str | None, key: bytes = TEST_KEY) -> bytes | None:
    """1024-bit Bloom filter of the name's bigrams (bit 0 = most significant bit of byte 0)."""
    if not name:
        return None
    padded = f"_{name.lower().strip()}_"
    bits = bytearray(FILTER_BITS // 8)
    for i in range(len(padded) - 1):
        bigram = padded[i : i + 2]
        digest = hmac.new(key, bigram.encode(), hashlib.sha256).digest()
        for h in range(HASHES_PER_BIGRAM):
            position = int.from_bytes(digest[2 * h : 2 * h + 2], "big") % FILTER_BITS
            bits[position // 8] |= 0x80 >> (position % 8)
    return bytes(bits)


def _phonetic(name: str | None) -> str | None:
    """A crude phonetic key: first letter plus consonant skeleton (enough for tests)."""
    if not name:
        return None
    name = name.lower()
    skeleton = name[0] + "".join(c for c in name[1:] if c not in "aeiouyhw")
    collapsed = "".join(c for i, c in enumerate(skeleton) if i == 0 or c != skeleton[i - 1])
    return collapsed[:6]


def birth_windows(year: int | None, key: bytes = TEST_KEY) -> list[str]:
    """pahichan-enc-2 birth windows (`linkage.encoding.keyed`): the window holding the year on
    each grid; the grids' keyed shift here is a fixed 5 years."""
    if year is None:
        return []
    step = BIRTH_WINDOW_YEARS // BIRTH_WINDOW_GRIDS
    return [
        _token("window", f"{grid}/{(year + 5 + grid * step) // BIRTH_WINDOW_YEARS}", key)
        for grid in range(BIRTH_WINDOW_GRIDS)
    ]


def _name_edits(given: str | None, family: str | None, key: bytes) -> set[str]:
    """pahichan-enc-4 name edit tokens (`RecordEncoder.name_edit_tokens`)."""
    if not given or not family:
        return set()
    return {_token("name_edit", m, key) for m in name_edit_messages(given, family)}


def encode_records(
    records: list[dict], *, key: bytes = TEST_KEY, agency_id: str = "A1", encoding: int = 1
) -> pa.Table:
    """Encode clear dicts (record_id, given_name, family_name, birth_year|date_of_birth, ...).

    `encoding` 1 writes the birth columns of pahichan-enc-1 (exact year and date tokens,
    +-1/+-2 lists), 2 those of pahichan-enc-2 (keyed windows and a day-month token), 3 as 2
    plus the name edit tokens of pahichan-enc-4 (names as given, taken as canonical).
    """
    rows = []
    for i, rec in enumerate(records, start=1):
        dob = rec.get("date_of_birth")
        yob = rec.get("birth_year") or (date.fromisoformat(dob).year if dob else None)
        given, family = rec.get("given_name"), rec.get("family_name")
        full = " ".join(p for p in (given, family) if p) or None

        def tok(purpose: str, value: object) -> str | None:
            return _token(purpose, str(value), key) if value not in (None, "") else None

        rows.append(
            {
                "record_token": _token("record", f"{agency_id}|{rec['record_id']}", key, 32),
                "record_kind": "episode",
                "source_row": i,
                "given_name_bf": bloom_filter(given, key),
                "family_name_bf": bloom_filter(family, key),
                "father_name_bf": bloom_filter(rec.get("father_name"), key),
                "full_name_bf": bloom_filter(full, key),
                "given_name_key": tok("gkey", _phonetic(given)),
                "family_name_key": tok("fkey", _phonetic(family)),
                "full_name_key": tok("nkey", f"{_phonetic(given)}|{_phonetic(family)}"),
                "name_set_key": (
                    tok("skey", "|".join(sorted((_phonetic(given), _phonetic(family)))))
                    if _phonetic(given) and _phonetic(family)
                    else None
                ),
                **(
                    {
                        "birth_year_token": tok("yob", yob),
                        "birth_year_pm1_tokens": (
                            [tok("yob", yob + d) for d in (-1, 0, 1)] if yob else []
                        ),
                        "birth_year_pm2_tokens": (
                            [tok("yob", yob + d) for d in (-2, -1, 0, 1, 2)] if yob else []
                        ),
                        "birth_date_token": tok("dob", dob),
                        "birth_window_tokens": [],
                        "birth_day_token": None,
                    }
                    if encoding == 1
                    else {
                        "birth_year_token": None,
                        "birth_year_pm1_tokens": [],
                        "birth_year_pm2_tokens": [],
                        "birth_date_token": None,
                        "birth_window_tokens": birth_windows(yob, key),
                        "birth_day_token": tok("day", dob[5:] if dob else None),
                    }
                ),
                "sex_token": tok("sex", rec.get("sex")),
                "district_token": tok("district", rec.get("district")),
                "ward_token": (
                    tok("ward", f"{rec['local_level']}/{rec['ward']}")
                    if rec.get("local_level") and rec.get("ward")
                    else None
                ),
                "citizenship_token": tok("citizenship", rec.get("citizenship_no")),
                "passport_token": tok("passport", rec.get("passport_no")),
                **{
                    f"{field}_edit_tokens": [
                        tok(f"{field}_edit", v) for v in deletion_variants(rec.get(f"{field}_no"))
                    ]
                    for field in ("citizenship", "passport")
                },
                "phone_token": tok("phone", rec.get("phone")),
                "name_edit_tokens": (
                    sorted(_name_edits(given, family, key)) if encoding >= 3 else None
                ),
                "sex": rec.get("sex"),
                "age_band": None,
                "birth_precision": "day" if dob else ("year" if yob else "unknown"),
                "province_code": None,
                "district_code": rec.get("district"),
                "local_level_code": rec.get("local_level"),
                "caste_ethnicity": None,
                "contact_date": date(2024, 1, 1),
                "exploitation_type": None,
                "destination_country": None,
                "services": [],
                "referred_from": None,
                "referred_to": None,
            }
        )
    return pa.Table.from_pylist(rows, schema=SCHEMA)


SCHEMA = pa.schema(
    [
        ("record_token", pa.string()),
        ("record_kind", pa.string()),
        ("source_row", pa.int32()),
        ("given_name_bf", pa.binary()),
        ("family_name_bf", pa.binary()),
        ("father_name_bf", pa.binary()),
        ("full_name_bf", pa.binary()),
        ("given_name_key", pa.string()),
        ("family_name_key", pa.string()),
        ("full_name_key", pa.string()),
        ("name_set_key", pa.string()),
        ("birth_year_token", pa.string()),
        ("birth_year_pm1_tokens", pa.list_(pa.string())),
        ("birth_year_pm2_tokens", pa.list_(pa.string())),
        ("birth_date_token", pa.string()),
        ("birth_window_tokens", pa.list_(pa.string())),
        ("birth_day_token", pa.string()),
        ("sex_token", pa.string()),
        ("district_token", pa.string()),
        ("ward_token", pa.string()),
        ("citizenship_token", pa.string()),
        ("passport_token", pa.string()),
        ("citizenship_edit_tokens", pa.list_(pa.string())),
        ("passport_edit_tokens", pa.list_(pa.string())),
        ("phone_token", pa.string()),
        ("name_edit_tokens", pa.list_(pa.string())),
        ("sex", pa.string()),
        ("age_band", pa.string()),
        ("birth_precision", pa.string()),
        ("province_code", pa.string()),
        ("district_code", pa.string()),
        ("local_level_code", pa.string()),
        ("caste_ethnicity", pa.string()),
        ("contact_date", pa.date32()),
        ("exploitation_type", pa.string()),
        ("destination_country", pa.string()),
        ("services", pa.list_(pa.string())),
        ("referred_from", pa.string()),
        ("referred_to", pa.string()),
    ]
)
