"""Marts against direct counts from core on the small fixture."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.defs.core.build import build_core
from pipelines.defs.marts.build import (
    BREAKDOWN_PERIOD_TYPES,
    PERIOD_TYPES_BY_LEVEL,
    build_marts,
    survivor_cell_published,
)
from tests.pipelines.warehouse_fixtures import build_warehouse


@pytest.fixture(scope="module")
def con():
    connection = duckdb.connect()
    build_warehouse(connection, people=80)
    build_core(connection)
    build_marts(connection)
    yield connection
    connection.close()


def _mart(con, **where):
    clauses = " AND ".join(f"{k} = ?" for k in where)
    return dict(
        con.execute(
            f"SELECT period, value FROM marts.survivor_statistics WHERE {clauses}",  # noqa: S608
            list(where.values()),
        ).fetchall()
    )


def test_unique_survivors_per_year_match_core(con):
    direct = dict(
        con.execute(
            "SELECT strftime(contact_date, '%Y'), count(DISTINCT survivor_id) FROM core.episodes "
            "GROUP BY 1"
        ).fetchall()
    )
    assert (
        _mart(con, period_type="year", geo_code="NP", dimension="all", measure="survivors")
        == direct
    )


def test_records_per_district_and_year_match_core(con):
    direct = dict(
        con.execute(
            "SELECT c.year, count(*) FROM core.episodes e "
            "JOIN core.survivors s USING (survivor_id) "
            "JOIN core.calendar c ON c.calendar_date = e.contact_date "
            "WHERE s.district_code = '101' GROUP BY 1"
        ).fetchall()
    )
    assert direct
    assert (
        _mart(con, period_type="year", geo_code="101", dimension="all", measure="records") == direct
    )


def test_published_grid_per_geo_level(con):
    """Districts and local levels: years and BS fiscal years, with dimension all only;
    services, referrals, reintegration and follow-up coverage for the nation and provinces by
    year and fiscal year only."""
    grid = dict(
        con.execute(
            "SELECT geo_level, list(DISTINCT period_type ORDER BY period_type) "
            "FROM marts.survivor_statistics GROUP BY ALL"
        ).fetchall()
    )
    for level in ("national", "province", "district"):
        assert grid[level] == sorted(PERIOD_TYPES_BY_LEVEL[level])
    for table in (
        "service_statistics",
        "referral_statistics",
        "reintegration_statistics",
        "followup_coverage",
    ):
        grid = dict(
            con.execute(
                f"SELECT geo_level, list(DISTINCT period_type ORDER BY period_type) "  # noqa: S608
                f"FROM marts.{table} GROUP BY ALL"
            ).fetchall()
        )
        assert set(grid) <= {"national", "province"}, table
        assert all(set(types) <= set(BREAKDOWN_PERIOD_TYPES) for types in grid.values()), table
    for level in ("district", "local_level"):
        found = con.execute(
            "SELECT list(DISTINCT period_type ORDER BY period_type), list(DISTINCT dimension) "
            "FROM marts.survivor_statistics WHERE geo_level = ?",
            [level],
        ).fetchone()
        assert found == (sorted(PERIOD_TYPES_BY_LEVEL[level]), ["all"])
    # Months and quarters carry totals only; breakdowns by group are yearly.
    for table in ("survivor_statistics", "reintegration_statistics"):
        breakdown_periods = con.execute(
            f"SELECT list(DISTINCT period_type ORDER BY period_type) "  # noqa: S608
            f"FROM marts.{table} WHERE dimension <> 'all'"
        ).fetchone()[0]
        assert set(breakdown_periods or []) <= set(BREAKDOWN_PERIOD_TYPES), table
        assert table != "survivor_statistics" or breakdown_periods
    # The SQL grid and the Python rule (used by readers and fixtures) agree on every row.
    combinations = con.execute(
        "SELECT DISTINCT geo_level, period_type, dimension FROM marts.survivor_statistics"
    ).fetchall()
    assert combinations and all(survivor_cell_published(*c) for c in combinations)
    reintegration_dimensions = con.execute(
        "SELECT list(DISTINCT dimension ORDER BY dimension) FROM marts.reintegration_statistics"
    ).fetchone()[0]
    assert set(reintegration_dimensions or []) <= {"all", "sex"}  # no follow-ups here


def test_new_and_returning_match_core(con):
    new = dict(
        con.execute(
            "SELECT strftime(first_contact_date, '%Y'), count(*) FROM core.survivors GROUP BY 1"
        ).fetchall()
    )
    assert (
        _mart(con, period_type="year", geo_code="NP", dimension="all", measure="new_survivors")
        == new
    )
    returning = dict(
        con.execute(
            "SELECT strftime(contact_date, '%Y'), count(DISTINCT survivor_id) FROM core.episodes "
            "WHERE is_returning GROUP BY 1"
        ).fetchall()
    )
    assert returning
    assert (
        _mart(
            con, period_type="year", geo_code="NP", dimension="all", measure="returning_survivors"
        )
        == returning
    )


def test_categories_add_up_to_all(con):
    bad = con.execute(
        "SELECT c.period, c.geo_code, c.dimension, c.measure, sum(c.value), any_value(a.value) "
        "FROM marts.survivor_statistics c JOIN marts.survivor_statistics a "
        "ON a.period_type = c.period_type AND a.period = c.period AND a.geo_code = c.geo_code "
        "AND a.measure = c.measure AND a.dimension = 'all' "
        "WHERE c.dimension <> 'all' GROUP BY ALL HAVING sum(c.value) <> any_value(a.value)"
    ).fetchall()
    assert bad == []


def test_bs_fiscal_year_counts_match_calendar(con):
    direct = dict(
        con.execute(
            "SELECT c.bs_fiscal_year, count(*) FROM core.episodes e "
            "JOIN core.calendar c ON c.calendar_date = e.contact_date GROUP BY 1"
        ).fetchall()
    )
    assert (
        _mart(con, period_type="bs_fiscal_year", geo_code="NP", dimension="all", measure="records")
        == direct
    )


def test_services_given_match_core(con):
    direct = con.execute("SELECT count(*) FROM core.episode_services").fetchone()[0]
    total = con.execute(
        "SELECT sum(value) FROM marts.service_statistics WHERE period_type = 'year' "
        "AND geo_code = 'NP' AND measure = 'services_given'"
    ).fetchone()[0]
    assert total == direct
