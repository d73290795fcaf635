"""The core and mart grain checks: run inside each rebuild, reported as the tables' asset
checks by the rebuild's own step, and a rebuild off its grain is rolled back."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines import warehouse_models
from pipelines.defs.core.assets import core_tables
from pipelines.defs.core.build import CORE_TABLES, build_core
from pipelines.defs.grain_checks import GRAIN_CHECK
from pipelines.defs.marts.assets import mart_tables
from pipelines.defs.marts.build import MART_TABLES, build_marts
from pipelines.grain import GrainViolation
from pipelines.resources import WarehouseResource
from tests.pipelines.warehouse_fixtures import build_warehouse


@pytest.fixture()
def warehouse(tmp_path: Path) -> WarehouseResource:
    resource = WarehouseResource(path=str(tmp_path / "warehouse.duckdb"))
    with resource.connect() as con:
        build_warehouse(con, people=40)
    return resource


def _table_rows(warehouse: WarehouseResource) -> dict[str, int]:
    with warehouse.connect() as con:
        return {
            f"{schema}/{table}": con.execute(f"SELECT count(*) FROM {schema}.{table}").fetchone()[0]  # noqa: S608
            for schema, tables in (("core", CORE_TABLES), ("marts", MART_TABLES))
            for table in tables
        }


def test_each_table_reports_its_grain_check_from_the_rebuild_step(warehouse) -> None:
    result = dg.materialize([core_tables, mart_tables], resources={"warehouse": warehouse})
    evaluations = result.get_asset_check_evaluations()
    rows = _table_rows(warehouse)
    reported = {e.asset_key.to_user_string(): e for e in evaluations}
    assert sorted(reported) == sorted(rows)
    assert {e.check_name for e in evaluations} == {GRAIN_CHECK}
    assert all(e.passed for e in evaluations)
    # What the rebuild counted is what the committed tables hold.
    assert {k: e.metadata["rows"].value for k, e in reported.items()} == rows
    # Two steps: the checks do not run as steps of their own.
    steps = {e.step_key for e in result.all_events if e.step_key}
    assert steps == {"core_tables", "mart_tables"}


def _doubled(layer_name: tuple[str, str]):
    model_sql = warehouse_models.model_sql

    def doubled(layer: str, name: str) -> str:
        sql = model_sql(layer, name)
        return f"{sql}\n{sql}" if (layer, name) == layer_name else sql

    return doubled


@pytest.mark.parametrize(
    ("layer", "table", "people"),
    [("core", "episode_services", 60), ("marts", "service_statistics", 40)],
)
def test_a_rebuild_off_its_grain_is_rolled_back(monkeypatch, layer, table, people) -> None:
    """No PRIMARY KEY holds the grain (its index was the rebuild's largest cost): each
    rebuild checks every table's grain before it commits."""
    rebuild = {"core": build_core, "marts": build_marts}[layer]
    con = duckdb.connect()
    build_warehouse(con, people=people)
    build_core(con)
    build_marts(con)
    before = con.execute(f"SELECT count(*) FROM {layer}.{table}").fetchone()  # noqa: S608
    # The model run twice: every key of the table twice.
    monkeypatch.setattr(warehouse_models, "model_sql", _doubled((layer, table)))
    with pytest.raises(GrainViolation, match=rf"{layer}\.{table} .* repeated"):
        rebuild(con)
    assert con.execute(f"SELECT count(*) FROM {layer}.{table}").fetchone() == before  # noqa: S608


def test_a_core_off_its_grain_fails_its_step_and_nothing_downstream_runs(
    warehouse, monkeypatch
) -> None:
    monkeypatch.setattr(warehouse_models, "model_sql", _doubled(("core", "referrals")))
    result = dg.materialize(
        [core_tables, mart_tables], resources={"warehouse": warehouse}, raise_on_error=False
    )
    assert not result.success
    assert not result.get_asset_materialization_events()
    assert not any(e.passed for e in result.get_asset_check_evaluations())
    failure = result.failure_data_for_node("core_tables")
    assert failure is not None and "core.referrals" in str(failure.error)
    with warehouse.connect() as con:
        assert not con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'core'"
        ).fetchone()[0]
