-- Grain: one row per current survivor_id with at least one episode.
-- Survivor attributes are modes over their episodes with deterministic ties (most
-- frequent, then alphabetical), so rebuilds are identical.
INSERT INTO core.survivors BY NAME
WITH base AS (
    SELECT survivor_id,
        min(contact_date) AS first_contact_date,
        max(contact_date) AS last_contact_date,
        count(*) AS records_count,
        count(DISTINCT agency_id) AS agencies_count
    FROM core.episodes GROUP BY survivor_id
),
first_band AS (
    SELECT survivor_id, age_band FROM core.episodes WHERE episode_number = 1
),
sex_mode AS (
    SELECT survivor_id, sex FROM (
        SELECT survivor_id, sex, count(*) AS n FROM core.episodes
        WHERE sex IS NOT NULL GROUP BY ALL
    ) QUALIFY row_number() OVER (PARTITION BY survivor_id ORDER BY n DESC, sex) = 1
),
district_mode AS (
    SELECT survivor_id, district_code FROM (
        SELECT survivor_id, district_code, count(*) AS n FROM core.episodes
        WHERE district_code IS NOT NULL GROUP BY ALL
    ) QUALIFY row_number() OVER (PARTITION BY survivor_id ORDER BY n DESC, district_code) = 1
),
province_mode AS (
    SELECT survivor_id, province_code FROM (
        SELECT survivor_id, province_code, count(*) AS n FROM core.episodes
        WHERE province_code IS NOT NULL GROUP BY ALL
    ) QUALIFY row_number() OVER (PARTITION BY survivor_id ORDER BY n DESC, province_code) = 1
),
-- Contract 1.2: a survivor with any statistics_only record (each such record is a survivor
-- of its own, since it is never linked) is counted but kept out of CTDC and analyst files.
consent AS (
    SELECT survivor_id, bool_or(consent_scope = 'statistics_only') AS is_statistics_only
    FROM core.survivor_records WHERE survivor_id IS NOT NULL GROUP BY survivor_id
),
local_mode AS (
    SELECT survivor_id, local_level_code FROM (
        SELECT e.survivor_id, e.local_level_code, count(*) AS n
        FROM core.episodes AS e JOIN district_mode AS d
            ON d.survivor_id = e.survivor_id AND left(e.local_level_code, 3) = d.district_code
        GROUP BY ALL
    ) QUALIFY row_number() OVER (PARTITION BY survivor_id ORDER BY n DESC, local_level_code) = 1
)
SELECT
    b.survivor_id, b.first_contact_date, b.last_contact_date, x.sex,
    f.age_band AS age_band_at_first_contact,
    coalesce(left(d.district_code, 1), p.province_code) AS province_code,
    d.district_code, l.local_level_code, b.records_count, b.agencies_count,
    b.last_contact_date >= b.first_contact_date + CAST($returning_gap AS INTERVAL)
        AS is_returning,
    coalesce(c.is_statistics_only, false) AS is_statistics_only
FROM base AS b
LEFT JOIN first_band AS f USING (survivor_id)
LEFT JOIN sex_mode AS x USING (survivor_id)
LEFT JOIN district_mode AS d USING (survivor_id)
LEFT JOIN province_mode AS p USING (survivor_id)
LEFT JOIN local_mode AS l USING (survivor_id)
LEFT JOIN consent AS c USING (survivor_id);
