"""The data officers' page: only with an operations file, and it shows batch ids, agencies,
reasons and the review queue as they are (operational counts are not suppressed)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dashboards.server import APP
from pipelines.defs.operations.build import OPERATIONS_FILE, write_operations_file
from tests.pipelines.warehouse_fixtures import build_warehouse


@pytest.fixture(scope="module")
def operations_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("operations")
    with duckdb.connect() as con:
        build_warehouse(con, people=20, span_days=90)
        write_operations_file(con, folder)
    return folder / OPERATIONS_FILE


def _app() -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=90)
    app.run()
    assert not app.exception, app.exception
    return app


def test_page_shows_rejections_with_reasons(app_env: Path, operations_db: Path, monkeypatch):
    monkeypatch.setenv("PAHICHAN_OPERATIONS_DB", str(operations_db))
    app = _app()
    app.switch_page("app_pages/operations.py").run()
    assert not app.exception, app.exception
    with duckdb.connect(str(operations_db), read_only=True) as con:
        rejected = con.execute(
            "SELECT batch_id, agency_id, reason FROM batches WHERE status = 'rejected'"
        ).fetchall()
        received = con.execute("SELECT count(*) FROM batches").fetchone()[0]
    assert rejected
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Batches received"] == str(received)
    assert metrics["Rejected batches"] == str(len(rejected))
    assert metrics["Batches accepted"] == str(received - len(rejected))
    assert "Last run" in metrics
    assert app.header[0].value == "Data quality"  # one page, not a second one beside it
    shown = app.dataframe[0].value
    assert sorted(zip(shown["batch_id"], shown["agency_id"], shown["reason"], strict=True)) == (
        sorted(rejected)
    )


def test_page_is_absent_without_an_operations_file(app_env: Path, monkeypatch) -> None:
    monkeypatch.delenv("PAHICHAN_OPERATIONS_DB", raising=False)
    app = _app()
    # The page is not registered in the navigation, so Streamlit cannot switch to it.
    with pytest.raises(Exception, match="operations") as raised:
        app.switch_page("app_pages/operations.py").run()
    assert "page" in str(raised.value).lower()
