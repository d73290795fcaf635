-- Staging: one table per source type, the rows of accepted batches that passed validation.
-- Renames and casts only, no joins (dbt's staging layer). Columns are the pseudonymised batch
-- of docs/interfaces.md section 2 plus where each row came from. Grain: one row per record
-- per batch (an agency re-sending a record in a later batch gives a second row, told apart by
-- batch_id). Bloom filters stay BLOB: `CAST(col AS BIT)` then `bit_count` to compare.
-- Idempotent DDL, applied on every connection that writes.

CREATE SCHEMA IF NOT EXISTS staging;

CREATE TABLE IF NOT EXISTS staging.shelter (
    record_token            VARCHAR NOT NULL,
    record_kind             VARCHAR,
    source_row              INTEGER NOT NULL,
    given_name_bf           BLOB,
    family_name_bf          BLOB,
    father_name_bf          BLOB,
    full_name_bf            BLOB,
    given_name_key          VARCHAR,
    family_name_key         VARCHAR,
    full_name_key           VARCHAR,
    name_set_key            VARCHAR,
    name_edit_tokens        VARCHAR[],
    birth_year_token        VARCHAR,
    birth_year_pm1_tokens   VARCHAR[],
    birth_year_pm2_tokens   VARCHAR[],
    birth_date_token        VARCHAR,
    birth_window_tokens     VARCHAR[],
    birth_day_token         VARCHAR,
    sex_token               VARCHAR,
    district_token          VARCHAR,
    ward_token              VARCHAR,
    citizenship_token       VARCHAR,
    passport_token          VARCHAR,
    citizenship_edit_tokens VARCHAR[],
    passport_edit_tokens    VARCHAR[],
    phone_token             VARCHAR,
    sex                     VARCHAR,
    age_band                VARCHAR,
    birth_precision         VARCHAR,
    province_code           VARCHAR,
    district_code           VARCHAR,
    local_level_code        VARCHAR,
    caste_ethnicity         VARCHAR,
    contact_date            DATE NOT NULL,
    exploitation_type       VARCHAR,
    destination_country     VARCHAR,
    services                VARCHAR[],
    referred_from           VARCHAR,
    referred_to             VARCHAR,
    -- follow-up answers (contract 1.1, schemas/reintegration/indicators-v1.yaml)
    ri_income               VARCHAR,
    ri_work                 VARCHAR,
    ri_debt                 VARCHAR,
    ri_food_security        VARCHAR,
    ri_financial_access     VARCHAR,
    ri_family_acceptance    VARCHAR,
    ri_housing              VARCHAR,
    ri_documents            VARCHAR,
    ri_services_access      VARCHAR,
    ri_discrimination       VARCHAR,
    ri_wellbeing            VARCHAR,
    ri_stress               VARCHAR,
    ri_safety               VARCHAR,
    ri_support_network      VARCHAR,
    -- contract 1.2: linkage_and_statistics | statistics_only (NULL read as the former)
    consent_scope           VARCHAR,
    batch_id                VARCHAR NOT NULL,
    agency_id               VARCHAR NOT NULL,
    source_type             VARCHAR NOT NULL,
    loaded_at               TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (batch_id, source_row)
);

CREATE TABLE IF NOT EXISTS staging.ocmc (
    record_token            VARCHAR NOT NULL,
    record_kind             VARCHAR,
    source_row              INTEGER NOT NULL,
    given_name_bf           BLOB,
    family_name_bf          BLOB,
    father_name_bf          BLOB,
    full_name_bf            BLOB,
    given_name_key          VARCHAR,
    family_name_key         VARCHAR,
    full_name_key           VARCHAR,
    name_set_key            VARCHAR,
    name_edit_tokens        VARCHAR[],
    birth_year_token        VARCHAR,
    birth_year_pm1_tokens   VARCHAR[],
    birth_year_pm2_tokens   VARCHAR[],
    birth_date_token        VARCHAR,
    birth_window_tokens     VARCHAR[],
    birth_day_token         VARCHAR,
    sex_token               VARCHAR,
    district_token          VARCHAR,
    ward_token              VARCHAR,
    citizenship_token       VARCHAR,
    passport_token          VARCHAR,
    citizenship_edit_tokens VARCHAR[],
    passport_edit_tokens    VARCHAR[],
    phone_token             VARCHAR,
    sex                     VARCHAR,
    age_band                VARCHAR,
    birth_precision         VARCHAR,
    province_code           VARCHAR,
    district_code           VARCHAR,
    local_level_code        VARCHAR,
    caste_ethnicity         VARCHAR,
    contact_date            DATE NOT NULL,
    exploitation_type       VARCHAR,
    destination_country     VARCHAR,
    services                VARCHAR[],
    referred_from           VARCHAR,
    referred_to             VARCHAR,
    -- follow-up answers (contract 1.1, schemas/reintegration/indicators-v1.yaml)
    ri_income               VARCHAR,
    ri_work                 VARCHAR,
    ri_debt                 VARCHAR,
    ri_food_security        VARCHAR,
    ri_financial_access     VARCHAR,
    ri_family_acceptance    VARCHAR,
    ri_housing              VARCHAR,
    ri_documents            VARCHAR,
    ri_services_access      VARCHAR,
    ri_discrimination       VARCHAR,
    ri_wellbeing            VARCHAR,
    ri_stress               VARCHAR,
    ri_safety               VARCHAR,
    ri_support_network      VARCHAR,
    -- contract 1.2: linkage_and_statistics | statistics_only (NULL read as the former)
    consent_scope           VARCHAR,
    batch_id                VARCHAR NOT NULL,
    agency_id               VARCHAR NOT NULL,
    source_type             VARCHAR NOT NULL,
    loaded_at               TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (batch_id, source_row)
);

CREATE TABLE IF NOT EXISTS staging.migration (
    record_token            VARCHAR NOT NULL,
    record_kind             VARCHAR,
    source_row              INTEGER NOT NULL,
    given_name_bf           BLOB,
    family_name_bf          BLOB,
    father_name_bf          BLOB,
    full_name_bf            BLOB,
    given_name_key          VARCHAR,
    family_name_key         VARCHAR,
    full_name_key           VARCHAR,
    name_set_key            VARCHAR,
    name_edit_tokens        VARCHAR[],
    birth_year_token        VARCHAR,
    birth_year_pm1_tokens   VARCHAR[],
    birth_year_pm2_tokens   VARCHAR[],
    birth_date_token        VARCHAR,
    birth_window_tokens     VARCHAR[],
    birth_day_token         VARCHAR,
    sex_token               VARCHAR,
    district_token          VARCHAR,
    ward_token              VARCHAR,
    citizenship_token       VARCHAR,
    passport_token          VARCHAR,
    citizenship_edit_tokens VARCHAR[],
    passport_edit_tokens    VARCHAR[],
    phone_token             VARCHAR,
    sex                     VARCHAR,
    age_band                VARCHAR,
    birth_precision         VARCHAR,
    province_code           VARCHAR,
    district_code           VARCHAR,
    local_level_code        VARCHAR,
    caste_ethnicity         VARCHAR,
    contact_date            DATE NOT NULL,
    exploitation_type       VARCHAR,
    destination_country     VARCHAR,
    services                VARCHAR[],
    referred_from           VARCHAR,
    referred_to             VARCHAR,
    -- follow-up answers (contract 1.1, schemas/reintegration/indicators-v1.yaml)
    ri_income               VARCHAR,
    ri_work                 VARCHAR,
    ri_debt                 VARCHAR,
    ri_food_security        VARCHAR,
    ri_financial_access     VARCHAR,
    ri_family_acceptance    VARCHAR,
    ri_housing              VARCHAR,
    ri_documents            VARCHAR,
    ri_services_access      VARCHAR,
    ri_discrimination       VARCHAR,
    ri_wellbeing            VARCHAR,
    ri_stress               VARCHAR,
    ri_safety               VARCHAR,
    ri_support_network      VARCHAR,
    -- contract 1.2: linkage_and_statistics | statistics_only (NULL read as the former)
    consent_scope           VARCHAR,
    batch_id                VARCHAR NOT NULL,
    agency_id               VARCHAR NOT NULL,
    source_type             VARCHAR NOT NULL,
    loaded_at               TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (batch_id, source_row)
);

-- Warehouses created before contract 1.1 gain the follow-up answer columns.
ALTER TABLE staging.shelter ADD COLUMN IF NOT EXISTS ri_income VARCHAR;
ALTER TABLE staging.shelter ADD COLUMN IF NOT EXISTS ri_work VARCHAR;
ALTER TABLE staging.shelter ADD COLUMN IF NOT EXISTS ri_debt VARCHAR;
ALTER TABLE staging.shelter ADD COLUMN IF NOT EXISTS ri_food_security VARCHAR;
ALTER TABLE staging.shelter ADD COLUMN IF NOT EXISTS ri_financial_access VARCHAR;
ALTER TABLE staging.shelter ADD COLUMN IF NOT EXISTS ri_family_acceptance VARCHAR;
ALTER TABLE staging.shelter ADD COLUMN IF NOT EXISTS ri_housing VARCHAR;
ALTER TABLE staging.shelter ADD COLUMN IF NOT EXISTS ri_documents VARCHAR;
ALTER TABLE staging.shelter ADD COLUMN IF NOT EXISTS ri_services_access VARCHAR;
ALTER TABLE staging.shelter ADD COLUMN IF NOT EXISTS ri_discrimination VARCHAR;
ALTER TABLE staging.shelter ADD COLUMN IF NOT EXISTS ri_wellbeing VARCHAR;
ALTER TABLE staging.shelter ADD COLUMN IF NOT EXISTS ri_stress VARCHAR;
ALTER TABLE staging.shelter ADD COLUMN IF NOT EXISTS ri_safety VARCHAR;
ALTER TABLE staging.shelter ADD COLUMN IF NOT EXISTS ri_support_network VARCHAR;
ALTER TABLE staging.ocmc ADD COLUMN IF NOT EXISTS ri_income VARCHAR;
ALTER TABLE staging.ocmc ADD COLUMN IF NOT EXISTS ri_work VARCHAR;
ALTER TABLE staging.ocmc ADD COLUMN IF NOT EXISTS ri_debt VARCHAR;
ALTER TABLE staging.ocmc ADD COLUMN IF NOT EXISTS ri_food_security VARCHAR;
ALTER TABLE staging.ocmc ADD COLUMN IF NOT EXISTS ri_financial_access VARCHAR;
ALTER TABLE staging.ocmc ADD COLUMN IF NOT EXISTS ri_family_acceptance VARCHAR;
ALTER TABLE staging.ocmc ADD COLUMN IF NOT EXISTS ri_housing VARCHAR;
ALTER TABLE staging.ocmc ADD COLUMN IF NOT EXISTS ri_documents VARCHAR;
ALTER TABLE staging.ocmc ADD COLUMN IF NOT EXISTS ri_services_access VARCHAR;
ALTER TABLE staging.ocmc ADD COLUMN IF NOT EXISTS ri_discrimination VARCHAR;
ALTER TABLE staging.ocmc ADD COLUMN IF NOT EXISTS ri_wellbeing VARCHAR;
ALTER TABLE staging.ocmc ADD COLUMN IF NOT EXISTS ri_stress VARCHAR;
ALTER TABLE staging.ocmc ADD COLUMN IF NOT EXISTS ri_safety VARCHAR;
ALTER TABLE staging.ocmc ADD COLUMN IF NOT EXISTS ri_support_network VARCHAR;
ALTER TABLE staging.migration ADD COLUMN IF NOT EXISTS ri_income VARCHAR;
ALTER TABLE staging.migration ADD COLUMN IF NOT EXISTS ri_work VARCHAR;
ALTER TABLE staging.migration ADD COLUMN IF NOT EXISTS ri_debt VARCHAR;
ALTER TABLE staging.migration ADD COLUMN IF NOT EXISTS ri_food_security VARCHAR;
ALTER TABLE staging.migration ADD COLUMN IF NOT EXISTS ri_financial_access VARCHAR;
ALTER TABLE staging.migration ADD COLUMN IF NOT EXISTS ri_family_acceptance VARCHAR;
ALTER TABLE staging.migration ADD COLUMN IF NOT EXISTS ri_housing VARCHAR;
ALTER TABLE staging.migration ADD COLUMN IF NOT EXISTS ri_documents VARCHAR;
ALTER TABLE staging.migration ADD COLUMN IF NOT EXISTS ri_services_access VARCHAR;
ALTER TABLE staging.migration ADD COLUMN IF NOT EXISTS ri_discrimination VARCHAR;
ALTER TABLE staging.migration ADD COLUMN IF NOT EXISTS ri_wellbeing VARCHAR;
ALTER TABLE staging.migration ADD COLUMN IF NOT EXISTS ri_stress VARCHAR;
ALTER TABLE staging.migration ADD COLUMN IF NOT EXISTS ri_safety VARCHAR;
ALTER TABLE staging.migration ADD COLUMN IF NOT EXISTS ri_support_network VARCHAR;

-- Warehouses created before the order-free name key, the ward token and the ID edit tokens
-- (one-deletion variants of ID numbers) gain them.
ALTER TABLE staging.shelter ADD COLUMN IF NOT EXISTS name_set_key VARCHAR;
ALTER TABLE staging.ocmc ADD COLUMN IF NOT EXISTS name_set_key VARCHAR;
ALTER TABLE staging.migration ADD COLUMN IF NOT EXISTS name_set_key VARCHAR;
ALTER TABLE staging.shelter ADD COLUMN IF NOT EXISTS citizenship_edit_tokens VARCHAR[];
ALTER TABLE staging.shelter ADD COLUMN IF NOT EXISTS passport_edit_tokens VARCHAR[];
ALTER TABLE staging.ocmc ADD COLUMN IF NOT EXISTS citizenship_edit_tokens VARCHAR[];
ALTER TABLE staging.ocmc ADD COLUMN IF NOT EXISTS passport_edit_tokens VARCHAR[];
ALTER TABLE staging.migration ADD COLUMN IF NOT EXISTS citizenship_edit_tokens VARCHAR[];
ALTER TABLE staging.migration ADD COLUMN IF NOT EXISTS passport_edit_tokens VARCHAR[];
ALTER TABLE staging.shelter ADD COLUMN IF NOT EXISTS ward_token VARCHAR;
ALTER TABLE staging.ocmc ADD COLUMN IF NOT EXISTS ward_token VARCHAR;
ALTER TABLE staging.migration ADD COLUMN IF NOT EXISTS ward_token VARCHAR;

-- Warehouses created before contract 1.2 gain the consent scope (NULL: linkage_and_statistics).
ALTER TABLE staging.shelter ADD COLUMN IF NOT EXISTS consent_scope VARCHAR;
ALTER TABLE staging.ocmc ADD COLUMN IF NOT EXISTS consent_scope VARCHAR;
ALTER TABLE staging.migration ADD COLUMN IF NOT EXISTS consent_scope VARCHAR;
-- Warehouses created before pahichan-enc-2 (keyed birth-year windows) gain its columns.
ALTER TABLE staging.shelter ADD COLUMN IF NOT EXISTS birth_window_tokens VARCHAR[];
ALTER TABLE staging.ocmc ADD COLUMN IF NOT EXISTS birth_window_tokens VARCHAR[];
ALTER TABLE staging.migration ADD COLUMN IF NOT EXISTS birth_window_tokens VARCHAR[];
ALTER TABLE staging.shelter ADD COLUMN IF NOT EXISTS birth_day_token VARCHAR;
ALTER TABLE staging.ocmc ADD COLUMN IF NOT EXISTS birth_day_token VARCHAR;
ALTER TABLE staging.migration ADD COLUMN IF NOT EXISTS birth_day_token VARCHAR;
-- Warehouses created before pahichan-enc-3 (name edit tokens, issue 18) gain its column.
ALTER TABLE staging.shelter ADD COLUMN IF NOT EXISTS name_edit_tokens VARCHAR[];
ALTER TABLE staging.ocmc ADD COLUMN IF NOT EXISTS name_edit_tokens VARCHAR[];
ALTER TABLE staging.migration ADD COLUMN IF NOT EXISTS name_edit_tokens VARCHAR[];
