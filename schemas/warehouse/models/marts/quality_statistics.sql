-- Grain: one row per month (of receipt) x source_type x metric.
-- Batch health from the temp view `batch_receipts` (ops.batches) and linkage decisions from
-- `scored_pairs` (linkage.pairs); each is empty when its table does not exist yet.
INSERT INTO marts.quality_statistics BY NAME
WITH received AS (
    SELECT strftime(received_at, '%Y-%m') AS period,
        date_trunc('month', received_at)::DATE AS period_start, source_type, status,
        coalesce(row_count, 0) AS row_count, coalesce(rows_loaded, 0) AS rows_loaded,
        coalesce(rows_quarantined, 0) AS rows_quarantined
    FROM batch_receipts WHERE source_type IS NOT NULL
),
monthly AS (
    SELECT period, period_start, source_type,
        count(*) AS batches_received,
        count(*) FILTER (WHERE status = 'accepted') AS batches_accepted,
        count(*) FILTER (WHERE status = 'rejected') AS batches_rejected,
        sum(row_count) AS rows_received,
        sum(rows_loaded) FILTER (WHERE status = 'accepted') AS rows_loaded,
        sum(rows_quarantined) FILTER (WHERE status = 'accepted') AS rows_quarantined
    FROM received GROUP BY ALL
)
SELECT 'month' AS period_type, period, period_start, source_type, metric,
    coalesce(value, 0) AS value
FROM monthly UNPIVOT (value FOR metric IN (batches_received, batches_accepted,
    batches_rejected, rows_received, rows_loaded, rows_quarantined))
UNION ALL BY NAME
SELECT 'month' AS period_type, strftime(p.scored_at, '%Y-%m') AS period,
    date_trunc('month', p.scored_at)::DATE AS period_start, r.source_type,
    CASE p.decision WHEN 'auto_link' THEN 'auto_links' ELSE 'review_pairs' END AS metric,
    count(*) AS value
FROM scored_pairs AS p
JOIN core.survivor_records AS r ON r.record_token = p.record_token_l
WHERE p.decision IN ('auto_link', 'review') AND p.scored_at IS NOT NULL
GROUP BY ALL;
