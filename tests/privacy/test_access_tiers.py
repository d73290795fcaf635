"""Access tiers as files: the restricted store is encrypted at rest (spilled temporary
files included); reader files hold no token or encoding; a wrong or missing warehouse key
fails clearly and reads nothing."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from pipelines.commands.run import run
from pipelines.commands.warehouse_key import warehouse_key, write_warehouse_key
from pipelines.resources import WarehouseResource
from tests.privacy.conftest import World

_NO_ENV = {"PAHICHAN_WAREHOUSE_KEY_FILE": None, "PAHICHAN_WAREHOUSE": None}


def _leaks(data: bytes, world: World) -> tuple[int, int]:
    """(token hex strings found, raw or hex Bloom filters found) in `data`."""
    tokens = sum(1 for token in world.tokens if token.encode() in data)
    filters = sum(1 for f in world.filters if f in data or f.hex().encode() in data)
    return tokens, filters


def test_restricted_store_holds_no_token_or_filter_bytes_in_clear(
    world: World, tmp_path: Path
) -> None:
    assert world.snapshot is not None
    data = world.snapshot.read_bytes()
    wal = Path(f"{world.warehouse}.wal")
    if wal.exists():
        data += wal.read_bytes()
    print(f"scanned {len(data)} bytes for {len(world.tokens)} tokens, {len(world.filters)} filters")
    assert _leaks(data, world) == (0, 0)
    # Control: the same contents written unencrypted DO show the filters, so the scan can
    # fail (string columns are compressed, raw 128-byte filters are not).
    plain = tmp_path / "plain.duckdb"
    with world.connect() as con:
        con.execute(f"ATTACH '{plain}' AS plain")
        con.execute("COPY FROM DATABASE warehouse TO plain")
        con.execute("DETACH plain")
    tokens, filters = _leaks(plain.read_bytes(), world)
    print(f"unencrypted copy: {tokens} tokens, {filters} filters visible")
    assert filters > len(world.filters) // 2 and tokens > len(world.tokens) // 2


def test_reader_files_hold_no_token_or_encoding(world: World) -> None:
    for name in ("analyst.duckdb", "public.duckdb"):
        path = world.publish_dir / name
        assert _leaks(path.read_bytes(), world) == (0, 0), name
        con = duckdb.connect(str(path), read_only=True)
        columns = [
            row[0]
            for row in con.execute("SELECT column_name FROM information_schema.columns").fetchall()
        ]
        con.close()
        assert columns and not [
            c for c in columns if c.endswith(("_bf", "_key", "_token", "_tokens"))
        ], name


def _run_args(world: World, *extra: str) -> list[str]:
    return [
        "--inbox",
        str(world.inbox),
        "--warehouse",
        str(world.warehouse),
        "--publish-dir",
        str(world.publish_dir),
        *extra,
    ]


def test_wrong_or_missing_warehouse_key_fails_clearly_and_reads_nothing(
    world: World, tmp_path: Path
) -> None:
    before = hashlib.sha256(world.warehouse.read_bytes()).hexdigest()
    published = {p.name: p.stat().st_mtime_ns for p in world.publish_dir.iterdir()}
    wrong = tmp_path / "wrong.key"
    write_warehouse_key(wrong)
    cases = {
        "wrong key": (_run_args(world, "--warehouse-key", str(wrong)), "does not open"),
        "missing key": (_run_args(world), "is encrypted: pass --warehouse-key"),
        "missing key file": (
            _run_args(world, "--warehouse-key", str(tmp_path / "nope.key")),
            "cannot read the warehouse key file",
        ),
    }
    for label, (arguments, message) in cases.items():
        result = CliRunner().invoke(run, arguments, env=_NO_ENV)
        print(f"{label}: exit {result.exit_code}: {result.output.strip()[:120]}")
        assert result.exit_code != 0, label
        assert message in result.output, (label, result.output)
        assert "Traceback" not in result.output
    # Nothing was read into or written out: the file and the reader files are untouched.
    assert hashlib.sha256(world.warehouse.read_bytes()).hexdigest() == before
    assert {p.name: p.stat().st_mtime_ns for p in world.publish_dir.iterdir()} == published


def test_warehouse_key_command_creates_a_private_key_once(tmp_path: Path) -> None:
    path = tmp_path / "w.key"
    first = CliRunner().invoke(warehouse_key, ["--out", str(path)])
    assert first.exit_code == 0 and "Created warehouse key" in first.output
    assert (path.stat().st_mode & 0o777) == 0o600
    assert len(bytes.fromhex(path.read_text().strip())) == 32
    again = CliRunner().invoke(warehouse_key, ["--out", str(path)])
    assert again.exit_code == 2 and "never overwritten" in again.output


@pytest.mark.parametrize("content", ["", "short", "x'; DROP TABLE ops.batches; --"])
def test_malformed_key_file_is_refused_before_anything_is_opened(
    tmp_path: Path, content: str
) -> None:
    key = tmp_path / "bad.key"
    key.write_text(content)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    result = CliRunner().invoke(
        run,
        [
            "--inbox",
            str(inbox),
            "--warehouse",
            str(tmp_path / "w.duckdb"),
            "--warehouse-key",
            str(key),
        ],
        env=_NO_ENV,
    )
    assert result.exit_code != 0 and "must hold one line" in result.output
    assert not (tmp_path / "w.duckdb").exists()


def _spilled_marker_bytes(store: WarehouseResource) -> tuple[int, int]:
    """Sort a table too big for the store's memory limit while watching its temp folder;
    returns (temp files seen, occurrences of the table's marker text in them)."""
    marker = b"TOKENMARK"
    seen = {"files": 0, "hits": 0}
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            for path in (store.directory / ".duckdb-tmp").glob("**/*"):
                try:
                    data = path.read_bytes()
                except OSError:  # removed while reading, or a folder
                    continue
                seen["files"] += 1
                seen["hits"] += data.count(marker)
            time.sleep(0.02)

    with store.connect() as con:
        con.execute("SET threads = 1")
        con.execute(
            "CREATE TABLE spill AS SELECT md5(i::VARCHAR) || ? AS token, i "
            "FROM range(1500000) r(i)",
            [marker.decode()],
        )
        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            con.execute("CREATE TABLE sorted AS SELECT token, i FROM spill ORDER BY token DESC")
        finally:
            done.set()
            watcher.join()
    return seen["files"], seen["hits"]


def test_what_duckdb_spills_to_disk_is_encrypted_too(tmp_path: Path) -> None:
    key_file = tmp_path / "warehouse.key"
    write_warehouse_key(key_file)
    encrypted = WarehouseResource(
        path=str(tmp_path / "enc" / "w.duckdb"), key_file=str(key_file), memory_limit="64MB"
    )
    files, hits = _spilled_marker_bytes(encrypted)
    print(f"encrypted store: {files} temp file reads, {hits} marker hits")
    assert files > 0, "nothing spilled: the test did not exercise spilling"
    assert hits == 0
    # Control: the same query on an unencrypted store spills the marker in clear.
    plain = WarehouseResource(path=str(tmp_path / "plain" / "w.duckdb"), memory_limit="64MB")
    files, hits = _spilled_marker_bytes(plain)
    print(f"unencrypted control: {files} temp file reads, {hits} marker hits")
    assert hits > 0
