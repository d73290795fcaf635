"""Issue 15.7: the warehouse and everything DuckDB writes beside it are private to the owner.

Attack: another local account (an analyst on the same server, a compromised service) reads
the restricted warehouse, its write-ahead log or DuckDB's spill files, which hold tokens and
Bloom filters, because they were created world-readable (0644). Reader files are for the
readers' group (0640), never world-readable by default; a CTDC export is 0600 until the data
officer hands it over. The tests run under the ordinary umask 022 of a shell, the one that
gave 0644 before.
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from pipelines.commands.export import write_ctdc_csv
from pipelines.resources import resources_from_env
from schemas.ctdc import CTDC_COLUMNS
from tests.privacy.conftest import World


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def _shell_umask() -> object:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_warehouse_lock_file_and_spill_folder_are_owner_only(world: World) -> None:
    assert _mode(world.warehouse) == 0o600
    assert _mode(world.warehouse.with_name(world.warehouse.name + ".lock")) == 0o600
    spill = world.warehouse.parent / ".duckdb-tmp"
    assert spill.is_dir() and _mode(spill) == 0o700


def test_reader_files_are_group_readable_not_world_readable(world: World) -> None:
    for name in ("public.duckdb", "analyst.duckdb"):
        assert _mode(world.publish_dir / name) == 0o640, name


def test_write_ahead_log_is_owner_only_while_a_run_writes(tmp_path: Path) -> None:
    store = resources_from_env({}, warehouse=str(tmp_path / "w" / "pahichan.duckdb"))["warehouse"]
    with store.connect() as con:
        con.execute("CREATE TABLE t AS SELECT range AS i FROM range(10)")
        con.execute("INSERT INTO t SELECT range FROM range(10)")
        wal = tmp_path / "w" / "pahichan.duckdb.wal"
        assert wal.is_file(), "no WAL to check: the test no longer exercises it"
        assert _mode(wal) == 0o600
        assert _mode(tmp_path / "w" / "pahichan.duckdb") == 0o600
    assert os.umask(0o022) == 0o022, "the run's umask leaked out of the run"


def test_a_warehouse_left_world_readable_is_tightened_on_open(tmp_path: Path) -> None:
    path = tmp_path / "pahichan.duckdb"
    store = resources_from_env({}, warehouse=str(path))["warehouse"]
    with store.connect() as con:
        con.execute("CREATE TABLE t (i INTEGER)")
    path.chmod(0o644)  # as an older version left it
    (tmp_path / ".duckdb-tmp").chmod(0o755)
    with store.connect():
        pass
    assert _mode(path) == 0o600
    assert _mode(tmp_path / ".duckdb-tmp") == 0o700


def test_reader_file_mode_is_configurable_but_never_writable_by_others(tmp_path: Path) -> None:
    settings = resources_from_env({"PAHICHAN_READER_FILE_MODE": "0600"})["settings"]
    assert settings.reader_file_mode == 0o600
    for unsafe in ("0666", "0646", "0755", "0040", "rw-r--r--"):
        with pytest.raises(ValueError, match="PAHICHAN_READER_FILE_MODE"):
            resources_from_env({"PAHICHAN_READER_FILE_MODE": unsafe})


def test_ctdc_export_is_owner_only_even_over_an_older_wider_file(tmp_path: Path) -> None:
    out = tmp_path / "exports" / "ctdc.csv"
    out.parent.mkdir()
    out.write_text("old\n")
    out.chmod(0o644)
    write_ctdc_csv(pd.DataFrame(columns=list(CTDC_COLUMNS)), out)
    assert _mode(out) == 0o600
    assert out.read_text().startswith(CTDC_COLUMNS[0])


def test_spill_files_are_owner_only(tmp_path: Path) -> None:
    """A sort larger than the memory limit spills to `.duckdb-tmp/`; every file seen there
    while it runs is 0600 (watched from a second thread)."""
    store = resources_from_env(
        {}, warehouse=str(tmp_path / "pahichan.duckdb"), memory_limit="100MB"
    )["warehouse"]
    modes: set[int] = set()
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            for path in (tmp_path / ".duckdb-tmp").glob("*"):
                # A spill file may be removed between listing and stat.
                with contextlib.suppress(FileNotFoundError):
                    modes.add(_mode(path))
            time.sleep(0.005)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with store.connect() as con:
            con.execute("SET threads = 1")
            con.execute("SET preserve_insertion_order = false")
            con.execute("CREATE TABLE t AS SELECT md5(range::VARCHAR) AS s FROM range(3000000)")
            con.execute("SELECT s, count(*) FROM t GROUP BY s ORDER BY s LIMIT 1").fetchall()
    finally:
        done.set()
        watcher.join()
    assert modes == {0o600}, modes or "no spill file seen"
