-- Grain: one row per period x place (national, province, district) x (dimension, category) x score_dimension x measure; zero cells are absent.
-- From the temp table `scored_visits`. The score bands of a cell add up to its
-- survivors_scored; places are the survivor's origin (exact geography sums); every
-- dimension has one category per survivor (`all` = sum).
INSERT INTO marts.reintegration_statistics BY NAME
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
    -- By sex only: the other breakdowns of a few hundred scored survivors were nearly all
    -- hidden cells, each one more link in the disclosure problem. (Filtered here, before
    -- grouping; the published periods are the only ones in scored_visits.)
    WHERE d.dimension IN ('all', 'sex')
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
    -- Scores move slowly and follow-ups are few: the nation and provinces, years and
    -- fiscal years only (docs/interfaces.md section 4).
    HAVING grouping(origin_province) = 1 OR origin_province IS NOT NULL
)
SELECT period_type, period, period_start, geo_level, geo_code, dimension, category,
    score_dimension, measure, value
FROM grouped UNPIVOT (value FOR measure IN (survivors_scored, score_band_0_25,
    score_band_25_50, score_band_50_75, score_band_75_100, mean_score_pct))
WHERE value <> 0 OR measure = 'mean_score_pct';
