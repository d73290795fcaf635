"""The CTDC public dataset layout, and our vocabularies mapped onto it.

The Counter Trafficking Data Collaborative (CTDC, run by IOM) publishes case-level data on
identified victims in one flat layout: one row per victim, one 0/1 column per exploitation
type, means of control, labour sector, sexual-exploitation type and recruiter relation.
`CTDC_COLUMNS` is that layout, the 63 columns, in file order, of "The Global Dataset"
(`The_Global_Dataset_Apr_2020.csv`) and of the "Global K-anonymized Dataset"
(`The Global K-anon Dataset 15 July 2021.xlsx`, sheet `CTDC_K_anon_ds`; data dictionary
version 20210825). Source of the names: the header lists of those files as reproduced in
public analysis code (found with the project's code search, not copied): the 2018 edition
lacks only `isSlaveryAndPractices`. Age bands (`ageBroad`: `0--8`, `9--17`, `18--20`,
`21--23`, `24--26`, `27--29`, `30--38`, `39--47`, `48+`), `gender` values `Female`/`Male`
and `majorityStatus` values `Adult`/`Minor` are as those files contain them. Country
columns hold ISO 3166-1 alpha-2 codes (the 2020 file's "NA" for Namibia is read as missing
by careless readers, a known pitfall).

Not adopted: CTDC's 2025 "Global Synthetic Dataset" has a reduced 27-variable layout
(`meansDebtBondageEarnings`, `traffickMonths`, ...) whose codebook we could not read here.

Grain of a `to_ctdc_row` result: one victim (survivor), as CTDC counts; the caller picks the
survivor's episode (e.g. the first identification) and unions the exploitation types of
the survivor's episodes. A row-level export is identifying in small groups: CTDC itself
releases it only k-anonymised. Publish aggregates, or pass rows through disclosure control.

Columns we cannot fill stay None (missing, as CTDC leaves unknowns empty): every
`meansOfControl*`, `majorityStatusAtExploit`, `majorityEntry`, `isAbduction`, recruiter
relations, sexual-exploitation types, labour sectors other than begging, and the
`*Concatenated` text columns (their label wording is not verified). `Datasource` is
filled only when the caller gives it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from schemas.vocabularies import EXPLOITATION_TYPES

CTDC_COLUMNS: tuple[str, ...] = (
    "yearOfRegistration",
    "Datasource",
    "gender",
    "ageBroad",
    "majorityStatus",
    "majorityStatusAtExploit",
    "majorityEntry",
    "citizenship",
    "meansOfControlDebtBondage",
    "meansOfControlTakesEarnings",
    "meansOfControlRestrictsFinancialAccess",
    "meansOfControlThreats",
    "meansOfControlPsychologicalAbuse",
    "meansOfControlPhysicalAbuse",
    "meansOfControlSexualAbuse",
    "meansOfControlFalsePromises",
    "meansOfControlPsychoactiveSubstances",
    "meansOfControlRestrictsMovement",
    "meansOfControlRestrictsMedicalCare",
    "meansOfControlExcessiveWorkingHours",
    "meansOfControlUsesChildren",
    "meansOfControlThreatOfLawEnforcement",
    "meansOfControlWithholdsNecessities",
    "meansOfControlWithholdsDocuments",
    "meansOfControlOther",
    "meansOfControlNotSpecified",
    "meansOfControlConcatenated",
    "isForcedLabour",
    "isSexualExploit",
    "isOtherExploit",
    "isSexAndLabour",
    "isForcedMarriage",
    "isForcedMilitary",
    "isOrganRemoval",
    "isSlaveryAndPractices",
    "typeOfExploitConcatenated",
    "typeOfLabourAgriculture",
    "typeOfLabourAquafarming",
    "typeOfLabourBegging",
    "typeOfLabourConstruction",
    "typeOfLabourDomesticWork",
    "typeOfLabourHospitality",
    "typeOfLabourIllicitActivities",
    "typeOfLabourManufacturing",
    "typeOfLabourMiningOrDrilling",
    "typeOfLabourPeddling",
    "typeOfLabourTransportation",
    "typeOfLabourOther",
    "typeOfLabourNotSpecified",
    "typeOfLabourConcatenated",
    "typeOfSexProstitution",
    "typeOfSexPornography",
    "typeOfSexRemoteInteractiveServices",
    "typeOfSexPrivateSexualServices",
    "typeOfSexConcatenated",
    "isAbduction",
    "RecruiterRelationship",
    "CountryOfExploitation",
    "recruiterRelationIntimatePartner",
    "recruiterRelationFriend",
    "recruiterRelationFamily",
    "recruiterRelationOther",
    "recruiterRelationUnknown",
)

CTDC_AGE_BANDS: tuple[str, ...] = (
    "0--8",
    "9--17",
    "18--20",
    "21--23",
    "24--26",
    "27--29",
    "30--38",
    "39--47",
    "48+",
)
_BAND_BOUNDS: tuple[tuple[int, int | None], ...] = (
    (0, 8),
    (9, 17),
    (18, 20),
    (21, 23),
    (24, 26),
    (27, 29),
    (30, 38),
    (39, 47),
    (48, None),
)

# The exploitation-type flags, known together: when a survivor's type is known every flag
# is 0 or 1; when it is unknown they all stay None.
EXPLOITATION_FLAGS: tuple[str, ...] = (
    "isForcedLabour",
    "isSexualExploit",
    "isOtherExploit",
    "isSexAndLabour",
    "isForcedMarriage",
    "isForcedMilitary",
    "isOrganRemoval",
    "isSlaveryAndPractices",
)

# HTCDS code -> CTDC columns set to 1. CTDC has no child-labour, begging, adoption or
# surrogacy flag: child labour and forced begging are forced labour (begging also sets
# its labour sector); forced adoption and surrogacy are "other" exploitation.
EXPLOITATION_TO_CTDC: dict[str, tuple[str, ...]] = {
    "forced_labour": ("isForcedLabour",),
    "sexual_exploitation": ("isSexualExploit",),
    "child_labour": ("isForcedLabour",),
    "forced_marriage": ("isForcedMarriage",),
    "servitude": ("isSlaveryAndPractices",),
    "forced_military": ("isForcedMilitary",),
    "organ_removal": ("isOrganRemoval",),
    "forced_begging": ("isForcedLabour", "typeOfLabourBegging"),
    "forced_adoption": ("isOtherExploit",),
    "surrogacy": ("isOtherExploit",),
    "other": ("isOtherExploit",),
}
SEX_TO_CTDC: dict[str, str | None] = {"F": "Female", "M": "Male", "O": None}

_FILLED = {
    "yearOfRegistration",
    "Datasource",
    "gender",
    "ageBroad",
    "majorityStatus",
    "citizenship",
    "CountryOfExploitation",
    "typeOfLabourBegging",
    *EXPLOITATION_FLAGS,
}
# Columns `to_ctdc_row` never fills (always None): the data are not collected in Nepal's
# registers under the agency extract contract.
UNFILLED_COLUMNS: tuple[str, ...] = tuple(c for c in CTDC_COLUMNS if c not in _FILLED)

# "9--17" as CTDC writes it, "9-17" or "09--17" as others do, "48+" for the open band.
_BAND = re.compile(r"^0*(\d+)\s*-{1,2}\s*0*(\d+)$|^0*(\d+)\s*\+$")


def _parse_band(text: str) -> tuple[int, int | None] | None:
    match = _BAND.match(text.strip())
    if not match:
        return None
    if match.group(3) is not None:
        return int(match.group(3)), None
    return int(match.group(1)), int(match.group(2))


def _band_of_age(age: int) -> str | None:
    if age < 0 or age > 120:
        return None
    for label, (low, high) in zip(CTDC_AGE_BANDS, _BAND_BOUNDS, strict=True):
        if age >= low and (high is None or age <= high):
            return label
    return None  # pragma: no cover - the bands cover 0..120


def ctdc_age_band(age_or_band: int | str | None) -> str | None:
    """CTDC `ageBroad` from an age in years, a CTDC band, or one of our age bands.

    An age gives its band. A CTDC band is returned in CTDC's spelling ("9-17" -> "9--17").
    One of Pahichan's bands (`schemas.vocabularies.AGE_BANDS`) maps only when it lies inside
    a single CTDC band ("12-17" -> "9--17", "50+" -> "48+"); the others ("0-11", "18-24",
    "25-34", "35-49") straddle CTDC bands, so None: no guessing.
    """
    if age_or_band is None or isinstance(age_or_band, bool):
        return None
    if isinstance(age_or_band, int):
        return _band_of_age(age_or_band)
    text = str(age_or_band).strip()
    if text.isdigit():
        return _band_of_age(int(text))
    parsed = _parse_band(text)
    if parsed is None:
        return None
    low, high = parsed
    for label, (band_low, band_high) in zip(CTDC_AGE_BANDS, _BAND_BOUNDS, strict=True):
        if low >= band_low and (band_high is None or (high is not None and high <= band_high)):
            return label
    return None


def majority_status(age_or_band: int | str | None) -> str | None:
    """`Minor` (under 18) or `Adult` from an age or an age band (ours or CTDC's); else None."""
    if age_or_band is None or isinstance(age_or_band, bool):
        return None
    if isinstance(age_or_band, int):
        return None if age_or_band < 0 else ("Minor" if age_or_band < 18 else "Adult")
    text = str(age_or_band).strip()
    if text.isdigit():
        return majority_status(int(text))
    parsed = _parse_band(text)
    if parsed is None:
        return None
    low, high = parsed
    if high is not None and high < 18:
        return "Minor"
    return "Adult" if low >= 18 else None  # None: the band straddles 18


def to_ctdc_row(
    *,
    registration_date: dt.date | None = None,
    sex: str | None = None,
    age: int | None = None,
    age_band: str | None = None,
    exploitation_types: Iterable[str] = (),
    destination_country: str | None = None,
    citizenship: str | None = None,
    datasource: str | None = None,
) -> dict[str, object]:
    """One survivor as a CTDC row: every key of `CTDC_COLUMNS`, None where unknown.

    `sex` is F/M/O (O has no CTDC value here, so None); `age` wins over `age_band`;
    `exploitation_types` are HTCDS codes (`schemas.vocabularies.EXPLOITATION_TYPES`) of
    all the survivor's episodes (ValueError for an unknown code); `destination_country`
    is ISO alpha-2 (`NP` = internal trafficking) and becomes `CountryOfExploitation`.
    """
    row: dict[str, object] = dict.fromkeys(CTDC_COLUMNS)
    if registration_date is not None:
        row["yearOfRegistration"] = registration_date.year
    row["Datasource"] = datasource
    if sex is not None and sex not in SEX_TO_CTDC:
        raise ValueError(f"sex {sex!r} is not F, M or O")
    row["gender"] = SEX_TO_CTDC.get(sex) if sex else None
    source = age if age is not None else age_band
    row["ageBroad"] = ctdc_age_band(source)
    row["majorityStatus"] = majority_status(source)
    row["citizenship"] = citizenship
    row["CountryOfExploitation"] = destination_country
    codes = [c for c in exploitation_types if c]
    unknown = [c for c in codes if c not in EXPLOITATION_TYPES]
    if unknown:
        raise ValueError(f"unknown exploitation type(s) {unknown}; expected HTCDS codes")
    if codes:
        for flag in EXPLOITATION_FLAGS:
            row[flag] = 0
        for code in codes:
            for column in EXPLOITATION_TO_CTDC[code]:
                row[column] = 1
        if row["isForcedLabour"] == 1 and row["isSexualExploit"] == 1:
            row["isSexAndLabour"] = 1
    return row
