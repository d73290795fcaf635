-- Grain: one row per cohort period (of the first-ever episode) x place (national, province) x measure.
-- Survivors by the period of their first-ever episode (each survivor in one cohort period,
-- so months add up to quarters and years) and whether a follow-up came within 6 / 12 months.
INSERT INTO marts.followup_coverage BY NAME
WITH cohort AS (
    SELECT s.survivor_id, s.province_code AS origin_province, p.period_type, p.period,
        p.period_start,
        EXISTS (SELECT 1 FROM core.followups AS f WHERE f.survivor_id = s.survivor_id
                AND f.visit_date >= s.first_contact_date
                AND f.visit_date <= s.first_contact_date + INTERVAL '6 months') AS within_6m,
        EXISTS (SELECT 1 FROM core.followups AS f WHERE f.survivor_id = s.survivor_id
                AND f.visit_date >= s.first_contact_date
                AND f.visit_date <= s.first_contact_date + INTERVAL '12 months') AS within_12m
    FROM core.survivors AS s
    JOIN period_days AS p ON p.calendar_date = s.first_contact_date
),
grouped AS (
    SELECT period_type, period, period_start,
        CASE grouping(origin_province) WHEN 1 THEN 'national' ELSE 'province' END AS geo_level,
        CASE grouping(origin_province) WHEN 1 THEN 'NP' ELSE origin_province END AS geo_code,
        count(*) AS survivors_first_contact,
        count(*) FILTER (WHERE within_6m) AS followed_within_6m,
        count(*) FILTER (WHERE within_12m) AS followed_within_12m
    FROM cohort
    GROUP BY GROUPING SETS ((period_type, period, period_start),
                            (period_type, period, period_start, origin_province))
    HAVING (grouping(origin_province) = 1 OR origin_province IS NOT NULL)
       AND period_type IN ('year', 'bs_fiscal_year')
)
SELECT period_type, period, period_start, geo_level, geo_code, measure, value
FROM grouped UNPIVOT (value FOR measure IN (survivors_first_contact, followed_within_6m,
                                            followed_within_12m));
