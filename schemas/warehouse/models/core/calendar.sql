-- Grain: one row per calendar day (AD) from the first to the last contact date.
-- Date dimension from the temp view `calendar_source` (AD and Bikram Sambat labels computed
-- in Python by schemas.calendar, registered by pipelines/defs/core/build.py).
INSERT INTO core.calendar BY NAME
SELECT calendar_date, month, month_start, quarter, quarter_start, year, year_start,
    bs_month, bs_month_start, bs_fiscal_year, bs_fiscal_year_start
FROM calendar_source
ORDER BY calendar_date;
