"""Small synthetic people with duplicate records (typos, year slips), for tests only."""

from __future__ import annotations

import random

GIVEN = [
    "sita",
    "gita",
    "maya",
    "ram",
    "hari",
    "kamala",
    "sunita",
    "bishnu",
    "laxmi",
    "anita",
    "puja",
    "sarita",
    "binod",
    "krishna",
    "radha",
    "mina",
    "asha",
    "deepak",
    "suman",
    "nisha",
]
FAMILY = [
    "tamang",
    "thapa",
    "gurung",
    "rai",
    "magar",
    "shrestha",
    "sherpa",
    "lama",
    "karki",
    "adhikari",
    "khadka",
    "bhandari",
    "pandey",
    "yadav",
    "limbu",
    "chaudhary",
]
DISTRICTS = ["101", "102", "203", "304", "405", "506", "607", "708"]


def typo(name: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(name))
    return name[:i] + rng.choice("aeiouknrst") + name[i + 1 :]


def people(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for p in range(n):
        out.append(
            {
                "person_id": p,
                "given_name": rng.choice(GIVEN) + rng.choice(["", "a", "i", "u", "ka", "ti"]),
                "family_name": rng.choice(FAMILY),
                "father_name": rng.choice(GIVEN) + "man",
                "birth_year": rng.randint(1970, 2008),
                "sex": rng.choice("FM"),
                "district": rng.choice(DISTRICTS),
                "citizenship_no": f"{rng.randint(10, 99)}-{rng.randint(10000, 99999)}"
                if rng.random() < 0.5
                else None,
            }
        )
    return out


def record(person: dict, record_id: str, rng: random.Random, noisy: bool = True) -> dict:
    rec = {**person, "record_id": record_id}
    if noisy:
        if rng.random() < 0.3:
            rec["given_name"] = typo(rec["given_name"], rng)
        if rng.random() < 0.2:
            rec["birth_year"] = rec["birth_year"] + rng.choice([-1, 1])
        if rng.random() < 0.3:
            rec["citizenship_no"] = None
    return rec
