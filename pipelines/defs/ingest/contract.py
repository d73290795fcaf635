"""What the warehouse accepts from agencies: batch columns, versions, manifest fields.

The column types come from the encoder's Arrow schema (`linkage.encoding.schema`, the
executable form of docs/interfaces.md section 2), relaxed in two ways so that problems in
single rows reach row validation (and quarantine) instead of rejecting a whole batch: every
column is nullable here, and Bloom filters are variable-length binary (their 128-byte length
is an expectation).
"""

from __future__ import annotations

import pyarrow as pa

from linkage.encoding.crypto import ENCODING_VERSIONS
from linkage.encoding.schema import BATCH_COLUMNS, BATCH_SCHEMA
from schemas.contract import COMPATIBLE_CONTRACT_VERSIONS

# Versions this warehouse knows how to read; a batch with any other is rejected whole.
SUPPORTED_CONTRACT_VERSIONS: frozenset[str] = frozenset(COMPATIBLE_CONTRACT_VERSIONS)
SUPPORTED_ENCODING_VERSIONS: frozenset[str] = frozenset(ENCODING_VERSIONS)

MANIFEST_FIELDS: dict[str, type | tuple[type, ...]] = {
    "batch_id": str,
    "contract_version": str,
    "encoding_version": str,
    "source_type": str,
    "agency_id": str,
    "key_id": str,
    "row_count": int,
    "rejected_count": int,
    "data_file": str,
    "sha256": str,
    "created_at": str,
}

FILTER_BYTES = 128


def _relaxed(field: pa.Field) -> pa.Field:
    kind = pa.binary() if pa.types.is_fixed_size_binary(field.type) else field.type
    return pa.field(field.name, kind, nullable=True)


STAGING_SCHEMA: pa.Schema = pa.schema([_relaxed(field) for field in BATCH_SCHEMA])
FILTER_COLUMNS: tuple[str, ...] = tuple(
    c.name for c in BATCH_COLUMNS if pa.types.is_fixed_size_binary(c.type)
)
# Follow-up answers arrived with contract 1.1, the order-free name key and the ID edit
# tokens later; a batch from an older tool has none, and loads with them null rather than
# being rejected for columns it could not have (it then links as it did before them).
OPTIONAL_COLUMNS: frozenset[str] = frozenset(c.name for c in BATCH_COLUMNS if c.optional)
