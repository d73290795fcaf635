-- Marts: aggregate statistics before disclosure control, rebuilt from core on every run.
-- Restricted: values here are NOT suppressed. `publish` applies disclosure control and writes
-- the same layout (plus is_suppressed / suppression) to public.duckdb.
-- Places: survivors are counted at their survivor-level place of origin (core.survivors),
-- so each survivor is in one place and geography totals are exact sums; rows for unknown
-- places are not published (the national/province total still counts them).

CREATE SCHEMA marts;

CREATE TABLE marts.survivor_statistics (
    period_type VARCHAR NOT NULL,
    period      VARCHAR NOT NULL,
    period_start DATE NOT NULL,
    geo_level   VARCHAR NOT NULL,
    geo_code    VARCHAR NOT NULL,
    dimension   VARCHAR NOT NULL,
    category    VARCHAR NOT NULL,
    measure     VARCHAR NOT NULL,
    value       BIGINT NOT NULL
);
COMMENT ON TABLE marts.survivor_statistics IS 'Survivor counts. Grain: one row per period x place x (dimension, category) x measure, one breakdown dimension at a time; zero cells are absent.';
COMMENT ON COLUMN marts.survivor_statistics.period_type IS 'month | quarter | year | bs_month | bs_fiscal_year';
COMMENT ON COLUMN marts.survivor_statistics.period IS 'Label: 2024-03, 2024-Q1, 2024, 2081-04 (BS month), 2081/82 (BS fiscal year from 1 Shrawan)';
COMMENT ON COLUMN marts.survivor_statistics.period_start IS 'First day of the period (AD)';
COMMENT ON COLUMN marts.survivor_statistics.geo_level IS 'national | province | district | local_level (place of origin)';
COMMENT ON COLUMN marts.survivor_statistics.geo_code IS 'NP, 1..7, 3-digit district or 5-digit local level code';
COMMENT ON COLUMN marts.survivor_statistics.dimension IS 'all | sex | age_band | exploitation_type | destination_country | agency_type';
COMMENT ON COLUMN marts.survivor_statistics.category IS 'Category of the dimension (all for dimension all; unknown when not recorded). Sex is the survivor''s; other dimensions come from the first counted episode in the period, so categories add up to all';
COMMENT ON COLUMN marts.survivor_statistics.measure IS 'survivors (unique, with an episode in the period) | new_survivors (first-ever episode in the period) | returning_survivors (episode in the period at least 6 months after an earlier one) | records (episode records before deduplication)';
COMMENT ON COLUMN marts.survivor_statistics.value IS 'The count';

CREATE TABLE marts.service_statistics (
    period_type  VARCHAR NOT NULL,
    period       VARCHAR NOT NULL,
    period_start DATE NOT NULL,
    geo_level    VARCHAR NOT NULL,
    geo_code     VARCHAR NOT NULL,
    service_code VARCHAR NOT NULL,
    service_tier VARCHAR,
    measure      VARCHAR NOT NULL,
    value        BIGINT NOT NULL
);
COMMENT ON TABLE marts.service_statistics IS 'Services given. Grain: one row per period x place (national, province, district) x service_code x measure; zero cells are absent.';
COMMENT ON COLUMN marts.service_statistics.period_type IS 'month | quarter | year | bs_month | bs_fiscal_year';
COMMENT ON COLUMN marts.service_statistics.period IS 'Period label (as in survivor_statistics)';
COMMENT ON COLUMN marts.service_statistics.period_start IS 'First day of the period (AD)';
COMMENT ON COLUMN marts.service_statistics.geo_level IS 'national | province | district';
COMMENT ON COLUMN marts.service_statistics.geo_code IS 'NP, 1..7 or 3-digit district code (survivor''s place of origin)';
COMMENT ON COLUMN marts.service_statistics.service_code IS 'Service code';
COMMENT ON COLUMN marts.service_statistics.service_tier IS 'immediate | short_term | long_term';
COMMENT ON COLUMN marts.service_statistics.measure IS 'survivors_served (unique survivors given the service) | services_given (episode x service)';
COMMENT ON COLUMN marts.service_statistics.value IS 'The count';

CREATE TABLE marts.referral_statistics (
    period_type      VARCHAR NOT NULL,
    period           VARCHAR NOT NULL,
    period_start     DATE NOT NULL,
    geo_level        VARCHAR NOT NULL,
    geo_code         VARCHAR NOT NULL,
    from_agency_type VARCHAR NOT NULL,
    to_agency_type   VARCHAR NOT NULL,
    measure          VARCHAR NOT NULL,
    value            BIGINT NOT NULL
);
COMMENT ON TABLE marts.referral_statistics IS 'Referrals between agency types. Grain: one row per period x place (national, province) x from_agency_type x to_agency_type x measure.';
COMMENT ON COLUMN marts.referral_statistics.period_type IS 'month | quarter | year | bs_month | bs_fiscal_year';
COMMENT ON COLUMN marts.referral_statistics.period IS 'Period label (as in survivor_statistics)';
COMMENT ON COLUMN marts.referral_statistics.period_start IS 'First day of the period (AD)';
COMMENT ON COLUMN marts.referral_statistics.geo_level IS 'national | province';
COMMENT ON COLUMN marts.referral_statistics.geo_code IS 'NP or 1..7 (survivor''s province of origin)';
COMMENT ON COLUMN marts.referral_statistics.from_agency_type IS 'Referring agency type';
COMMENT ON COLUMN marts.referral_statistics.to_agency_type IS 'Receiving agency type';
COMMENT ON COLUMN marts.referral_statistics.measure IS 'referrals (recorded referrals, outgoing and incoming) | referrals_confirmed (confirmed by an episode at the other agency type)';
COMMENT ON COLUMN marts.referral_statistics.value IS 'The count';

CREATE TABLE marts.quality_statistics (
    period_type  VARCHAR NOT NULL,
    period       VARCHAR NOT NULL,
    period_start DATE NOT NULL,
    source_type  VARCHAR NOT NULL,
    metric       VARCHAR NOT NULL,
    value        BIGINT NOT NULL
);
COMMENT ON TABLE marts.quality_statistics IS 'Pipeline data quality. Grain: one row per month (of receipt) x source_type x metric.';
COMMENT ON COLUMN marts.quality_statistics.period_type IS 'month';
COMMENT ON COLUMN marts.quality_statistics.period IS 'Month label, e.g. 2024-03';
COMMENT ON COLUMN marts.quality_statistics.period_start IS 'First day of the month';
COMMENT ON COLUMN marts.quality_statistics.source_type IS 'shelter | ocmc | migration';
COMMENT ON COLUMN marts.quality_statistics.metric IS 'batches_received | batches_accepted | batches_rejected | rows_received | rows_loaded | rows_quarantined | auto_links | review_pairs';
COMMENT ON COLUMN marts.quality_statistics.value IS 'The count';

CREATE TABLE marts.quarantine_reasons (
    source_type VARCHAR NOT NULL,
    rule        VARCHAR NOT NULL,
    value       BIGINT NOT NULL
);
COMMENT ON TABLE marts.quarantine_reasons IS 'Why rows were quarantined. Grain: one row per source_type x validation rule (rows failing it).';
COMMENT ON COLUMN marts.quarantine_reasons.source_type IS 'shelter | ocmc | migration';
COMMENT ON COLUMN marts.quarantine_reasons.rule IS 'Validation rule name';
COMMENT ON COLUMN marts.quarantine_reasons.value IS 'Distinct quarantined rows failing the rule';

CREATE TABLE marts.geography (
    geo_level   VARCHAR NOT NULL,
    geo_code    VARCHAR NOT NULL,
    parent_code VARCHAR,
    name_en     VARCHAR NOT NULL,
    name_ne     VARCHAR,
    population  BIGINT
);
COMMENT ON TABLE marts.geography IS 'Places for labels and maps. Grain: one row per place (nation, provinces, districts, local levels).';
COMMENT ON COLUMN marts.geography.geo_level IS 'national | province | district | local_level';
COMMENT ON COLUMN marts.geography.geo_code IS 'NP, 1..7, 3-digit district or 5-digit local level code';
COMMENT ON COLUMN marts.geography.parent_code IS 'Code of the enclosing place';
COMMENT ON COLUMN marts.geography.name_en IS 'English name';
COMMENT ON COLUMN marts.geography.name_ne IS 'Nepali name';
COMMENT ON COLUMN marts.geography.population IS 'Population where known; NULL otherwise';

CREATE TABLE marts.reintegration_statistics (
    period_type     VARCHAR NOT NULL,
    period          VARCHAR NOT NULL,
    period_start    DATE NOT NULL,
    geo_level       VARCHAR NOT NULL,
    geo_code        VARCHAR NOT NULL,
    dimension       VARCHAR NOT NULL,
    category        VARCHAR NOT NULL,
    score_dimension VARCHAR NOT NULL,
    measure         VARCHAR NOT NULL,
    value           BIGINT NOT NULL
);
COMMENT ON TABLE marts.reintegration_statistics IS 'Reintegration scores of followed-up survivors. Grain: one row per period x place (national, province, district) x (dimension, category) x score_dimension x measure; zero cells are absent. Each survivor counts once per period, with the latest follow-up in the period that has a score for the score_dimension.';
COMMENT ON COLUMN marts.reintegration_statistics.period_type IS 'month | quarter | year | bs_month | bs_fiscal_year (districts: quarter, year, bs_fiscal_year)';
COMMENT ON COLUMN marts.reintegration_statistics.period IS 'Period label (as in survivor_statistics)';
COMMENT ON COLUMN marts.reintegration_statistics.period_start IS 'First day of the period (AD)';
COMMENT ON COLUMN marts.reintegration_statistics.geo_level IS 'national | province | district (survivor''s place of origin)';
COMMENT ON COLUMN marts.reintegration_statistics.geo_code IS 'NP, 1..7 or 3-digit district code';
COMMENT ON COLUMN marts.reintegration_statistics.dimension IS 'all | sex | age_band | exploitation_type | destination_country | agency_type | services_received';
COMMENT ON COLUMN marts.reintegration_statistics.category IS 'Category of the dimension: sex and age band (at first contact) of the survivor; exploitation type and destination of the first episode; agency type of the follow-up visit; services_received: the highest service tier (long_term, short_term, immediate, none) received in episodes up to the visit. Categories add up to all';
COMMENT ON COLUMN marts.reintegration_statistics.score_dimension IS 'composite | economic | social | psychosocial';
COMMENT ON COLUMN marts.reintegration_statistics.measure IS 'survivors_scored | score_band_0_25 | score_band_25_50 | score_band_50_75 | score_band_75_100 (score x 100 in [0,25), [25,50), [50,75), [75,100]) | mean_score_pct (mean score x 100, rounded)';
COMMENT ON COLUMN marts.reintegration_statistics.value IS 'The count (or the rounded mean for mean_score_pct)';

CREATE TABLE marts.followup_coverage (
    period_type  VARCHAR NOT NULL,
    period       VARCHAR NOT NULL,
    period_start DATE NOT NULL,
    geo_level    VARCHAR NOT NULL,
    geo_code     VARCHAR NOT NULL,
    measure      VARCHAR NOT NULL,
    value        BIGINT NOT NULL
);
COMMENT ON TABLE marts.followup_coverage IS 'Follow-up coverage of first-contact cohorts. Grain: one row per cohort period (of the first-ever episode) x place (national, province) x measure.';
COMMENT ON COLUMN marts.followup_coverage.period_type IS 'month | quarter | year | bs_month | bs_fiscal_year';
COMMENT ON COLUMN marts.followup_coverage.period IS 'Cohort period label (as in survivor_statistics)';
COMMENT ON COLUMN marts.followup_coverage.period_start IS 'First day of the cohort period (AD)';
COMMENT ON COLUMN marts.followup_coverage.geo_level IS 'national | province';
COMMENT ON COLUMN marts.followup_coverage.geo_code IS 'NP or 1..7 (survivor''s province of origin)';
COMMENT ON COLUMN marts.followup_coverage.measure IS 'survivors_first_contact (first-ever episode in the period) | followed_within_6m | followed_within_12m (a follow-up visit within 6 / 12 months after the first contact)';
COMMENT ON COLUMN marts.followup_coverage.value IS 'The count';
