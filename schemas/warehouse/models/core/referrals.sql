-- Grain: one row per episode x direction (outgoing: the episode names referred_to; incoming: it names referred_from).
-- A referral is confirmed when the survivor has an episode at the other agency type on the
-- right side of it in time (same day counts).
INSERT INTO core.referrals BY NAME
SELECT e.episode_id, e.survivor_id, e.contact_date,
    'outgoing' AS direction,
    e.agency_type AS from_agency_type,
    e.referred_to AS to_agency_type,
    EXISTS (
        SELECT 1 FROM core.episodes AS later
        WHERE later.survivor_id = e.survivor_id AND later.agency_type = e.referred_to
          AND later.contact_date >= e.contact_date AND later.episode_id <> e.episode_id
    ) AS is_confirmed
FROM core.episodes AS e WHERE e.referred_to IS NOT NULL
UNION ALL BY NAME
SELECT e.episode_id, e.survivor_id, e.contact_date,
    'incoming' AS direction,
    e.referred_from AS from_agency_type,
    e.agency_type AS to_agency_type,
    EXISTS (
        SELECT 1 FROM core.episodes AS earlier
        WHERE earlier.survivor_id = e.survivor_id AND earlier.agency_type = e.referred_from
          AND earlier.contact_date <= e.contact_date AND earlier.episode_id <> e.episode_id
    ) AS is_confirmed
FROM core.episodes AS e WHERE e.referred_from IS NOT NULL;
