"""Small synthetic clear extracts for the encoding tests (mixed scripts and date formats)."""

from __future__ import annotations

import random

import pandas as pd

from .golden_names import VARIANT_GROUPS

GIVEN = [g for g in VARIANT_GROUPS[:19] for g in g]  # given-name groups, all spellings
FAMILY = [
    "Tamang",
    "तामाङ",
    "Gurung",
    "गुरुङ",
    "Magar",
    "Thapa",
    "थापा",
    "Shrestha",
    "श्रेष्ठ",
    "Bishwokarma",
    "Chhetri",
    "Adhikari",
    "Pokharel",
    "Bhattarai",
    "Ghimire",
    "Poudel",
]
DISTRICTS = ["Sindhupalchok", "Makwanpur", "Nuwakot", "Kathmandu", "सिन्धुपाल्चोक", "Jhapa"]


def clear_extract(rows: int = 120, seed: int = 3) -> pd.DataFrame:
    """A clean extract (every row valid) with names, IDs, phones and birth dates."""
    rng = random.Random(seed)
    records = []
    for index in range(rows):
        year, month, day = rng.randint(1965, 2008), rng.randint(1, 12), rng.randint(1, 28)
        has_dob = index % 3 != 0
        records.append(
            {
                "record_id": f"SH-{index:05d}",
                "given_name": rng.choice(GIVEN),
                "family_name": rng.choice(FAMILY),
                "father_name": rng.choice(["Ram Bahadur", "Hari", "कृष्ण", "Bishnu", ""]),
                "sex": rng.choice(["F", "M", "महिला", "female"]),
                "date_of_birth": f"{year}-{month:02d}-{day:02d}" if has_dob else "",
                "age": "" if has_dob else str(rng.randint(12, 60)),
                "citizenship_no": f"27-01-{rng.randint(60, 79)}-{rng.randint(10000, 99999)}"
                if index % 2
                else "",
                "passport_no": f"PA{rng.randint(1000000, 9999999)}" if index % 5 == 0 else "",
                "phone": f"+977-98{rng.randint(10000000, 99999999)}" if index % 2 == 0 else "",
                "district": rng.choice(DISTRICTS),
                "province": "",
                "local_level": "",
                "ward": str(rng.randint(1, 9)),
                "caste_ethnicity": rng.choice(["hill_janajati", "dalit", ""]),
                "contact_date": f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                "exploitation_type": rng.choice(["forced_labour", "sexual_exploitation", ""]),
                "destination_country": rng.choice(["India", "Malaysia", "NP", ""]),
                "services": rng.choice(["counselling;shelter", "", "legal_aid"]),
                "referred_from": rng.choice(["police", "ocmc", ""]),
                "referred_to": "",
            }
        )
    return pd.DataFrame(records)


def write_csv(frame: pd.DataFrame, path, *, bom: bool = False) -> None:  # type: ignore[no-untyped-def]
    """Write an extract as UTF-8 CSV (optionally with a byte-order mark, as Excel does)."""
    text = frame.to_csv(index=False)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
