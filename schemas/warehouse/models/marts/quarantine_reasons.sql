-- Grain: one row per source_type x validation rule (rows failing it).
-- From the temp view `quarantined_rows` (ops.quarantine; empty when it does not exist). A
-- row failing a rule twice is counted once.
INSERT INTO marts.quarantine_reasons BY NAME
SELECT source_type, rule, count(DISTINCT (batch_id, source_row)) AS value
FROM quarantined_rows
GROUP BY ALL;
