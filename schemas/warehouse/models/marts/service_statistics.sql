-- Grain: one row per period x place (national, province, district) x service_code x measure; zero cells are absent.
-- Published for the nation and the provinces by year and fiscal year only: below that nearly
-- every cell is 1-4 people, hidden anyway, and each hidden cell links the disclosure problem
-- across tables and time (measured on 150 synthetic people: 95% of the monthly and district
-- cells were hidden).
INSERT INTO marts.service_statistics BY NAME
WITH given AS (
    SELECT p.*, es.service_code, es.service_tier
    FROM core.episode_services AS es
    JOIN episode_periods AS p USING (episode_id)
    WHERE p.period_type IN ('year', 'bs_fiscal_year')
),
grouped AS (
    SELECT period_type, period, period_start,
        CASE grouping(origin_province) WHEN 1 THEN 'national' ELSE 'province' END AS geo_level,
        CASE grouping(origin_province) WHEN 1 THEN 'NP' ELSE origin_province END AS geo_code,
        service_code, service_tier,
        count(DISTINCT survivor_id) AS survivors_served,
        count(*) AS services_given
    FROM given
    GROUP BY GROUPING SETS (
        (period_type, period, period_start, service_code, service_tier),
        (period_type, period, period_start, service_code, service_tier, origin_province)
    )
    HAVING grouping(origin_province) = 1 OR origin_province IS NOT NULL
)
SELECT period_type, period, period_start, geo_level, geo_code, service_code, service_tier,
    'survivors_served' AS measure, survivors_served AS value FROM grouped
UNION ALL BY NAME
SELECT period_type, period, period_start, geo_level, geo_code, service_code, service_tier,
    'services_given' AS measure, services_given AS value FROM grouped;
