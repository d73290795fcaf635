-- Grain: one row per record_token (the latest loaded version when an agency re-sent a record).
-- Every current record with the survivor it was linked to. Reads the temp views `staged`
-- (the staging tables, UNION ALL) and `memberships` (record_token -> survivor_id).
INSERT INTO core.survivor_records BY NAME
SELECT
    s.record_token, s.source_type, s.agency_id, s.batch_id, s.source_row,
    m.survivor_id, s.record_kind, s.contact_date, s.sex, s.age_band,
    coalesce(s.province_code, left(coalesce(s.district_code, s.local_level_code), 1))
        AS province_code,
    coalesce(s.district_code, left(s.local_level_code, 3)) AS district_code,
    s.local_level_code, s.caste_ethnicity, s.exploitation_type, s.destination_country,
    coalesce(s.services, []::VARCHAR[]) AS services,
    s.referred_from, s.referred_to, s.loaded_at,
    -- Contract 1.2: an older batch's NULL consent scope is read as the default.
    coalesce(s.consent_scope, 'linkage_and_statistics') AS consent_scope
FROM staged AS s
LEFT JOIN memberships AS m USING (record_token)
-- An agency re-sending a record gives a second staging row: keep the latest version.
QUALIFY row_number() OVER (
    PARTITION BY s.record_token ORDER BY s.loaded_at DESC, s.batch_id DESC, s.source_row DESC
) = 1;
