"""The pseudonymised batch (docs/interfaces.md section 2): the one definition of its columns.

`BATCH_COLUMNS` below is the single place a batch column is written down, with its Arrow
type, nullability, what added it and its meaning. Everything else is derived from it: the
encoder's Arrow schema (`BATCH_SCHEMA`), the warehouse's staging tables
(`pipelines.defs.ingest.staging_schema`), the linkage store's `linkage.records`
(`linkage.matching.store`), the columns an older batch may lack, and the table in
docs/interfaces.md (`python -m pipelines.interface_doc`). A drift test
(tests/schemas/test_batch_schema_drift.py) fails when a copy appears elsewhere or the
warehouse disagrees.

This module is on the agency tool's import path: pyarrow only, never duckdb or dagster. The
few SQL helpers here build text from these constant definitions (identifiers only, checked
below; values are never formatted into SQL).

Contract 1.1 (`schemas.contract`): a row is a contact episode or a reintegration follow-up
visit (`record_kind`), and a follow-up row carries one canonical answer per indicator of
`schemas/reintegration/indicators-v1.yaml` in an `ri_<indicator>` column (text; null on
episodes).

Encoding `pahichan-enc-2` changed the birth columns only (keyed windows and day token
instead of exact year/date tokens and year-ordered lists); names, identifiers and places
are encoded as in `pahichan-enc-1`, so those tokens and filters still compare across both.

Encoding `pahichan-enc-3` (issue 18) adds `name_edit_tokens` only (a later, optional column);
every enc-2 column is encoded as before.

Contract 1.2 adds `consent_scope` (a later, optional column): `services_only` rows are
withheld by the encoder, the others carry `linkage_and_statistics` or `statistics_only`.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass

import pyarrow as pa

from linkage.encoding.crypto import ENCODING_VERSION
from schemas.contract import CONTRACT_VERSION, followup_columns, load_contract

RECORD_KIND = "episode"  # the default when an export has no record_kind column
RECORD_KINDS: tuple[str, ...] = ("episode", "followup")

# The agency extract's canonical columns, in contract order (schemas/contract/*.yaml).
INPUT_COLUMNS: tuple[str, ...] = tuple(column.name for column in load_contract())
NAME_COLUMNS: tuple[str, ...] = ("given_name", "family_name", "father_name")
# One column per reintegration indicator, in the order of the indicator config.
FOLLOWUP_COLUMNS: tuple[str, ...] = followup_columns()

# Values of `BatchColumn.added_in`: what made a column appear after the first agency tools
# shipped. A batch from an older tool lacks such a column; the warehouse loads it with the
# column null (older warehouses gain it by ADD COLUMN), and it links as it did before.
LATER_TOOLS = "later encoder"
CONTRACT_1_1 = "contract 1.1"
CONTRACT_1_2 = "contract 1.2"
ENC_2 = "pahichan-enc-2"
ENC_3 = "pahichan-enc-3"

_IDENTIFIER = re.compile(r"\A[a-z][a-z0-9_]*\Z")


@dataclass(frozen=True)
class BatchColumn:
    """One column of the pseudonymised batch.

    `nullable` is the encoder's promise (the Arrow field); the warehouse is laxer so a bad
    row reaches row validation instead of failing the whole batch: `staging_required` marks
    the few columns its staging tables declare NOT NULL. `in_linkage_store` is false for
    columns the linkage store does not keep (follow-up answers are never linked on).
    `doc_format` refines the type in the interface doc ("16 hex"); `doc_label` replaces the
    column name there (one row for a family of columns).
    """

    name: str
    type: pa.DataType
    description: str
    nullable: bool = True
    added_in: str | None = None
    staging_required: bool = False
    in_linkage_store: bool = True
    doc_format: str = ""
    doc_label: str | None = None

    @property
    def optional(self) -> bool:
        """True when a batch may lack the column (it was added after the first tools)."""
        return self.added_in is not None

    @property
    def duckdb_type(self) -> str:
        return duckdb_type(self.type)

    @property
    def field(self) -> pa.Field:
        return pa.field(self.name, self.type, nullable=self.nullable)


_STRING = pa.string()
_TOKENS = pa.list_(pa.string())
_FILTER = pa.binary(128)
_BLOOM = "hardened 1024-bit Bloom filters; DuckDB: `CAST(col AS BIT)` then `bit_count`"
_NAME_KEY = "HMAC of the phonetic name key (blocking)"
_REFERRAL = "agency type: `shelter`, `ocmc`, `migration`, `police`, `other`"
_IDENTIFIER_TOKEN = "HMAC of the normalised identifier"
_EDIT_TOKENS = (
    "HMACs (own sub-key) of the normalised number and of each string left by deleting one "
    "of its characters: two numbers one keystroke apart share one. Empty when there is no "
    "number or it is shorter than 6 characters. Optional: batches from older tools lack "
    "them and compare by exact token only"
)

BATCH_COLUMNS: tuple[BatchColumn, ...] = (
    BatchColumn(
        "record_token",
        _STRING,
        "HMAC(agency_id + record_id), truncated to 128 bits",
        nullable=False,
        staging_required=True,
        doc_format="32 hex",
    ),
    BatchColumn("record_kind", _STRING, "`episode` or `followup`", nullable=False),
    BatchColumn(
        "source_row",
        pa.int32(),
        "1-based data row number in the export (agency can find the row)",
        nullable=False,
        staging_required=True,
    ),
    BatchColumn("given_name_bf", _FILTER, _BLOOM),
    BatchColumn("family_name_bf", _FILTER, _BLOOM),
    BatchColumn("father_name_bf", _FILTER, _BLOOM),
    BatchColumn("full_name_bf", _FILTER, _BLOOM),
    BatchColumn("given_name_key", _STRING, _NAME_KEY, doc_format="16 hex"),
    BatchColumn("family_name_key", _STRING, _NAME_KEY, doc_format="16 hex"),
    BatchColumn("full_name_key", _STRING, _NAME_KEY, doc_format="16 hex"),
    # Both name keys, order-free: equal when given and family name were swapped.
    BatchColumn(
        "name_set_key",
        _STRING,
        "HMAC of the given and family name keys in sorted order: equal when the two "
        "names were swapped. Optional (older tools lack it)",
        added_in=LATER_TOOLS,
        doc_format="16 hex",
    ),
    # pahichan-enc-3 (issue 18): a batch without it links by exact and phonetic names as
    # before.
    BatchColumn(
        "name_edit_tokens",
        _TOKENS,
        "enc-3: HMACs (own sub-key) of the full name with one field's one-letter "
        "deletion variants (given name variant + family name, given name + family "
        "name variant), sorted: two records share one when one name is equal and the "
        "other one letter apart. enc-4 adds the full name with one field's consonant "
        "skeleton variants (skeleton and its one-consonant deletions, the other field "
        "exact): one name equal and the other one akshara apart. Empty unless both "
        "names are present. Absent in enc-1/enc-2 batches (threat model: attack test, "
        "name edit tokens)",
        nullable=False,
        added_in=ENC_3,
    ),
    BatchColumn(
        "birth_year_token",
        _STRING,
        "enc-1 only: HMAC of year of birth (exact or from age at contact). Always null in enc-2",
        doc_format="16 hex",
    ),
    BatchColumn(
        "birth_year_pm1_tokens",
        _TOKENS,
        "enc-1 only: tokens of yob-1..yob+1 (empty when unknown). Always empty in enc-2",
        nullable=False,
    ),
    BatchColumn(
        "birth_year_pm2_tokens",
        _TOKENS,
        "enc-1 only: tokens of yob-2..yob+2 (empty when unknown). Always empty in enc-2",
        nullable=False,
    ),
    BatchColumn(
        "birth_date_token",
        _STRING,
        "enc-1 only: HMAC of the ISO birth date, only when precise to the day. Always "
        "null in enc-2",
    ),
    # pahichan-enc-2 (the four birth columns above are then null / empty): the keyed
    # window of the birth year on each grid, and the keyed day and month of birth.
    BatchColumn(
        "birth_window_tokens",
        _TOKENS,
        "enc-2: the year of birth as keyed windows, one token per grid (2 grids of "
        "16-year windows, 8 years apart, keyed shift): two records share both when "
        "their years fall in one 8-year cell, one when they are less than 16 years "
        "apart. Empty when unknown. Absent in enc-1 batches (threat model, attack 12)",
        nullable=False,
        added_in=ENC_2,
    ),
    BatchColumn(
        "birth_day_token",
        _STRING,
        "enc-2: HMAC of month and day of birth (`MM-DD`, no year), only when precise "
        "to the day. Absent in enc-1 batches",
        added_in=ENC_2,
        doc_format="16 hex",
    ),
    BatchColumn("sex_token", _STRING, "HMAC tokens for blocking"),
    BatchColumn("district_token", _STRING, "HMAC tokens for blocking"),
    # Local level and ward together (a ward number alone names nothing).
    BatchColumn(
        "ward_token",
        _STRING,
        "HMAC of `<local_level_code>/<ward number>`: a ward is compared only within "
        "its local level, and its number never crosses in clear. Null without a ward "
        "or a local level. Optional (older tools lack it; their records compare by "
        "local level)",
        added_in=LATER_TOOLS,
        doc_format="16 hex",
    ),
    BatchColumn("citizenship_token", _STRING, _IDENTIFIER_TOKEN),
    BatchColumn("passport_token", _STRING, _IDENTIFIER_TOKEN),
    # Tokens of the one-deletion variants of the ID number (empty when there is none).
    BatchColumn(
        "citizenship_edit_tokens", _TOKENS, _EDIT_TOKENS, nullable=False, added_in=LATER_TOOLS
    ),
    BatchColumn(
        "passport_edit_tokens", _TOKENS, _EDIT_TOKENS, nullable=False, added_in=LATER_TOOLS
    ),
    BatchColumn("phone_token", _STRING, _IDENTIFIER_TOKEN),
    BatchColumn("sex", _STRING, "F / M / O"),
    BatchColumn(
        "age_band",
        _STRING,
        "age at contact date: `0-11`, `12-17`, `18-24`, `25-34`, `35-49`, `50+`",
    ),
    BatchColumn("birth_precision", _STRING, "`day`, `year`, `age`, `unknown`", nullable=False),
    BatchColumn("province_code", _STRING, "`1`..`7`"),
    BatchColumn("district_code", _STRING, "3-digit reference code"),
    BatchColumn("local_level_code", _STRING, "5-digit reference code"),
    BatchColumn(
        "caste_ethnicity", _STRING, "coarse group (vocabulary in `schemas/vocabularies.py`)"
    ),
    BatchColumn(
        "contact_date",
        pa.date32(),
        "date of the contact episode (of the visit on a follow-up row)",
        nullable=False,
        staging_required=True,
    ),
    BatchColumn("exploitation_type", _STRING, "HTCDS code (`schemas/vocabularies.py`)"),
    BatchColumn("destination_country", _STRING, "ISO 3166-1 alpha-2, `NP` for internal"),
    BatchColumn("services", _TOKENS, "service codes", nullable=False),
    BatchColumn("referred_from", _STRING, _REFERRAL),
    BatchColumn("referred_to", _STRING, _REFERRAL),
    *(
        BatchColumn(
            name,
            _STRING,
            "canonical answer on a follow-up row (`record_kind = followup`; `contact_date` is "
            "the visit date); null on episodes",
            added_in=CONTRACT_1_1,
            in_linkage_store=False,
            doc_label="`ri_<indicator>` (one per indicator of "
            "`schemas/reintegration/indicators-v1.yaml`)",
        )
        for name in FOLLOWUP_COLUMNS
    ),
    # Contract 1.2: linkage_and_statistics or statistics_only, in clear (a coarse,
    # non-identifying attribute the warehouse must act on); services_only rows are
    # withheld by the encoder and never appear here.
    BatchColumn(
        "consent_scope",
        _STRING,
        "contract 1.2: `linkage_and_statistics` or `statistics_only` (never "
        "`services_only`: those rows are withheld at the agency). Optional: older "
        "batches lack it, and null is `linkage_and_statistics`. `statistics_only` "
        "records are counted but never linked, exported to CTDC or written to the "
        "analyst file",
        added_in=CONTRACT_1_2,
    ),
)

BATCH_COLUMN_NAMES: tuple[str, ...] = tuple(column.name for column in BATCH_COLUMNS)
BATCH_COLUMN_BY_NAME: dict[str, BatchColumn] = {column.name: column for column in BATCH_COLUMNS}
# Encoded columns a batch from an older tool may lack (follow-up answers aside).
LATER_COLUMNS: tuple[str, ...] = tuple(
    c.name for c in BATCH_COLUMNS if c.optional and c.name not in FOLLOWUP_COLUMNS
)
# Birth columns of pahichan-enc-2: a pahichan-enc-1 batch lacks them and keeps its exact
# year/date tokens and +-1/+-2 lists, which the model compares among enc-1 records only.
BIRTH_WINDOW_COLUMNS: tuple[str, ...] = tuple(c.name for c in BATCH_COLUMNS if c.added_in == ENC_2)
# pahichan-enc-3 (issue 18): the name edit tokens.
NAME_EDIT_COLUMNS: tuple[str, ...] = tuple(c.name for c in BATCH_COLUMNS if c.added_in == ENC_3)

BATCH_SCHEMA = pa.schema(
    [column.field for column in BATCH_COLUMNS],
    metadata={"encoding_version": ENCODING_VERSION, "contract_version": CONTRACT_VERSION},
)

for _column in BATCH_COLUMNS:
    # Column names are formatted into DDL as identifiers: only plain snake_case is allowed.
    if not _IDENTIFIER.match(_column.name):
        raise ValueError(f"batch column name {_column.name!r} is not a plain identifier")
if len(BATCH_COLUMN_BY_NAME) != len(BATCH_COLUMNS):
    raise ValueError("a batch column is defined twice")


# --- SQL text built from the definition (warehouse side calls these; no duckdb here) -------

_DUCKDB_TYPES: dict[pa.DataType, str] = {
    pa.string(): "VARCHAR",
    pa.int32(): "INTEGER",
    pa.date32(): "DATE",
    pa.binary(): "BLOB",
    _TOKENS: "VARCHAR[]",
}


def duckdb_type(kind: pa.DataType) -> str:
    """The DuckDB column type holding an Arrow type of the batch (fixed binary is a BLOB)."""
    if pa.types.is_fixed_size_binary(kind):
        return "BLOB"
    try:
        return _DUCKDB_TYPES[kind]
    except KeyError:
        raise ValueError(f"no DuckDB type for batch Arrow type {kind}") from None


def column_definitions_sql(
    columns: Iterable[BatchColumn], *, not_null: Collection[str] = (), width: int = 0
) -> list[str]:
    """`name TYPE [NOT NULL]` lines of a CREATE TABLE, names padded to `width` characters."""
    return [
        f"    {c.name.ljust(width)} {c.duckdb_type}{' NOT NULL' if c.name in not_null else ''}"
        for c in columns
    ]


def add_column_statements(
    table: str, columns: Iterable[BatchColumn], present: Collection[str]
) -> list[str]:
    """ALTER TABLE statements adding the optional `columns` that `table` lacks.

    `present` is the table's current column names (from `information_schema.columns`):
    nothing is re-run on an up-to-date table. A missing column that is not optional is not
    added here: that would be a table this code did not create, and is left to fail loudly.
    """
    return [
        f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {c.name} {c.duckdb_type}"
        for c in columns
        if c.optional and c.name not in present
    ]
