-- Grain: one row per calendar day x period type (month, quarter, year, bs_month, bs_fiscal_year).
-- Temporary view shared by the mart models (dropped at the end of the build): the period of
-- each type that a day falls in.
CREATE OR REPLACE TEMP VIEW period_days AS
SELECT calendar_date, 'month' AS period_type, month AS period, month_start AS period_start
FROM core.calendar
UNION ALL SELECT calendar_date, 'quarter', quarter, quarter_start FROM core.calendar
UNION ALL SELECT calendar_date, 'year', year, year_start FROM core.calendar
UNION ALL SELECT calendar_date, 'bs_month', bs_month, bs_month_start FROM core.calendar
UNION ALL SELECT calendar_date, 'bs_fiscal_year', bs_fiscal_year, bs_fiscal_year_start
FROM core.calendar;
