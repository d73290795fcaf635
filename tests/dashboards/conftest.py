"""Shared fixtures: one synthetic public.duckdb per test session (written once, read-only)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.dashboards.fixtures import write_public_db


@pytest.fixture(scope="session")
def public_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_public_db(tmp_path_factory.mktemp("public") / "public.duckdb")


@pytest.fixture()
def public_con(public_db: Path):
    con = duckdb.connect(str(public_db), read_only=True)
    yield con
    con.close()


@pytest.fixture()
def app_env(public_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the dashboard at the fixture file for one test."""
    monkeypatch.setenv("PAHICHAN_PUBLIC_DB", str(public_db))
    return public_db
