"""The agency tool on Windows, emulated here: no `os.fchmod`, and `os.open` in text mode.

Agencies run the tool on Windows laptops. There, Python 3.11 has no `os.fchmod`, and a file
descriptor from `os.open` is in text mode unless `os.O_BINARY` is given: every "\\n" written
becomes "\\r\\n", which would corrupt a Parquet batch (its hash and signature then no longer
match what the warehouse reads).
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pytest

from linkage.encoding.batch import _atomic_write, parquet_bytes
from linkage.encoding.keys import read_key, write_key
from linkage.encoding.signing import read_signing_key, write_signing_key

WINDOWS_O_BINARY = 0x8000  # msvcrt's _O_BINARY


@pytest.fixture
def windows_os(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """No fchmod; `os.O_BINARY` exists; returns the flags of every `os.open` call."""
    monkeypatch.delattr(os, "fchmod", raising=False)
    monkeypatch.setattr(os, "O_BINARY", WINDOWS_O_BINARY, raising=False)
    flags_seen: list[int] = []
    real_open = os.open

    def recording_open(path, flags, mode=0o777, *args, **kwargs):  # type: ignore[no-untyped-def]
        flags_seen.append(flags)
        return real_open(path, flags & ~WINDOWS_O_BINARY, mode, *args, **kwargs)

    monkeypatch.setattr(os, "open", recording_open)
    return flags_seen


def test_linkage_key_is_written_in_binary_mode_without_fchmod(
    windows_os: list[int], tmp_path: Path
) -> None:
    key_id = write_key(tmp_path / "linkage.key", b"\x01" * 32)
    assert read_key(tmp_path / "linkage.key").key_id == key_id
    assert windows_os and all(flags & WINDOWS_O_BINARY for flags in windows_os)


def test_signing_key_is_written_in_binary_mode_without_fchmod(
    windows_os: list[int], tmp_path: Path
) -> None:
    key_id, _ = write_signing_key(tmp_path / "agency.signing.pem")
    assert read_signing_key(tmp_path / "agency.signing.pem").key_id == key_id
    assert windows_os and all(flags & WINDOWS_O_BINARY for flags in windows_os)


def test_batch_files_are_written_in_binary_mode(windows_os: list[int], tmp_path: Path) -> None:
    data = parquet_bytes(pa.table({"record_token": ["a\nb", "c"]}))
    _atomic_write(tmp_path / "batch.parquet", data)
    assert (tmp_path / "batch.parquet").read_bytes() == data
    assert windows_os and all(flags & WINDOWS_O_BINARY for flags in windows_os)
