-- Grain: one row per follow-up visit (a linked record with record_kind followup).
-- Visits of survivors who have an episode, with the scores of the temp view
-- `followup_scores` (scored in Python by pipelines/defs/core/followups.py); place codes are
-- the survivor's origin, so follow-up counts add up like survivor counts.
INSERT INTO core.followups BY NAME
SELECT r.record_token, r.survivor_id,
    r.contact_date AS visit_date,
    r.source_type AS agency_type,
    s.province_code, s.district_code, s.local_level_code,
    sc.answered_count, sc.economic_score, sc.social_score, sc.psychosocial_score,
    sc.composite_score, sc.config_version
FROM core.survivor_records AS r
JOIN core.survivors AS s USING (survivor_id)
JOIN followup_scores AS sc USING (record_token)
WHERE r.record_kind = 'followup'
ORDER BY r.record_token;
