"""Reintegration marts against direct queries on core.followups / core.survivors."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.defs.core.build import build_core
from pipelines.defs.marts.build import build_marts
from tests.pipelines.warehouse_fixtures import build_warehouse


@pytest.fixture(scope="module")
def con():
    connection = duckdb.connect()
    build_warehouse(connection, people=80, followups=True)
    build_core(connection)
    build_marts(connection)
    yield connection
    connection.close()


def _mart(con, table, **where):
    clauses = " AND ".join(f"{k} = ?" for k in where)
    return dict(
        con.execute(
            f"SELECT period, value FROM marts.{table} WHERE {clauses}",  # noqa: S608 - test names
            list(where.values()),
        ).fetchall()
    )


def test_survivors_scored_and_mean_use_the_latest_visit_per_year(con):
    latest = con.execute(
        "SELECT strftime(visit_date, '%Y') AS y, survivor_id, composite_score FROM "
        "core.followups WHERE composite_score IS NOT NULL QUALIFY row_number() OVER ("
        "PARTITION BY y, survivor_id ORDER BY visit_date DESC, record_token DESC) = 1"
    ).df()
    assert len(latest) > 5
    counts = latest.groupby("y").size().to_dict()
    means = (latest.groupby("y")["composite_score"].mean() * 100).round().astype(int).to_dict()
    where = {
        "period_type": "year",
        "geo_code": "NP",
        "dimension": "all",
        "category": "all",
        "score_dimension": "composite",
    }
    assert _mart(con, "reintegration_statistics", measure="survivors_scored", **where) == counts
    assert _mart(con, "reintegration_statistics", measure="mean_score_pct", **where) == means


def test_bands_add_up_to_survivors_scored(con):
    bad = con.execute(
        "SELECT period, geo_code, dimension, category, score_dimension, "
        "sum(value) FILTER (WHERE measure LIKE 'score_band_%') AS bands, "
        "any_value(value) FILTER (WHERE measure = 'survivors_scored') AS scored "
        "FROM marts.reintegration_statistics GROUP BY ALL HAVING bands <> scored"
    ).fetchall()
    assert bad == []


def test_categories_add_up_to_all(con):
    bad = con.execute(
        "SELECT c.period_type, c.period, c.geo_code, c.dimension, c.score_dimension, c.measure, "
        "sum(c.value) "
        "FROM marts.reintegration_statistics c JOIN marts.reintegration_statistics a "
        "ON a.period_type = c.period_type AND a.period = c.period AND a.geo_code = c.geo_code "
        "AND a.measure = c.measure AND a.score_dimension = c.score_dimension "
        "AND a.dimension = 'all' WHERE c.dimension <> 'all' AND c.measure <> 'mean_score_pct' "
        "GROUP BY ALL HAVING sum(c.value) <> any_value(a.value)"
    ).fetchall()
    assert bad == []
    # Published by sex only (the other breakdowns were nearly all hidden cells).
    assert (
        con.execute(
            "SELECT count(DISTINCT category) FROM marts.reintegration_statistics "
            "WHERE dimension = 'sex'"
        ).fetchone()[0]
        >= 2
    )


def test_followup_coverage_matches_core(con):
    direct = con.execute(
        "SELECT strftime(s.first_contact_date, '%Y'), count(*), "
        "count(*) FILTER (WHERE EXISTS (SELECT 1 FROM core.followups f WHERE "
        "f.survivor_id = s.survivor_id AND f.visit_date BETWEEN s.first_contact_date AND "
        "s.first_contact_date + INTERVAL '6 months')) FROM core.survivors s GROUP BY 1"
    ).fetchall()
    first = {y: n for y, n, _ in direct}
    within = {y: k for y, _, k in direct if k}
    assert any(within.values())
    assert (
        _mart(
            con,
            "followup_coverage",
            period_type="year",
            geo_code="NP",
            measure="survivors_first_contact",
        )
        == first
    )
    assert (
        _mart(
            con,
            "followup_coverage",
            period_type="year",
            geo_code="NP",
            measure="followed_within_6m",
        )
        == within
    )
