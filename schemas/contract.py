"""The agency extract contract (version 1.2): columns, column mappings and header checks.

An agency export is one UTF-8 CSV, one row per contact episode or (contract 1.1,
`record_kind` = `followup`) per reintegration follow-up visit, in clear text; it never
leaves the agency as is. The contract itself lives in `contract/agency_extract.yaml`; this
module loads it and checks an export's headers against it, after applying the agency's
column-mapping file (YAML `{agency_header: canonical_name}`), so an agency can keep its own
register layout.

Column kinds tell the encoder what may leave the agency: `identifier` columns only as keyed
tokens or Bloom filters, `quasi_identifier` columns only coarsened or as codes, `attribute`
columns as vocabulary codes.

Version 1.1 only adds optional columns (`record_kind` and one `ri_*` column per
reintegration indicator of `schemas.reintegration`), so every version-1 export is a valid
1.1 export: `COMPATIBLE_CONTRACT_VERSIONS` lists what a 1.1 reader accepts. It is still a
version bump because a reader that knows only "1" would drop `record_kind` and count
follow-up visits as new contact episodes.

Version 1.2 adds one optional column, `consent_scope` (empty or absent =
`linkage_and_statistics`), so every 1.1 export is a valid 1.2 export; the bump tells an
encoder that knows only 1.1 that it would drop the column, send `services_only` records and
let `statistics_only` ones be linked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from schemas import geography, reintegration, vocabularies
from schemas.text import normalise_key

CONTRACT_VERSION = "1.2"
# Exports declared under these versions are valid under CONTRACT_VERSION (additive changes).
COMPATIBLE_CONTRACT_VERSIONS: tuple[str, ...] = ("1", "1.1", "1.2")
CONTRACT_YAML = Path(__file__).parent / "contract" / "agency_extract.yaml"
KINDS = ("identifier", "quasi_identifier", "attribute")

# Resolvers for the vocabularies named in the YAML. The local level needs the district to
# disambiguate: call `geography.resolve_local_level(text, district_code)` directly.
VOCABULARY_RESOLVERS: dict[str, Callable[[str | None], str | None]] = {
    "sex": vocabularies.resolve_sex,
    "exploitation_type": vocabularies.resolve_exploitation_type,
    "country": vocabularies.resolve_country,
    "service": vocabularies.resolve_service,
    "agency_type": vocabularies.resolve_agency_type,
    "caste_ethnicity": vocabularies.resolve_caste_ethnicity,
    "geography.province": geography.resolve_province,
    "geography.district": geography.resolve_district,
    "record_kind": vocabularies.resolve_record_kind,
    "consent_scope": vocabularies.resolve_consent_scope,
}
# One resolver per answer scale of the reintegration indicators ("reintegration.rating5").
for _scale in reintegration.load_indicator_config().scales:
    VOCABULARY_RESOLVERS[f"reintegration.{_scale}"] = lambda text, scale=_scale: (
        reintegration.resolve_scale_answer(scale, text)
    )


@dataclass(frozen=True)
class ContractColumn:
    """One canonical column of the agency extract."""

    name: str
    description: str
    required: bool
    kind: str
    vocabulary: str | None
    example: str = ""
    type: str = "string"


@dataclass(frozen=True)
class HeaderCheck:
    """Result of matching an export's headers to the contract.

    `renamed` maps every recognised header to its canonical name (identity included, so
    `df.rename(columns=check.renamed)[list(check.renamed.values())]` keeps exactly the
    contract's columns). `missing_required` lists absent required columns; the name rule
    appears as "given_name or family_name or father_name". `unknown` lists headers the
    contract does not know, in file order: the encoder drops them. `duplicated` lists
    canonical names that more than one header maps to (ambiguous: the agency must fix it).
    """

    renamed: dict[str, str]
    missing_required: list[str]
    unknown: list[str]
    duplicated: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing_required and not self.duplicated


@cache
def _contract_document() -> dict[str, Any]:
    with CONTRACT_YAML.open(encoding="utf-8") as f:
        document = yaml.safe_load(f)
    if str(document.get("contract_version")) != CONTRACT_VERSION:
        raise ValueError(
            f"{CONTRACT_YAML} declares contract_version {document.get('contract_version')!r}, "
            f"code expects {CONTRACT_VERSION!r}"
        )
    return document


@cache
def load_contract() -> tuple[ContractColumn, ...]:
    """The canonical columns, in contract order."""
    columns = []
    for entry in _contract_document()["columns"]:
        column = ContractColumn(
            name=entry["name"],
            description=" ".join(str(entry["description"]).split()),
            required=bool(entry["required"]),
            kind=entry["kind"],
            vocabulary=entry.get("vocabulary"),
            example=str(entry.get("example", "")),
            type=entry.get("type", "string"),
        )
        if column.kind not in KINDS:
            raise ValueError(f"contract column {column.name!r} has unknown kind {column.kind!r}")
        columns.append(column)
    return tuple(columns)


def name_fields() -> tuple[str, ...]:
    """Name columns of which at least one must be present."""
    return tuple(_contract_document()["rules"]["at_least_one_of"])


def identifier_columns() -> tuple[str, ...]:
    """Columns that must never leave the agency in clear text."""
    return tuple(c.name for c in load_contract() if c.kind == "identifier")


def _header_key(header: str) -> str:
    """Loose form of a header: case, spaces, hyphens and dots do not matter."""
    return re.sub(r"[\s\-.]+", "_", str(header).strip().lstrip("\ufeff").casefold()).strip("_")


def load_column_mapping(path: Path) -> dict[str, str]:
    """Read a column-mapping YAML `{agency_header: canonical_name}`.

    Raises ValueError (naming the file and the offending entries) when the file is not a
    mapping of text to text or names canonical columns the contract does not have.
    """
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML ({exc})") from exc
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ValueError(f"{path}: expected a mapping 'agency header: canonical column'")
    bad = [k for k, v in document.items() if not isinstance(k, str | int) or not isinstance(v, str)]
    if bad:
        raise ValueError(f"{path}: entries must map a header to a column name: {bad}")
    canonical = {c.name for c in load_contract()}
    unknown = sorted({v for v in document.values() if v not in canonical})
    if unknown:
        raise ValueError(
            f"{path}: unknown canonical column(s) {', '.join(unknown)}; "
            f"known columns: {', '.join(c.name for c in load_contract())}"
        )
    return {str(k): v for k, v in document.items()}


def check_headers(headers: Sequence[str], mapping: dict[str, str] | None = None) -> HeaderCheck:
    """Match an export's headers to canonical columns (mapping first, then the names)."""
    canonical = {c.name for c in load_contract()}
    exact = dict(mapping or {})
    loose = {_header_key(k): v for k, v in exact.items()}
    renamed: dict[str, str] = {}
    unknown: list[str] = []
    for header in headers:
        key = _header_key(header)
        target = exact.get(header) or loose.get(key) or (key if key in canonical else None)
        if target is None:
            unknown.append(header)
        else:
            renamed[header] = target
    seen: dict[str, int] = {}
    for target in renamed.values():
        seen[target] = seen.get(target, 0) + 1
    duplicated = sorted(name for name, count in seen.items() if count > 1)
    present = set(renamed.values())
    missing = [c.name for c in load_contract() if c.required and c.name not in present]
    names = name_fields()
    if not present & set(names):
        missing.append(" or ".join(names))
    return HeaderCheck(renamed, missing, unknown, duplicated)


def followup_columns() -> tuple[str, ...]:
    """The reintegration indicator columns, filled on follow-up rows only."""
    prefix = _contract_document()["rules"]["followup_only_prefix"]
    return tuple(c.name for c in load_contract() if c.name.startswith(prefix))


def record_kind_problems(row: Mapping[str, object]) -> list[str]:
    """What is wrong with a row's record kind and follow-up answers (empty list: fine).

    Rules: `record_kind` is empty (= episode), `episode` or `followup`; an episode row has
    no indicator answers (they would be lost, or mistaken for an intake score); every
    indicator answer on a follow-up row is on its scale. Each message names the column and
    the fix, for the agency's reject file.
    """
    kind = vocabularies.resolve_record_kind(row.get("record_kind"))
    if kind is None:
        return [
            f"record_kind {row.get('record_kind')!r} is not episode or followup: "
            "write episode (or leave it empty) or followup"
        ]
    problems = []
    answered = [
        c for c in followup_columns() if normalise_key(row.get(c)) and not _is_nan(row.get(c))
    ]
    if kind == "episode" and answered:
        problems.append(
            f"follow-up answers ({', '.join(answered)}) on an episode row: "
            "set record_kind to followup or move the answers to the follow-up visit's row"
        )
    for column in answered if kind == "followup" else ():
        try:
            reintegration.canonical_answer(column, row.get(column))  # type: ignore[arg-type]
        except ValueError as exc:
            problems.append(str(exc))
    return problems


def _is_nan(value: object) -> bool:
    return isinstance(value, float) and value != value
