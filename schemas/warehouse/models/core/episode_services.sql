-- Grain: one row per episode x service code.
-- Services given in each episode, with their tier from the temp view `service_tiers`
-- (schemas.vocabularies.SERVICES).
INSERT INTO core.episode_services BY NAME
SELECT DISTINCT e.episode_id, e.survivor_id, u.service_code, t.service_tier
FROM core.episodes AS e
JOIN core.survivor_records AS r USING (record_token),
    unnest(r.services) AS u(service_code)
LEFT JOIN service_tiers AS t USING (service_code)
WHERE u.service_code IS NOT NULL;
