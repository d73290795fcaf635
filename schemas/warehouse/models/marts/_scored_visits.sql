-- Grain: one row per period x survivor x score_dimension (the survivor's latest scored follow-up in the period).
-- Temporary table for reintegration_statistics (dropped at the end of the build): each
-- survivor counts once per period and score dimension, with their latest follow-up in the
-- period that has a score for that dimension. Years and fiscal years only: the periods
-- reintegration_statistics publishes.
CREATE OR REPLACE TEMP TABLE scored_visits AS
WITH visits AS (
    SELECT f.*, sd.score_dimension,
        CASE sd.score_dimension WHEN 'composite' THEN f.composite_score
            WHEN 'economic' THEN f.economic_score WHEN 'social' THEN f.social_score
            ELSE f.psychosocial_score END AS score
    FROM core.followups AS f
    CROSS JOIN (VALUES ('composite'), ('economic'), ('social'), ('psychosocial'))
        AS sd(score_dimension)
),
first_episode AS (
    SELECT survivor_id, exploitation_type, destination_country
    FROM core.episodes WHERE episode_number = 1
),
tiers AS (
    -- Highest service tier received in episodes up to each visit.
    SELECT f.record_token,
        max(CASE es.service_tier WHEN 'long_term' THEN 3 WHEN 'short_term' THEN 2
            WHEN 'immediate' THEN 1 ELSE 0 END) AS tier_rank
    FROM core.followups AS f
    JOIN core.episodes AS e ON e.survivor_id = f.survivor_id AND e.contact_date <= f.visit_date
    JOIN core.episode_services AS es ON es.episode_id = e.episode_id
    GROUP BY f.record_token
)
SELECT v.record_token, v.survivor_id, v.visit_date, v.agency_type, v.score_dimension,
    v.score, s.sex, s.age_band_at_first_contact AS age_band, fe.exploitation_type,
    fe.destination_country, s.province_code AS origin_province,
    s.district_code AS origin_district,
    CASE coalesce(t.tier_rank, 0) WHEN 3 THEN 'long_term' WHEN 2 THEN 'short_term'
        WHEN 1 THEN 'immediate' ELSE 'none' END AS services_received,
    p.period_type, p.period, p.period_start
FROM visits AS v
JOIN core.survivors AS s USING (survivor_id)
LEFT JOIN first_episode AS fe USING (survivor_id)
LEFT JOIN tiers AS t USING (record_token)
JOIN period_days AS p ON p.calendar_date = v.visit_date
WHERE v.score IS NOT NULL AND p.period_type IN ('year', 'bs_fiscal_year')
QUALIFY row_number() OVER (
    PARTITION BY p.period_type, p.period, v.survivor_id, v.score_dimension
    ORDER BY v.visit_date DESC, v.record_token DESC) = 1;
