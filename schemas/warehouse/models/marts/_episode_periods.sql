-- Grain: one row per episode x period type.
-- Temporary view: episodes in each period, with the survivor's place of origin and sex.
CREATE OR REPLACE TEMP VIEW episode_periods AS
SELECT e.episode_id, e.survivor_id, e.contact_date, e.agency_type, e.age_band,
    e.exploitation_type, e.destination_country, e.is_first_episode, e.is_returning,
    s.sex AS survivor_sex, s.province_code AS origin_province,
    s.district_code AS origin_district, s.local_level_code AS origin_local_level,
    p.period_type, p.period, p.period_start
FROM core.episodes AS e
JOIN core.survivors AS s USING (survivor_id)
JOIN period_days AS p ON p.calendar_date = e.contact_date;
