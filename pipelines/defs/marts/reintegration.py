"""Reintegration marts: scores of followed-up survivors and follow-up coverage of cohorts.

Run inside `build_marts`' transaction, after its temp view `period_days`. Counting rules
(so that tables add up, as the disclosure relations assume):

- `reintegration_statistics`: per period and score dimension, each survivor counts once,
  with their latest follow-up in the period that has a score for that dimension; the score
  bands of a cell add up to its `survivors_scored`; places are the survivor's origin
  (exact geography sums); every dimension has one category per survivor (`all` = sum).
- `followup_coverage`: survivors by the period of their first-ever episode (each survivor in
  one cohort period, so months add up to quarters and years).
"""

from __future__ import annotations

SCORE_DIMENSIONS = ("composite", "economic", "social", "psychosocial")
BAND_MEASURES = ("score_band_0_25", "score_band_25_50", "score_band_50_75", "score_band_75_100")

_SCORED = """
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
WHERE v.score IS NOT NULL
QUALIFY row_number() OVER (
    PARTITION BY p.period_type, p.period, v.survivor_id, v.score_dimension
    ORDER BY v.visit_date DESC, v.record_token DESC) = 1
"""

_REINTEGRATION_STATISTICS = """
INSERT INTO marts.reintegration_statistics
WITH units AS (
    SELECT u.*, d.dimension,
        CASE d.dimension
            WHEN 'all' THEN 'all'
            WHEN 'sex' THEN coalesce(u.sex, 'unknown')
            WHEN 'age_band' THEN coalesce(u.age_band, 'unknown')
            WHEN 'exploitation_type' THEN coalesce(u.exploitation_type, 'unknown')
            WHEN 'destination_country' THEN coalesce(u.destination_country, 'unknown')
            WHEN 'agency_type' THEN coalesce(u.agency_type, 'unknown')
            WHEN 'services_received' THEN u.services_received
        END AS category
    FROM scored_visits AS u
    CROSS JOIN (VALUES ('all'), ('sex'), ('age_band'), ('exploitation_type'),
                       ('destination_country'), ('agency_type'), ('services_received'))
        AS d(dimension)
),
grouped AS (
    SELECT period_type, period, period_start,
        CASE grouping(origin_province) WHEN 1 THEN 'national' ELSE 'province' END AS geo_level,
        CASE grouping(origin_province) WHEN 1 THEN 'NP' ELSE origin_province END AS geo_code,
        dimension, category, score_dimension,
        count(*) AS survivors_scored,
        count(*) FILTER (WHERE score * 100 < 25) AS score_band_0_25,
        count(*) FILTER (WHERE score * 100 >= 25 AND score * 100 < 50) AS score_band_25_50,
        count(*) FILTER (WHERE score * 100 >= 50 AND score * 100 < 75) AS score_band_50_75,
        count(*) FILTER (WHERE score * 100 >= 75) AS score_band_75_100,
        -- An exact DECIMAL sum, not avg(DOUBLE): a parallel float sum depends on row order
        -- and moved a published mean by one between two runs on the same data.
        CAST(round(sum(CAST(score AS DECIMAL(18, 9))) * 100 / count(*)) AS BIGINT)
            AS mean_score_pct
    FROM units
    GROUP BY GROUPING SETS (
        (period_type, period, period_start, dimension, category, score_dimension),
        (period_type, period, period_start, dimension, category, score_dimension,
         origin_province)
    )
    HAVING (grouping(origin_province) = 1 OR origin_province IS NOT NULL)
       -- Scores move slowly and follow-ups are few: the nation and provinces, years and
       -- fiscal years only (docs/interfaces.md section 4).
       AND period_type IN ('year', 'bs_fiscal_year')
       -- By sex only: the other breakdowns of a few hundred scored survivors were nearly all
       -- hidden cells, each one more link in the disclosure problem.
       AND dimension IN ('all', 'sex')
)
SELECT period_type, period, period_start, geo_level, geo_code, dimension, category,
    score_dimension, measure, value
FROM grouped UNPIVOT (value FOR measure IN (survivors_scored, score_band_0_25,
    score_band_25_50, score_band_50_75, score_band_75_100, mean_score_pct))
WHERE value <> 0 OR measure = 'mean_score_pct'
"""

_FOLLOWUP_COVERAGE = """
INSERT INTO marts.followup_coverage
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
                                            followed_within_12m))
"""

STATEMENTS = (_SCORED, _REINTEGRATION_STATISTICS, _FOLLOWUP_COVERAGE,
              "DROP TABLE scored_visits")
