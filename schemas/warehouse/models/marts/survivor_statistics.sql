-- Grain: one row per period x place x (dimension, category) x measure, one breakdown dimension at a time; zero cells are absent.
-- Places are the survivor's origin (GROUPING SETS over the geography levels). Unknown places
-- are grouped under NULL: kept in the totals above them, not published. The published grid
-- (docs/interfaces.md section 4; PERIOD_TYPES_BY_LEVEL in pipelines/defs/marts/build.py):
-- districts and local levels by year and fiscal year, dimension `all` only; breakdowns for
-- the nation and provinces by year and fiscal year; months and quarters carry the totals.
-- Only that grid is aggregated: grouping every period type by every dimension at every level
-- and filtering afterwards took most of the marts' rebuild.
INSERT INTO marts.survivor_statistics BY NAME
WITH breakdowns AS (
    SELECT u.*, d.dimension,
        CASE d.dimension
            WHEN 'all' THEN 'all'
            WHEN 'sex' THEN coalesce(u.survivor_sex, 'unknown')
            WHEN 'age_band' THEN coalesce(u.age_band, 'unknown')
            WHEN 'exploitation_type' THEN coalesce(u.exploitation_type, 'unknown')
            WHEN 'destination_country' THEN coalesce(u.destination_country, 'unknown')
            WHEN 'agency_type' THEN coalesce(u.agency_type, 'unknown')
        END AS category
    FROM counted_units AS u
    CROSS JOIN (VALUES ('all'), ('sex'), ('age_band'), ('exploitation_type'),
                       ('destination_country'), ('agency_type')) AS d(dimension)
    WHERE d.dimension = 'all' OR u.period_type IN ('year', 'bs_fiscal_year')
)
SELECT period_type, period, period_start,
    CASE grouping(origin_province) WHEN 1 THEN 'national' ELSE 'province' END AS geo_level,
    CASE grouping(origin_province) WHEN 1 THEN 'NP' ELSE origin_province END AS geo_code,
    dimension, category, measure, count(*) AS value
FROM breakdowns
GROUP BY GROUPING SETS (
    (period_type, period, period_start, dimension, category, measure),
    (period_type, period, period_start, dimension, category, measure, origin_province)
)
HAVING grouping(origin_province) = 1 OR origin_province IS NOT NULL
UNION ALL
SELECT period_type, period, period_start,
    CASE grouping(origin_local_level) WHEN 1 THEN 'district' ELSE 'local_level' END,
    CASE grouping(origin_local_level) WHEN 1 THEN origin_district ELSE origin_local_level END,
    'all', 'all', measure, count(*)
FROM counted_units
WHERE period_type IN ('year', 'bs_fiscal_year')
    AND origin_province IS NOT NULL AND origin_district IS NOT NULL
GROUP BY GROUPING SETS (
    (period_type, period, period_start, measure, origin_province, origin_district),
    (period_type, period, period_start, measure, origin_province, origin_district,
     origin_local_level)
)
HAVING grouping(origin_local_level) = 1 OR origin_local_level IS NOT NULL;
