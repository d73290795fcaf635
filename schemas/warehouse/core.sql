-- Core: the conformed warehouse layer, rebuilt in full from staging + linkage on every run.
-- Restricted (data officers only): it still holds record tokens and batch ids.
-- Applied inside the rebuild transaction after `DROP SCHEMA core CASCADE`, so a crash
-- mid-build leaves the previous core intact. COMMENT ON statements feed the data dictionary.
-- Each table's grain key is `CORE_GRAIN` (pipelines/defs/core/build.py), checked before the
-- rebuild commits. No PRIMARY KEY: its index cost 8.8 s of a 25.7 s rebuild at 1M records.

CREATE SCHEMA core;

CREATE TABLE core.geography (
    geo_level       VARCHAR NOT NULL,
    geo_code        VARCHAR NOT NULL,
    parent_code     VARCHAR,
    name_en         VARCHAR NOT NULL,
    name_ne         VARCHAR,
    level_type      VARCHAR,
    population      BIGINT
);
COMMENT ON TABLE core.geography IS 'Reference geography of Nepal. Grain: one row per place (the nation, 7 provinces, 77 districts, 753 local levels).';
COMMENT ON COLUMN core.geography.geo_level IS 'national | province | district | local_level';
COMMENT ON COLUMN core.geography.geo_code IS 'NP, province 1..7, 3-digit district or 5-digit local level code';
COMMENT ON COLUMN core.geography.parent_code IS 'Code of the enclosing place (NULL for the nation)';
COMMENT ON COLUMN core.geography.name_en IS 'English name';
COMMENT ON COLUMN core.geography.name_ne IS 'Nepali name (Devanagari)';
COMMENT ON COLUMN core.geography.level_type IS 'For local levels: metropolitan_city, sub_metropolitan_city, municipality, rural_municipality';
COMMENT ON COLUMN core.geography.population IS 'Population where known; NULL otherwise';

CREATE TABLE core.calendar (
    calendar_date        DATE NOT NULL,
    month                VARCHAR NOT NULL,
    month_start          DATE NOT NULL,
    quarter              VARCHAR NOT NULL,
    quarter_start        DATE NOT NULL,
    year                 VARCHAR NOT NULL,
    year_start           DATE NOT NULL,
    bs_month             VARCHAR NOT NULL,
    bs_month_start       DATE NOT NULL,
    bs_fiscal_year       VARCHAR NOT NULL,
    bs_fiscal_year_start DATE NOT NULL
);
COMMENT ON TABLE core.calendar IS 'Date dimension covering every contact date. Grain: one row per calendar day (AD) from the first to the last contact date.';
COMMENT ON COLUMN core.calendar.calendar_date IS 'The AD date';
COMMENT ON COLUMN core.calendar.month IS 'AD month label, e.g. 2024-03';
COMMENT ON COLUMN core.calendar.month_start IS 'First day of the AD month';
COMMENT ON COLUMN core.calendar.quarter IS 'AD quarter label, e.g. 2024-Q1';
COMMENT ON COLUMN core.calendar.quarter_start IS 'First day of the AD quarter';
COMMENT ON COLUMN core.calendar.year IS 'AD year label, e.g. 2024';
COMMENT ON COLUMN core.calendar.year_start IS 'First day of the AD year';
COMMENT ON COLUMN core.calendar.bs_month IS 'Bikram Sambat month label, e.g. 2081-04 (Shrawan 2081)';
COMMENT ON COLUMN core.calendar.bs_month_start IS 'AD date of the first day of the BS month';
COMMENT ON COLUMN core.calendar.bs_fiscal_year IS 'Nepal fiscal year from 1 Shrawan, e.g. 2081/82';
COMMENT ON COLUMN core.calendar.bs_fiscal_year_start IS 'AD date of 1 Shrawan opening the fiscal year';

CREATE TABLE core.agencies (
    agency_id          VARCHAR NOT NULL,
    agency_type        VARCHAR NOT NULL,
    records_count      BIGINT NOT NULL,
    batches_count      BIGINT NOT NULL,
    first_loaded_at    TIMESTAMPTZ,
    last_loaded_at     TIMESTAMPTZ
);
COMMENT ON TABLE core.agencies IS 'Agencies that have sent accepted records. Grain: one row per agency_id seen in staging.';
COMMENT ON COLUMN core.agencies.agency_id IS 'Agency identifier from the batch manifest';
COMMENT ON COLUMN core.agencies.agency_type IS 'shelter | ocmc | migration (the source type of its batches)';
COMMENT ON COLUMN core.agencies.records_count IS 'Current records (latest version of each record_token) from this agency';
COMMENT ON COLUMN core.agencies.batches_count IS 'Batches this agency has had loaded';
COMMENT ON COLUMN core.agencies.first_loaded_at IS 'When its first batch was loaded (UTC)';
COMMENT ON COLUMN core.agencies.last_loaded_at IS 'When its latest batch was loaded (UTC)';

CREATE TABLE core.survivor_records (
    record_token        VARCHAR NOT NULL,
    source_type         VARCHAR NOT NULL,
    agency_id           VARCHAR NOT NULL,
    batch_id            VARCHAR NOT NULL,
    source_row          INTEGER NOT NULL,
    survivor_id         VARCHAR,
    record_kind         VARCHAR,
    contact_date        DATE NOT NULL,
    sex                 VARCHAR,
    age_band            VARCHAR,
    province_code       VARCHAR,
    district_code       VARCHAR,
    local_level_code    VARCHAR,
    caste_ethnicity     VARCHAR,
    exploitation_type   VARCHAR,
    destination_country VARCHAR,
    services            VARCHAR[],
    referred_from       VARCHAR,
    referred_to         VARCHAR,
    loaded_at           TIMESTAMPTZ NOT NULL,
    consent_scope       VARCHAR NOT NULL
);
COMMENT ON TABLE core.survivor_records IS 'Every current record with the survivor it was linked to. Grain: one row per record_token (the latest loaded version when an agency re-sent a record).';
COMMENT ON COLUMN core.survivor_records.record_token IS 'Pseudonymous record key (HMAC of agency + record id): restricted, never published';
COMMENT ON COLUMN core.survivor_records.source_type IS 'shelter | ocmc | migration';
COMMENT ON COLUMN core.survivor_records.agency_id IS 'Sending agency';
COMMENT ON COLUMN core.survivor_records.batch_id IS 'Batch the current version came in: restricted, never published';
COMMENT ON COLUMN core.survivor_records.source_row IS '1-based row of the agency export';
COMMENT ON COLUMN core.survivor_records.survivor_id IS 'Current survivor id from linkage.memberships; NULL while the record is not yet linked';
COMMENT ON COLUMN core.survivor_records.record_kind IS 'episode | followup (a reintegration follow-up visit; NULL read as episode)';
COMMENT ON COLUMN core.survivor_records.contact_date IS 'Date of contact (AD)';
COMMENT ON COLUMN core.survivor_records.sex IS 'F | M | O, NULL when unknown';
COMMENT ON COLUMN core.survivor_records.age_band IS 'Age band at the contact date';
COMMENT ON COLUMN core.survivor_records.province_code IS 'Province of origin as recorded (derived from the district when missing)';
COMMENT ON COLUMN core.survivor_records.district_code IS 'District of origin as recorded (derived from the local level when missing)';
COMMENT ON COLUMN core.survivor_records.local_level_code IS 'Local level of origin as recorded';
COMMENT ON COLUMN core.survivor_records.caste_ethnicity IS 'Coarse caste/ethnicity group';
COMMENT ON COLUMN core.survivor_records.exploitation_type IS 'HTCDS exploitation type code';
COMMENT ON COLUMN core.survivor_records.destination_country IS 'ISO 3166-1 alpha-2; NP for internal';
COMMENT ON COLUMN core.survivor_records.services IS 'Service codes given in this episode';
COMMENT ON COLUMN core.survivor_records.referred_from IS 'Agency type the survivor was referred from';
COMMENT ON COLUMN core.survivor_records.referred_to IS 'Agency type the survivor was referred to';
COMMENT ON COLUMN core.survivor_records.loaded_at IS 'When the record was loaded into staging (UTC)';
COMMENT ON COLUMN core.survivor_records.consent_scope IS 'linkage_and_statistics | statistics_only (contract 1.2; an older batch''s NULL is read as linkage_and_statistics). statistics_only records are never linked: each is a survivor of its own';

CREATE TABLE core.episodes (
    episode_id          BIGINT NOT NULL,
    record_token        VARCHAR NOT NULL,
    survivor_id         VARCHAR NOT NULL,
    agency_id           VARCHAR NOT NULL,
    agency_type         VARCHAR NOT NULL,
    contact_date        DATE NOT NULL,
    sex                 VARCHAR,
    age_band            VARCHAR,
    province_code       VARCHAR,
    district_code       VARCHAR,
    local_level_code    VARCHAR,
    caste_ethnicity     VARCHAR,
    exploitation_type   VARCHAR,
    destination_country VARCHAR,
    referred_from       VARCHAR,
    referred_to         VARCHAR,
    episode_number      INTEGER NOT NULL,
    is_first_episode    BOOLEAN NOT NULL,
    is_returning        BOOLEAN NOT NULL
);
COMMENT ON TABLE core.episodes IS 'Contact episodes of linked survivors. Grain: one row per contact episode (a linked episode record).';
COMMENT ON COLUMN core.episodes.episode_id IS 'Sequential id in (survivor_id, contact_date, record_token) order; reassigned on every rebuild';
COMMENT ON COLUMN core.episodes.record_token IS 'Record behind the episode: restricted, never published';
COMMENT ON COLUMN core.episodes.survivor_id IS 'Survivor (linkage cluster) the episode belongs to';
COMMENT ON COLUMN core.episodes.agency_id IS 'Agency that recorded the episode';
COMMENT ON COLUMN core.episodes.agency_type IS 'shelter | ocmc | migration';
COMMENT ON COLUMN core.episodes.contact_date IS 'Date of contact (AD)';
COMMENT ON COLUMN core.episodes.sex IS 'Sex as recorded in this episode';
COMMENT ON COLUMN core.episodes.age_band IS 'Age band at the contact date';
COMMENT ON COLUMN core.episodes.province_code IS 'Province of origin as recorded in this episode';
COMMENT ON COLUMN core.episodes.district_code IS 'District of origin as recorded in this episode';
COMMENT ON COLUMN core.episodes.local_level_code IS 'Local level of origin as recorded in this episode';
COMMENT ON COLUMN core.episodes.caste_ethnicity IS 'Coarse caste/ethnicity group';
COMMENT ON COLUMN core.episodes.exploitation_type IS 'HTCDS exploitation type code';
COMMENT ON COLUMN core.episodes.destination_country IS 'ISO 3166-1 alpha-2; NP for internal';
COMMENT ON COLUMN core.episodes.referred_from IS 'Agency type the survivor was referred from';
COMMENT ON COLUMN core.episodes.referred_to IS 'Agency type the survivor was referred to';
COMMENT ON COLUMN core.episodes.episode_number IS '1 for the survivor''s first episode, 2 for the next, ...';
COMMENT ON COLUMN core.episodes.is_first_episode IS 'True for the survivor''s first-ever episode';
COMMENT ON COLUMN core.episodes.is_returning IS 'True when the survivor had an earlier episode at least 6 months before this one (re-trafficking indicator)';

CREATE TABLE core.survivors (
    survivor_id             VARCHAR NOT NULL,
    first_contact_date      DATE NOT NULL,
    last_contact_date       DATE NOT NULL,
    sex                     VARCHAR,
    age_band_at_first_contact VARCHAR,
    province_code           VARCHAR,
    district_code           VARCHAR,
    local_level_code        VARCHAR,
    records_count           INTEGER NOT NULL,
    agencies_count          INTEGER NOT NULL,
    is_returning            BOOLEAN NOT NULL,
    is_statistics_only      BOOLEAN NOT NULL DEFAULT false
);
COMMENT ON TABLE core.survivors IS 'Survivors as currently linked. Grain: one row per current survivor_id with at least one episode.';
COMMENT ON COLUMN core.survivors.survivor_id IS 'Stable pseudonymous survivor id minted by the linkage engine';
COMMENT ON COLUMN core.survivors.first_contact_date IS 'Earliest contact date across the survivor''s episodes';
COMMENT ON COLUMN core.survivors.last_contact_date IS 'Latest contact date';
COMMENT ON COLUMN core.survivors.sex IS 'Most frequent recorded sex (ties: alphabetical)';
COMMENT ON COLUMN core.survivors.age_band_at_first_contact IS 'Age band recorded at the first episode';
COMMENT ON COLUMN core.survivors.province_code IS 'Province of origin: that of the district of origin (else the most frequent province)';
COMMENT ON COLUMN core.survivors.district_code IS 'District of origin: most frequent recorded district (ties: alphabetical)';
COMMENT ON COLUMN core.survivors.local_level_code IS 'Local level of origin: most frequent recorded local level within the district of origin';
COMMENT ON COLUMN core.survivors.records_count IS 'Episode records linked to the survivor';
COMMENT ON COLUMN core.survivors.agencies_count IS 'Distinct agencies that recorded the survivor';
COMMENT ON COLUMN core.survivors.is_returning IS 'True when the survivor has an episode at least 6 months after the first one';
COMMENT ON COLUMN core.survivors.is_statistics_only IS 'True when the survivor''s record consents to statistics only (contract 1.2 consent_scope): counted in the marts, never linked, never exported to CTDC or written to the analyst file';

CREATE TABLE core.episode_services (
    episode_id      BIGINT NOT NULL,
    survivor_id     VARCHAR NOT NULL,
    service_code    VARCHAR NOT NULL,
    service_tier    VARCHAR
);
COMMENT ON TABLE core.episode_services IS 'Services given. Grain: one row per episode x service code.';
COMMENT ON COLUMN core.episode_services.episode_id IS 'Episode (core.episodes)';
COMMENT ON COLUMN core.episode_services.survivor_id IS 'Survivor of the episode';
COMMENT ON COLUMN core.episode_services.service_code IS 'Service code (schemas.vocabularies.SERVICES)';
COMMENT ON COLUMN core.episode_services.service_tier IS 'immediate | short_term | long_term';

CREATE TABLE core.referrals (
    episode_id          BIGINT NOT NULL,
    survivor_id         VARCHAR NOT NULL,
    contact_date        DATE NOT NULL,
    direction           VARCHAR NOT NULL,
    from_agency_type    VARCHAR NOT NULL,
    to_agency_type      VARCHAR NOT NULL,
    is_confirmed        BOOLEAN NOT NULL
);
COMMENT ON TABLE core.referrals IS 'Referrals between agency types. Grain: one row per episode x direction (outgoing: the episode names referred_to; incoming: it names referred_from).';
COMMENT ON COLUMN core.referrals.episode_id IS 'Episode that recorded the referral';
COMMENT ON COLUMN core.referrals.survivor_id IS 'Survivor referred';
COMMENT ON COLUMN core.referrals.contact_date IS 'Contact date of the recording episode';
COMMENT ON COLUMN core.referrals.direction IS 'outgoing | incoming';
COMMENT ON COLUMN core.referrals.from_agency_type IS 'Agency type referring';
COMMENT ON COLUMN core.referrals.to_agency_type IS 'Agency type referred to';
COMMENT ON COLUMN core.referrals.is_confirmed IS 'Outgoing: the survivor has a later (same day or after) episode at the receiving agency type. Incoming: an earlier (same day or before) episode at the referring agency type';

CREATE TABLE core.id_change_log (
    event_id            BIGINT NOT NULL,
    event_at            TIMESTAMPTZ,
    event               VARCHAR,
    survivor_id         VARCHAR,
    other_survivor_id   VARCHAR,
    record_count        INTEGER,
    run_id              VARCHAR
);
COMMENT ON TABLE core.id_change_log IS 'Copy of linkage.id_changes: how survivor ids were minted, merged, split and retired. Grain: one row per id change event.';
COMMENT ON COLUMN core.id_change_log.event_id IS 'Event sequence number';
COMMENT ON COLUMN core.id_change_log.event_at IS 'When it happened (UTC)';
COMMENT ON COLUMN core.id_change_log.event IS 'minted | merged | split | retired | member_added | member_removed';
COMMENT ON COLUMN core.id_change_log.survivor_id IS 'Survivor id affected';
COMMENT ON COLUMN core.id_change_log.other_survivor_id IS 'The other id in a merge or split';
COMMENT ON COLUMN core.id_change_log.record_count IS 'Records involved';
COMMENT ON COLUMN core.id_change_log.run_id IS 'Linkage run';

CREATE TABLE core.followups (
    record_token        VARCHAR NOT NULL,
    survivor_id         VARCHAR NOT NULL,
    visit_date          DATE NOT NULL,
    agency_type         VARCHAR NOT NULL,
    province_code       VARCHAR,
    district_code       VARCHAR,
    local_level_code    VARCHAR,
    answered_count      INTEGER NOT NULL,
    economic_score      DOUBLE,
    social_score        DOUBLE,
    psychosocial_score  DOUBLE,
    composite_score     DOUBLE,
    config_version      VARCHAR NOT NULL
);
COMMENT ON TABLE core.followups IS 'Reintegration follow-up visits of linked survivors with their provisional scores. Grain: one row per follow-up visit (a linked record with record_kind followup). Follow-ups are not contact episodes and count in no episode or survivor measure.';
COMMENT ON COLUMN core.followups.record_token IS 'Record behind the visit: restricted, never published';
COMMENT ON COLUMN core.followups.survivor_id IS 'Survivor visited (a survivor with at least one contact episode)';
COMMENT ON COLUMN core.followups.visit_date IS 'Date of the follow-up visit (the record''s contact_date)';
COMMENT ON COLUMN core.followups.agency_type IS 'shelter | ocmc | migration (agency that made the visit)';
COMMENT ON COLUMN core.followups.province_code IS 'Survivor''s province of origin (core.survivors), so follow-up counts add up like survivor counts';
COMMENT ON COLUMN core.followups.district_code IS 'Survivor''s district of origin (core.survivors)';
COMMENT ON COLUMN core.followups.local_level_code IS 'Survivor''s local level of origin (core.survivors)';
COMMENT ON COLUMN core.followups.answered_count IS 'Indicators answered at the visit (answers off their scale count as unanswered)';
COMMENT ON COLUMN core.followups.economic_score IS 'Economic dimension score 0..1 (1 = best), NULL when no economic indicator was answered';
COMMENT ON COLUMN core.followups.social_score IS 'Social dimension score 0..1, NULL when none answered';
COMMENT ON COLUMN core.followups.psychosocial_score IS 'Psychosocial dimension score 0..1, NULL when none answered';
COMMENT ON COLUMN core.followups.composite_score IS 'Provisional composite reintegration score 0..1 (schemas.reintegration; not IOM''s score); NULL when fewer dimensions than the config''s minimum have a score';
COMMENT ON COLUMN core.followups.config_version IS 'Indicator config version used for scoring (e.g. v1)';
