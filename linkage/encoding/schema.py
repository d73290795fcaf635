"""The Arrow schema of a pseudonymised batch (docs/interfaces.md section 2) and its columns.

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

import pyarrow as pa

from linkage.encoding.crypto import ENCODING_VERSION
from schemas.contract import CONTRACT_VERSION as _EXTRACT_CONTRACT_VERSION
from schemas.contract import followup_columns

# The manifest always declares the contract the encoder implements; a version-1 or 1.1
# export is a valid 1.2 export (schemas.contract.COMPATIBLE_CONTRACT_VERSIONS).
CONTRACT_VERSION = _EXTRACT_CONTRACT_VERSION
RECORD_KIND = "episode"  # the default when an export has no record_kind column
RECORD_KINDS: tuple[str, ...] = ("episode", "followup")

# One column per reintegration indicator, in the order of the indicator config.
FOLLOWUP_COLUMNS: tuple[str, ...] = followup_columns()

INPUT_COLUMNS: tuple[str, ...] = (
    "record_id", "given_name", "family_name", "father_name", "sex", "date_of_birth", "age",
    "citizenship_no", "passport_no", "phone", "district", "province", "local_level", "ward",
    "caste_ethnicity", "contact_date", "exploitation_type", "destination_country", "services",
    "referred_from", "referred_to", "record_kind", *FOLLOWUP_COLUMNS,
    "consent_scope",
)  # fmt: skip
NAME_COLUMNS: tuple[str, ...] = ("given_name", "family_name", "father_name")
# Encoded columns added after the first agency tools shipped: a batch from an older tool
# lacks them, the warehouse loads it with them null, and it links as it did before.
LATER_COLUMNS: tuple[str, ...] = (
    "name_set_key", "ward_token", "citizenship_edit_tokens", "passport_edit_tokens",
    # Contract 1.2: a batch without it (or a null) is linkage_and_statistics, as before.
    "consent_scope",
)  # fmt: skip

# Birth columns of pahichan-enc-2: a pahichan-enc-1 batch lacks them and keeps its exact
# year/date tokens and +-1/+-2 lists, which the model compares among enc-1 records only.
BIRTH_WINDOW_COLUMNS: tuple[str, ...] = ("birth_window_tokens", "birth_day_token")
LATER_COLUMNS = (*LATER_COLUMNS, *BIRTH_WINDOW_COLUMNS)
# pahichan-enc-3 (issue 18): a batch without it links by exact and phonetic names as before.
NAME_EDIT_COLUMNS: tuple[str, ...] = ("name_edit_tokens",)
LATER_COLUMNS = (*LATER_COLUMNS, *NAME_EDIT_COLUMNS)

_TOKEN = pa.string()
BATCH_SCHEMA = pa.schema(
    [
        pa.field("record_token", pa.string(), nullable=False),
        pa.field("record_kind", pa.string(), nullable=False),
        pa.field("source_row", pa.int32(), nullable=False),
        pa.field("given_name_bf", pa.binary(128)),
        pa.field("family_name_bf", pa.binary(128)),
        pa.field("father_name_bf", pa.binary(128)),
        pa.field("full_name_bf", pa.binary(128)),
        pa.field("given_name_key", _TOKEN),
        pa.field("family_name_key", _TOKEN),
        pa.field("full_name_key", _TOKEN),
        # Both name keys, order-free: equal when given and family name were swapped.
        pa.field("name_set_key", _TOKEN),
        # pahichan-enc-3: keyed tokens of the full name with one field's one-letter deletion
        # variants, sorted (empty unless both given and family name are present).
        pa.field("name_edit_tokens", pa.list_(pa.string()), nullable=False),
        pa.field("birth_year_token", _TOKEN),
        pa.field("birth_year_pm1_tokens", pa.list_(pa.string()), nullable=False),
        pa.field("birth_year_pm2_tokens", pa.list_(pa.string()), nullable=False),
        pa.field("birth_date_token", _TOKEN),
        # pahichan-enc-2 (the four birth columns above are then null / empty): the keyed
        # window of the birth year on each grid, and the keyed day and month of birth.
        pa.field("birth_window_tokens", pa.list_(pa.string()), nullable=False),
        pa.field("birth_day_token", _TOKEN),
        pa.field("sex_token", _TOKEN),
        pa.field("district_token", _TOKEN),
        # Local level and ward together (a ward number alone names nothing).
        pa.field("ward_token", _TOKEN),
        pa.field("citizenship_token", _TOKEN),
        pa.field("passport_token", _TOKEN),
        # Tokens of the one-deletion variants of the ID number (empty when there is none).
        pa.field("citizenship_edit_tokens", pa.list_(pa.string()), nullable=False),
        pa.field("passport_edit_tokens", pa.list_(pa.string()), nullable=False),
        pa.field("phone_token", _TOKEN),
        pa.field("sex", pa.string()),
        pa.field("age_band", pa.string()),
        pa.field("birth_precision", pa.string(), nullable=False),
        pa.field("province_code", pa.string()),
        pa.field("district_code", pa.string()),
        pa.field("local_level_code", pa.string()),
        pa.field("caste_ethnicity", pa.string()),
        pa.field("contact_date", pa.date32(), nullable=False),
        pa.field("exploitation_type", pa.string()),
        pa.field("destination_country", pa.string()),
        pa.field("services", pa.list_(pa.string()), nullable=False),
        pa.field("referred_from", pa.string()),
        pa.field("referred_to", pa.string()),
        *(pa.field(name, pa.string()) for name in FOLLOWUP_COLUMNS),
        # Contract 1.2: linkage_and_statistics or statistics_only, in clear (a coarse,
        # non-identifying attribute the warehouse must act on); services_only rows are
        # withheld by the encoder and never appear here.
        pa.field("consent_scope", pa.string()),
    ],
    metadata={"encoding_version": ENCODING_VERSION, "contract_version": CONTRACT_VERSION},
)
