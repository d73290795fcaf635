-- Grain: one row per id change event.
-- Copy of linkage.id_changes (temp view `id_changes`, empty before the first linkage run).
INSERT INTO core.id_change_log BY NAME
SELECT event_id, event_at, event, survivor_id, other_survivor_id, record_count, run_id
FROM id_changes
ORDER BY event_id;
