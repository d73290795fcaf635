"""Core tables against the fixture: grains, survivor attributes, idempotent atomic rebuild."""

from __future__ import annotations

import duckdb
import pytest

from pipelines import warehouse_models
from pipelines.defs.core import build as core_build
from tests.pipelines.warehouse_fixtures import build_warehouse


@pytest.fixture()
def con():
    connection = duckdb.connect()
    build_warehouse(connection, people=60)
    core_build.build_core(connection)
    yield connection
    connection.close()


def test_one_row_per_record_and_survivor(con):
    records = con.execute("SELECT count(DISTINCT record_token) FROM linkage.memberships").fetchone()
    survivors = con.execute(
        "SELECT count(DISTINCT survivor_id) FROM linkage.memberships"
    ).fetchone()
    assert con.execute("SELECT count(*) FROM core.episodes").fetchone() == records
    assert con.execute("SELECT count(*) FROM core.survivors").fetchone() == survivors
    assert con.execute("SELECT count(*) FROM core.geography").fetchone()[0] == 1 + 7 + 77 + 753


def test_survivor_first_contact_and_returning_match_episodes(con):
    rows = con.execute(
        "SELECT s.survivor_id, s.first_contact_date, s.is_returning, min(e.contact_date), "
        "max(e.contact_date) FROM core.survivors s JOIN core.episodes e USING (survivor_id) "
        "GROUP BY ALL"
    ).fetchall()
    assert any(r[2] for r in rows)
    for _, first, returning, lo, hi in rows:
        assert first == lo
        assert returning == (
            (hi - lo).days >= 181
            and hi >= lo.replace(year=lo.year + (lo.month + 5) // 12, month=(lo.month + 5) % 12 + 1)
        )


def test_rebuild_is_identical(con):
    # Table names from the CORE_TABLES constant.
    before = {
        t: con.execute(f"SELECT * FROM core.{t} ORDER BY ALL").fetchall()  # noqa: S608
        for t in core_build.CORE_TABLES
    }
    core_build.build_core(con)
    after = {
        t: con.execute(f"SELECT * FROM core.{t} ORDER BY ALL").fetchall()  # noqa: S608
        for t in core_build.CORE_TABLES
    }
    assert before == after


def test_failed_rebuild_keeps_previous_core(con, monkeypatch):
    before = con.execute("SELECT count(*) FROM core.episodes").fetchone()
    model_sql = warehouse_models.model_sql

    def broken(layer: str, name: str) -> str:
        if (layer, name) == ("core", "survivors"):
            return "INSERT INTO core.survivors BY NAME SELECT 1/0 AS records_count"
        return model_sql(layer, name)

    monkeypatch.setattr(warehouse_models, "model_sql", broken)
    con.execute("DELETE FROM linkage.memberships WHERE survivor_id = 'S000001'")
    with pytest.raises(duckdb.Error):
        core_build.build_core(con)
    assert con.execute("SELECT count(*) FROM core.episodes").fetchone() == before
    assert con.execute("SELECT count(*) FROM core.survivors").fetchone()[0] > 0
