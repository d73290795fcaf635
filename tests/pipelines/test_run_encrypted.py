"""The warehouse file can be encrypted at rest; a wrong key is a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.migrations import current_version, latest_version
from pipelines.resources import WarehouseKeyError, WarehouseResource


def test_encrypted_warehouse_round_trip_and_wrong_key(tmp_path: Path) -> None:
    key = tmp_path / "warehouse.key"
    key.write_text("a1" * 32)
    path = tmp_path / "w.duckdb"
    warehouse = WarehouseResource(path=str(path), key_file=str(key))
    with warehouse.connect() as con:
        # The connection has migrated the new file: schema `ops` exists, at the latest version.
        assert current_version(con) == latest_version()
        con.execute("CREATE TABLE ops.t AS SELECT 'secret-token' AS v")
    assert b"secret-token" not in path.read_bytes()
    with warehouse.connect() as con:
        assert con.execute("SELECT v FROM ops.t").fetchall() == [("secret-token",)]
        assert current_version(con) == latest_version()
    key.write_text("b2" * 32)
    with pytest.raises(WarehouseKeyError, match="does not open"), warehouse.connect():
        pass
    key.write_text("x'; DROP")
    with pytest.raises(WarehouseKeyError, match="must hold one line"), warehouse.connect():
        pass
