-- Migration 0002: agency signing keys are bound to the source types they may send.
-- Warehouses created before keys were bound to source types: the column is added empty
-- (NULL), and batches under such a registration are refused until it is registered again
-- with `--source-type` (the ingest's reason says so). IF NOT EXISTS: the baseline of a
-- warehouse created after the change already has the column.
ALTER TABLE ops.agency_keys ADD COLUMN IF NOT EXISTS source_types VARCHAR[];
