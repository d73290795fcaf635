"""Read-only queries on `public.duckdb` (docs/interfaces.md section 4); no Streamlit here.

Every function takes an open DuckDB connection and returns published rows as they are: a
suppressed cell comes back with `value` NULL and `is_suppressed` true. Nothing here adds,
subtracts or otherwise derives a count the marts did not publish; the only derived numbers
are ratios of two published, unsuppressed values (`safe_ratio`) and rates per 100,000 from an
unsuppressed count and the published population.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd

from dashboards.population import with_population

PERIOD_TYPES = ("month", "quarter", "year", "bs_month", "bs_fiscal_year")
DEMOGRAPHIC_DIMENSIONS = ("sex", "age_band", "exploitation_type")
BREAKDOWN_DIMENSIONS = (
    "sex",
    "age_band",
    "exploitation_type",
    "destination_country",
    "agency_type",
)
HEADLINE_MEASURES = ("survivors", "new_survivors", "returning_survivors", "records")


@dataclass(frozen=True)
class Cell:
    """One published count: `value` is None exactly when the cell is suppressed."""

    value: int | None
    is_suppressed: bool

    @property
    def published(self) -> bool:
        return not self.is_suppressed and self.value is not None


MISSING = Cell(None, False)  # no row published at all (not the same as suppressed)


def connect(path: str) -> duckdb.DuckDBPyConnection:
    """Open the public file read-only (the pipeline swaps in new files; we never write)."""
    return duckdb.connect(path, read_only=True)


def _frame(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
) -> pd.DataFrame:
    return con.execute(sql, params or []).df()


def publication(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The single `publication` row (threshold, freshness, versions)."""
    frame = _frame(con, "SELECT * FROM publication LIMIT 1")
    if frame.empty:
        raise LookupError("public.duckdb has no publication row")
    return frame.iloc[0].to_dict()


def geography(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per place: geo_level, geo_code, parent_code, name_en, name_ne, population
    (the published one, else the 2021 census figure of `dashboards.population`)."""
    return with_population(
        _frame(
            con,
            "SELECT geo_level, geo_code, parent_code, name_en, name_ne, population FROM geography "
            "ORDER BY geo_level, geo_code",
        )
    )


def periods(con: duckdb.DuckDBPyConnection, period_type: str) -> list[str]:
    """Published period labels of one type, newest first."""
    frame = _frame(
        con,
        "SELECT period, max(period_start) AS start FROM survivor_statistics "
        "WHERE period_type = ? GROUP BY period ORDER BY start DESC, period DESC",
        [period_type],
    )
    return frame["period"].tolist()


def period_types(
    con: duckdb.DuckDBPyConnection, geo_level: str, table: str = "survivor_statistics"
) -> list[str]:
    """Period types `table` publishes at `geo_level` (totals), in `PERIOD_TYPES` order.

    Read from `published_grid`; a file published before that table existed offers all.
    """
    if not has_table(con, "published_grid"):
        return list(PERIOD_TYPES)
    found = set(
        _frame(
            con,
            "SELECT DISTINCT period_type FROM published_grid "
            "WHERE table_name = ? AND geo_level = ? AND dimension = 'all'",
            [table, geo_level],
        )["period_type"]
    )
    return [p for p in PERIOD_TYPES if p in found]


def breakdown_published(
    con: duckdb.DuckDBPyConnection, geo_level: str, period_type: str, dimension: str
) -> bool:
    """Whether survivor_statistics publishes `dimension` at this place level and period type."""
    if not has_table(con, "published_grid"):
        return True
    return not _frame(
        con,
        "SELECT 1 FROM published_grid WHERE table_name = 'survivor_statistics' "
        "AND geo_level = ? AND period_type = ? AND dimension = ?",
        [geo_level, period_type, dimension],
    ).empty


def categories(con: duckdb.DuckDBPyConnection, dimension: str) -> list[str]:
    """Category codes published for one breakdown dimension (sorted)."""
    frame = _frame(
        con,
        "SELECT DISTINCT category FROM survivor_statistics WHERE dimension = ? ORDER BY category",
        [dimension],
    )
    return frame["category"].tolist()


def headline(
    con: duckdb.DuckDBPyConnection,
    period_type: str,
    period: str,
    geo_level: str,
    geo_code: str,
    dimension: str = "all",
    category: str = "all",
) -> dict[str, Cell]:
    """Measure -> published cell, for one period, place and (dimension, category)."""
    frame = _frame(
        con,
        "SELECT measure, value, is_suppressed FROM survivor_statistics WHERE period_type = ? "
        "AND period = ? AND geo_level = ? AND geo_code = ? AND dimension = ? AND category = ?",
        [period_type, period, geo_level, geo_code, dimension, category],
    )
    cells = {
        row.measure: Cell(None if pd.isna(row.value) else int(row.value), bool(row.is_suppressed))
        for row in frame.itertuples()
    }
    return {measure: cells.get(measure, MISSING) for measure in HEADLINE_MEASURES}


def trend(
    con: duckdb.DuckDBPyConnection,
    period_type: str,
    geo_level: str,
    geo_code: str,
    dimension: str = "all",
    category: str = "all",
) -> pd.DataFrame:
    """One row per period x measure at one place: period, period_start, measure, value,
    is_suppressed (oldest first)."""
    return _frame(
        con,
        "SELECT period, period_start, measure, value, is_suppressed FROM survivor_statistics "
        "WHERE period_type = ? AND geo_level = ? AND geo_code = ? AND dimension = ? "
        "AND category = ? ORDER BY period_start, measure",
        [period_type, geo_level, geo_code, dimension, category],
    )


def breakdown(
    con: duckdb.DuckDBPyConnection,
    period_type: str,
    period: str,
    geo_level: str,
    geo_code: str,
    dimension: str,
    measure: str = "survivors",
) -> pd.DataFrame:
    """One row per category of one dimension: category, value, is_suppressed."""
    return _frame(
        con,
        "SELECT category, value, is_suppressed FROM survivor_statistics WHERE period_type = ? "
        "AND period = ? AND geo_level = ? AND geo_code = ? AND dimension = ? AND measure = ? "
        "ORDER BY value DESC NULLS LAST, category",
        [period_type, period, geo_level, geo_code, dimension, measure],
    )


def places_map(
    con: duckdb.DuckDBPyConnection,
    period_type: str,
    period: str,
    geo_level: str,
    parent_code: str | None,
    dimension: str = "all",
    category: str = "all",
    measure: str = "survivors",
) -> pd.DataFrame:
    """One row per place of `geo_level` (under `parent_code` when given), published or not:
    geo_code, name_en, name_ne, population, value, is_suppressed, has_row, rate_per_100k.

    The rate exists only for a published (unsuppressed) count and a known population.
    """
    frame = _frame(
        con,
        "SELECT g.geo_code, g.name_en, g.name_ne, g.population, s.value, "
        "coalesce(s.is_suppressed, false) AS is_suppressed, s.geo_code IS NOT NULL AS has_row "
        "FROM geography g LEFT JOIN survivor_statistics s ON s.geo_level = g.geo_level "
        "AND s.geo_code = g.geo_code AND s.period_type = ? AND s.period = ? "
        "AND s.dimension = ? AND s.category = ? AND s.measure = ? "
        "WHERE g.geo_level = ? AND (? IS NULL OR g.parent_code = ?) ORDER BY g.geo_code",
        [period_type, period, dimension, category, measure, geo_level, parent_code, parent_code],
    )
    frame = with_population(frame.assign(geo_level=geo_level)).drop(columns="geo_level")
    frame["rate_per_100k"] = [
        rate_per_100k(Cell(None if pd.isna(v) else int(v), bool(s)), p)
        for v, s, p in zip(frame["value"], frame["is_suppressed"], frame["population"], strict=True)
    ]
    return frame


def services(
    con: duckdb.DuckDBPyConnection,
    period_type: str,
    period: str,
    geo_level: str,
    geo_code: str,
) -> pd.DataFrame:
    """One row per service x measure: service_code, service_tier, measure, value,
    is_suppressed."""
    return _frame(
        con,
        "SELECT service_code, service_tier, measure, value, is_suppressed "
        "FROM service_statistics WHERE period_type = ? AND period = ? AND geo_level = ? "
        "AND geo_code = ? ORDER BY service_tier, service_code, measure",
        [period_type, period, geo_level, geo_code],
    )


def referrals(
    con: duckdb.DuckDBPyConnection,
    period_type: str,
    period: str,
    geo_level: str,
    geo_code: str,
    measure: str = "referrals",
) -> pd.DataFrame:
    """One row per (from, to) agency type: from_agency_type, to_agency_type, value,
    is_suppressed."""
    return _frame(
        con,
        "SELECT from_agency_type, to_agency_type, value, is_suppressed FROM referral_statistics "
        "WHERE period_type = ? AND period = ? AND geo_level = ? AND geo_code = ? "
        "AND measure = ? ORDER BY from_agency_type, to_agency_type",
        [period_type, period, geo_level, geo_code, measure],
    )


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    frame = _frame(
        con, "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]
    )
    return set(frame["column_name"])


def quality(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per month x source_type x metric: month, source_type, metric, value,
    is_suppressed (newest month first)."""
    # The interface names the grain "month" but not the column; accept `period` or `month`.
    month = "period" if "period" in _columns(con, "quality_statistics") else "month"
    sql = (
        f"SELECT CAST({month} AS VARCHAR) AS month, source_type, metric, value, is_suppressed "  # noqa: S608 - column name from a fixed pair
        f"FROM quality_statistics ORDER BY month DESC, source_type, metric"
    )
    return _frame(con, sql)


def quarantine_reasons(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per source_type x rule: source_type, rule, value, is_suppressed."""
    return _frame(
        con,
        "SELECT source_type, rule, value, is_suppressed FROM quarantine_reasons "
        "ORDER BY source_type, rule",
    )


def safe_ratio(numerator: Cell, denominator: Cell) -> float | None:
    """numerator / denominator, only when both are published and the denominator is > 0.

    A suppressed operand gives None (shown as suppressed), never an estimate.
    """
    if not (numerator.published and denominator.published) or not denominator.value:
        return None
    return numerator.value / denominator.value  # type: ignore[operator]


def rate_per_100k(count: Cell, population: Any) -> float | None:
    """Published count per 100,000 people; None when suppressed or population unknown."""
    if not count.published or population is None or pd.isna(population) or population <= 0:
        return None
    return count.value * 100_000 / float(population)  # type: ignore[operator]


# --- reintegration: reintegration_statistics, followup_coverage ------------------------------

SCORE_DIMENSIONS = ("composite", "economic", "social", "psychosocial")
SCORE_BANDS = ("score_band_0_25", "score_band_25_50", "score_band_50_75", "score_band_75_100")
COVERAGE_MEASURES = ("survivors_first_contact", "followed_within_6m", "followed_within_12m")


def has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether the public file has `table` (older published files lack some)."""
    return bool(_columns(con, table))


def reintegration(
    con: duckdb.DuckDBPyConnection,
    period_type: str,
    period: str,
    geo_level: str,
    geo_code: str,
    dimension: str = "all",
    category: str = "all",
) -> pd.DataFrame:
    """One row per score_dimension x measure for one period, place and (dimension,
    category): score_dimension, measure, value, is_suppressed."""
    return _frame(
        con,
        "SELECT score_dimension, measure, value, is_suppressed FROM reintegration_statistics "
        "WHERE period_type = ? AND period = ? AND geo_level = ? AND geo_code = ? "
        "AND dimension = ? AND category = ? ORDER BY score_dimension, measure",
        [period_type, period, geo_level, geo_code, dimension, category],
    )


def reintegration_trend(
    con: duckdb.DuckDBPyConnection,
    period_type: str,
    geo_level: str,
    geo_code: str,
    dimension: str = "all",
    category: str = "all",
) -> pd.DataFrame:
    """One row per period x score_dimension x measure (`survivors_scored`,
    `mean_score_pct`) at one place: period, period_start, score_dimension, measure, value,
    is_suppressed (oldest first)."""
    return _frame(
        con,
        "SELECT period, period_start, score_dimension, measure, value, is_suppressed "
        "FROM reintegration_statistics WHERE period_type = ? AND geo_level = ? AND geo_code = ? "
        "AND dimension = ? AND category = ? AND measure IN ('survivors_scored', 'mean_score_pct') "
        "ORDER BY period_start, score_dimension, measure",
        [period_type, geo_level, geo_code, dimension, category],
    )


def followup_coverage(
    con: duckdb.DuckDBPyConnection, period_type: str, geo_level: str, geo_code: str
) -> pd.DataFrame:
    """One row per first-contact cohort period x measure at one place (national/province):
    period, period_start, measure, value, is_suppressed (newest cohort first)."""
    return _frame(
        con,
        "SELECT period, period_start, measure, value, is_suppressed FROM followup_coverage "
        "WHERE period_type = ? AND geo_level = ? AND geo_code = ? "
        "ORDER BY period_start DESC, measure",
        [period_type, geo_level, geo_code],
    )


def referral_pairs(
    con: duckdb.DuckDBPyConnection,
    period_type: str,
    period: str,
    geo_level: str,
    geo_code: str,
) -> pd.DataFrame:
    """One row per (from, to) agency type with both measures side by side:
    from_agency_type, to_agency_type, referrals, referrals_suppressed, confirmed,
    confirmed_suppressed (NULL counts where suppressed or not published)."""
    return _frame(
        con,
        "SELECT from_agency_type, to_agency_type, "
        "max(value) FILTER (WHERE measure = 'referrals') AS referrals, "
        "coalesce(bool_or(is_suppressed) FILTER (WHERE measure = 'referrals'), false) "
        "AS referrals_suppressed, "
        "max(value) FILTER (WHERE measure = 'referrals_confirmed') AS confirmed, "
        "coalesce(bool_or(is_suppressed) FILTER (WHERE measure = 'referrals_confirmed'), false) "
        "AS confirmed_suppressed "
        "FROM referral_statistics WHERE period_type = ? AND period = ? AND geo_level = ? "
        "AND geo_code = ? GROUP BY from_agency_type, to_agency_type "
        "ORDER BY from_agency_type, to_agency_type",
        [period_type, period, geo_level, geo_code],
    )


def cell_from(frame: pd.DataFrame, **where: str) -> Cell:
    """The one published cell of `frame` matching `where` (column -> value), else MISSING."""
    mask = pd.Series(True, index=frame.index)
    for column, value in where.items():
        mask &= frame[column] == value
    rows = frame[mask]
    if rows.empty:
        return MISSING
    row = rows.iloc[0]
    value = None if pd.isna(row["value"]) else int(row["value"])
    return Cell(value, bool(row["is_suppressed"]))
