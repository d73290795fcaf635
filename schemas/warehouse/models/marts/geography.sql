-- Grain: one row per place (nation, provinces, districts, local levels).
-- Places for labels and maps: core.geography without its level types.
INSERT INTO marts.geography BY NAME
SELECT geo_level, geo_code, parent_code, name_en, name_ne, population
FROM core.geography;
