"""Migration 0005: staging gains `name_edit_tokens` (encoding pahichan-enc-3, issue 18).

Same step as 0003: `apply_staging_schema` adds the optional batch columns a warehouse's
staging tables lack; existing rows keep a null there (their batches had no name edit tokens
and link by exact and phonetic names, as before).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the agency tool imports schemas/ and must not need duckdb
    import duckdb

# sha256 of the staging columns this migration brings a warehouse to (name, type per table);
# see `pipelines.migrations.staging_fingerprint`.
STAGING_FINGERPRINT = "93921db5ef8d553f9e08e6cc19b361723220cc90161fb8ecb60d7a3a9f0077de"


def upgrade(con: duckdb.DuckDBPyConnection) -> None:
    from pipelines.defs.ingest.warehouse import apply_staging_schema

    apply_staging_schema(con)
