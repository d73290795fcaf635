-- Operations tables: batch health, rejections, quarantine, the pinned key id, runs.
-- Schema `ops` lives in the restricted warehouse and is for data officers only: quarantine
-- rows carry the record_token so the sending agency can find the row via its crosswalk.
-- Every statement is idempotent (IF NOT EXISTS): applied on every connection that writes.

CREATE SCHEMA IF NOT EXISTS ops;

-- One row per batch receipt: a distinct data file (inbox path + content hash) seen in the
-- inbox. `status` is `accepted` or `rejected`; `reason` says why a batch was rejected.
-- At most one accepted receipt per batch_id and per sha256 (the duplicate check).
CREATE TABLE IF NOT EXISTS ops.batches (
    batch_id        VARCHAR NOT NULL,
    inbox_path      VARCHAR NOT NULL,   -- data file, relative to the inbox root
    sha256          VARCHAR NOT NULL,   -- of the data file bytes as received
    source_type     VARCHAR,
    agency_id       VARCHAR,
    key_id          VARCHAR,
    contract_version VARCHAR,
    encoding_version VARCHAR,
    row_count       INTEGER,            -- rows actually in the data file
    manifest_row_count INTEGER,         -- rows the manifest announced
    rows_loaded     INTEGER,
    rows_quarantined INTEGER,
    status          VARCHAR NOT NULL,   -- accepted | rejected
    reason          VARCHAR,
    received_at     TIMESTAMPTZ NOT NULL,
    loaded_at       TIMESTAMPTZ,
    linked_at       TIMESTAMPTZ,        -- when the linkage stage took the batch's rows
    run_id          VARCHAR,
    PRIMARY KEY (inbox_path, sha256)
);

-- One row per rejected batch receipt, with every failed batch-level check.
CREATE TABLE IF NOT EXISTS ops.rejected_batches (
    batch_id        VARCHAR NOT NULL,
    inbox_path      VARCHAR NOT NULL,
    sha256          VARCHAR NOT NULL,
    source_type     VARCHAR,
    agency_id       VARCHAR,
    failed_checks   VARCHAR[] NOT NULL,
    reason          VARCHAR NOT NULL,
    rejected_at     TIMESTAMPTZ NOT NULL,
    run_id          VARCHAR,
    PRIMARY KEY (inbox_path, sha256)
);

-- One row per (quarantined row, failed expectation) of an accepted batch. A row failing
-- two rules has two rows here; it is counted once in ops.batches.rows_quarantined.
CREATE TABLE IF NOT EXISTS ops.quarantine (
    batch_id        VARCHAR NOT NULL,
    source_type     VARCHAR NOT NULL,
    agency_id       VARCHAR NOT NULL,
    row_number      INTEGER NOT NULL,   -- 1-based position of the row in the batch file
    source_row      INTEGER,            -- 1-based data row of the agency's export
    record_token    VARCHAR,            -- lets the agency find the row via its crosswalk
    "column"        VARCHAR,
    rule            VARCHAR NOT NULL,   -- expectation rule name from schemas/expectations
    expectation     VARCHAR NOT NULL,   -- Great Expectations expectation type
    reason          VARCHAR NOT NULL,   -- what is wrong and what to do, for a data officer
    quarantined_at  TIMESTAMPTZ NOT NULL
);

-- One row: the domain's linkage key id (public fingerprint) and how it was pinned.
CREATE TABLE IF NOT EXISTS ops.domain (
    key_id          VARCHAR NOT NULL,
    pinned_by       VARCHAR NOT NULL,   -- PAHICHAN_KEY_ID | first accepted batch <batch_id>
    pinned_at       TIMESTAMPTZ NOT NULL
);

-- One row per agency signing key ever registered (`pahichan agency-key register`). Every
-- batch and withdrawal manifest must be signed by the key of its agency whose retired_at
-- is NULL; registering a new key retires the previous one. Public keys only: the private
-- halves stay at the agencies. Never deleted, so old receipts stay explainable.
CREATE TABLE IF NOT EXISTS ops.agency_keys (
    agency_id       VARCHAR NOT NULL,
    signing_key_id  VARCHAR NOT NULL,   -- sk1- + 16 hex of SHA-256 of the public key
    public_key      BLOB NOT NULL,      -- raw 32-byte Ed25519 public key
    registered_by   VARCHAR NOT NULL,
    registered_at   TIMESTAMPTZ NOT NULL,
    retired_at      TIMESTAMPTZ,
    source_types    VARCHAR[],          -- the source types the agency may send with it
    PRIMARY KEY (agency_id, signing_key_id)
);
-- Warehouses created before keys were bound to source types: the column is added empty
-- (NULL), and batches under such a registration are refused until it is registered again
-- with `--source-type` (the ingest's reason says so).
ALTER TABLE ops.agency_keys ADD COLUMN IF NOT EXISTS source_types VARCHAR[];

-- One row per `pahichan run` (or other run that reports itself): what it did.
CREATE TABLE IF NOT EXISTS ops.runs (
    run_id              VARCHAR PRIMARY KEY,
    mode                VARCHAR NOT NULL,   -- cli | dagster
    started_at          TIMESTAMPTZ NOT NULL,
    finished_at         TIMESTAMPTZ,
    status              VARCHAR NOT NULL,   -- running | succeeded | failed
    batches_accepted    INTEGER,
    batches_rejected    INTEGER,
    rows_loaded         INTEGER,
    rows_quarantined    INTEGER,
    note                VARCHAR
);
