-- Grain: one row per contact episode (a linked episode record).
-- A survivor is "returning" (the re-trafficking indicator) when seen again at least the
-- returning gap (parameter bound by pipelines/defs/core/build.py) after an earlier episode.
INSERT INTO core.episodes BY NAME
WITH linked AS (
    SELECT * FROM core.survivor_records
    WHERE survivor_id IS NOT NULL AND coalesce(record_kind, 'episode') = 'episode'
),
numbered AS (
    SELECT *,
        row_number() OVER (PARTITION BY survivor_id ORDER BY contact_date, record_token)
            AS episode_number,
        min(contact_date) OVER (PARTITION BY survivor_id) AS first_contact_date
    FROM linked
)
SELECT
    row_number() OVER (ORDER BY survivor_id, contact_date, record_token) AS episode_id,
    record_token, survivor_id, agency_id, source_type AS agency_type, contact_date, sex,
    age_band, province_code, district_code, local_level_code, caste_ethnicity,
    exploitation_type, destination_country, referred_from, referred_to, episode_number,
    episode_number = 1 AS is_first_episode,
    contact_date >= first_contact_date + CAST($returning_gap AS INTERVAL) AS is_returning
FROM numbered;
