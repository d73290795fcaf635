-- Grain: one row per place (the nation, 7 provinces, 77 districts, 753 local levels).
-- Reference geography of Nepal, from the temp view `geography_source` (schemas.geography,
-- registered by pipelines/defs/core/build.py).
INSERT INTO core.geography BY NAME
SELECT geo_level, geo_code, parent_code, name_en, name_ne, level_type, population
FROM geography_source;
