-- Migration 0001, baseline: the operations and audit tables as they were when schema
-- versions began (2026-12-06). Schema `ops` lives in the restricted warehouse and is for
-- data officers only: quarantine rows carry the record_token so the sending agency can find
-- the row via its crosswalk; the audit log and withdrawals carry no identities.
-- IF NOT EXISTS throughout: a warehouse made before versions began already has some of
-- these tables, and this migration must leave them (and their rows) as they are.
-- Later changes are later migrations; never edit an applied migration.

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

-- Append-only audit log. Grain: one row per audited event (run, publication, withdrawal,
-- review decision, key-id pinning). Rows are only ever INSERTed, by pipelines.audit.append_event;
-- each row stores the SHA-256 of the previous row's hash and its own content (a hash chain),
-- so an edited, deleted or re-ordered row is detected by pipelines.audit.verify_chain.
-- `detail` is JSON WITHOUT identities: counts, batch ids, run ids, categories; never a
-- record_token, a token, a filter or a clear value.
CREATE TABLE IF NOT EXISTS ops.audit_log (
    event_id        BIGINT PRIMARY KEY,     -- 1, 2, 3, ... in order of appending
    event_at        TIMESTAMPTZ NOT NULL,   -- UTC
    actor           VARCHAR NOT NULL,       -- data officer name, or `pipeline`
    action          VARCHAR NOT NULL,       -- run | publication | withdrawal | review_decision | key_id_pinned
    object          VARCHAR NOT NULL,       -- what was acted on (run id, batch id, withdrawal reference)
    detail          VARCHAR NOT NULL,       -- canonical JSON object, no identities
    previous_hash   VARCHAR NOT NULL,       -- row_hash of event_id - 1 ('0' * 64 for the first)
    row_hash        VARCHAR NOT NULL        -- sha256(previous_hash | content), hex
);

-- One row per withdrawal batch receipt (consent withdrawn at an agency). Counts only: the
-- tokens of the batch are erased with the records and never stored here.
CREATE TABLE IF NOT EXISTS ops.withdrawals (
    batch_id        VARCHAR NOT NULL,
    inbox_path      VARCHAR NOT NULL,       -- data file, relative to the inbox root
    sha256          VARCHAR NOT NULL,       -- of the data file bytes as received
    source_type     VARCHAR,
    agency_id       VARCHAR,
    status          VARCHAR NOT NULL,       -- applied | rejected
    tokens_received INTEGER,                -- rows in the withdrawal file
    records_erased  INTEGER,                -- tokens found in the warehouse and erased
    tokens_not_found INTEGER,               -- tokens the warehouse never had (or had erased)
    reason          VARCHAR,                -- why a withdrawal batch was rejected
    received_at     TIMESTAMPTZ NOT NULL,
    applied_at      TIMESTAMPTZ,
    run_id          VARCHAR,
    PRIMARY KEY (inbox_path, sha256)
);

-- One row per publication of the reader files (pipelines.defs.publish.build).
CREATE TABLE IF NOT EXISTS ops.publications (
    run_id          VARCHAR,
    published_at    TIMESTAMPTZ,
    threshold       INTEGER,                -- suppression threshold k of the publication
    public_path     VARCHAR,
    analyst_path    VARCHAR,
    suppressed_cells INTEGER
);

-- One row per analyst file release: the k-anonymisation figures (counts, no identities).
CREATE TABLE IF NOT EXISTS ops.analyst_anonymity (
    run_id                          VARCHAR,
    published_at                    TIMESTAMPTZ,
    k                               INTEGER,
    levels                          JSON,
    survivors                       INTEGER,
    survivors_published             INTEGER,
    survivors_episodes_suppressed   INTEGER,
    survivors_all_suppressed        INTEGER,
    survivors_left_out              INTEGER,
    qi_values                       BIGINT,
    qi_values_suppressed            BIGINT,
    smallest_class                  INTEGER,
    seconds                         DOUBLE
);

-- Per cell of the latest publication: its true value, whether it was hidden and the value
-- last shown (pipelines.disclosure.history), so the next publication cannot be differenced
-- against earlier ones.
CREATE TABLE IF NOT EXISTS ops.published_cells (
    table_name            VARCHAR NOT NULL,
    cell_key              VARCHAR NOT NULL,   -- the table's key columns joined by '|'
    value                 BIGINT NOT NULL,    -- true count at the latest publication
    is_hidden             BOOLEAN NOT NULL,
    last_shown_value      BIGINT,             -- value last shown by any publication
    run_id                VARCHAR,
    PRIMARY KEY (table_name, cell_key)
);
