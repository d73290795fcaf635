-- Audit log and consent withdrawals (restricted store, schema `ops`, data officers only).
-- Idempotent DDL, applied on every connection that writes (with ops.sql).

CREATE SCHEMA IF NOT EXISTS ops;

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
