-- Grain: one row per measure x counted unit x period type.
-- Temporary table: one row per counted unit: an episode (records), a survivor's first-ever
-- episode (new), a survivor's first episode in the period (survivors) or first returning
-- one (returning).
CREATE OR REPLACE TEMP TABLE counted_units AS
SELECT 'records' AS measure, * FROM episode_periods
UNION ALL
SELECT 'new_survivors', * FROM episode_periods WHERE is_first_episode
UNION ALL
SELECT 'survivors', * FROM episode_periods
QUALIFY row_number() OVER (
    PARTITION BY period_type, period, survivor_id ORDER BY contact_date, episode_id) = 1
UNION ALL
SELECT 'returning_survivors', * FROM episode_periods WHERE is_returning
QUALIFY row_number() OVER (
    PARTITION BY period_type, period, survivor_id ORDER BY contact_date, episode_id) = 1;
