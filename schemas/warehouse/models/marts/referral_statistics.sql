-- Grain: one row per period x place (national, province) x from_agency_type x to_agency_type x measure.
-- Referrals by the referred survivor's province of origin; the nation and the provinces by
-- year and fiscal year only (as service_statistics, for the same reason).
INSERT INTO marts.referral_statistics BY NAME
WITH referred AS (
    SELECT r.from_agency_type, r.to_agency_type, r.is_confirmed,
        s.province_code AS origin_province, p.period_type, p.period, p.period_start
    FROM core.referrals AS r
    JOIN core.survivors AS s USING (survivor_id)
    JOIN period_days AS p ON p.calendar_date = r.contact_date
),
grouped AS (
    SELECT period_type, period, period_start,
        CASE grouping(origin_province) WHEN 1 THEN 'national' ELSE 'province' END AS geo_level,
        CASE grouping(origin_province) WHEN 1 THEN 'NP' ELSE origin_province END AS geo_code,
        from_agency_type, to_agency_type,
        count(*) AS referrals, count(*) FILTER (WHERE is_confirmed) AS referrals_confirmed
    FROM referred
    GROUP BY GROUPING SETS (
        (period_type, period, period_start, from_agency_type, to_agency_type),
        (period_type, period, period_start, from_agency_type, to_agency_type, origin_province)
    )
    HAVING (grouping(origin_province) = 1 OR origin_province IS NOT NULL)
       AND period_type IN ('year', 'bs_fiscal_year')
)
SELECT period_type, period, period_start, geo_level, geo_code, from_agency_type,
    to_agency_type, 'referrals' AS measure, referrals AS value FROM grouped
UNION ALL BY NAME
SELECT period_type, period, period_start, geo_level, geo_code, from_agency_type,
    to_agency_type, 'referrals_confirmed' AS measure, referrals_confirmed AS value FROM grouped;
