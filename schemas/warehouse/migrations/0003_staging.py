"""Migration 0003: the staging tables with every batch column of the current contract.

Staging's columns follow the batch contract (one definition; see
`pipelines.defs.ingest.warehouse.apply_staging_schema`), so this step is Python: it creates
missing staging tables and adds missing columns (contract 1.1 follow-up answers, contract
1.2 consent_scope, encoding pahichan-enc-2 birth windows, ...) without touching rows. A
later change to the staging columns is a new migration `NNNN_staging_<what>.py` calling the
same function (tests/pipelines/test_migrations.py fails until one records the new columns).
"""

from __future__ import annotations

import duckdb

# sha256 of the staging columns this migration brings a warehouse to (name, type per table);
# see `pipelines.migrations.staging_fingerprint`.
STAGING_FINGERPRINT = "7d0ac03e343bbcf79be3c88e723aa31ecd166e4878e302ccd193c907e0e46449"


def upgrade(con: duckdb.DuckDBPyConnection) -> None:
    from pipelines.defs.ingest.warehouse import apply_staging_schema

    apply_staging_schema(con)
