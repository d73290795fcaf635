-- Grain: one row per agency_id seen in staging.
-- Agencies that have sent accepted records; records_count counts their current records
-- (core.survivor_records, built before this model).
INSERT INTO core.agencies BY NAME
SELECT
    s.agency_id,
    min(s.source_type) AS agency_type,
    count(DISTINCT s.record_token) FILTER (WHERE r.record_token IS NOT NULL) AS records_count,
    count(DISTINCT s.batch_id) AS batches_count,
    min(s.loaded_at) AS first_loaded_at,
    max(s.loaded_at) AS last_loaded_at
FROM staged AS s
LEFT JOIN core.survivor_records AS r
    ON r.record_token = s.record_token AND r.batch_id = s.batch_id
GROUP BY s.agency_id;
