"""One writer for a whole run: an OS advisory lock on `<warehouse>.lock`.

DuckDB's own file lock lasts only while a connection is open, and a run opens and closes
the warehouse once per step. Between two steps another process could get in, and the first
run then died on DuckDB's `Conflicting lock` halfway through (issue 15.6). The lock here is
taken once at the start of a run (`pahichan run`, `withdraw`, `train`, `review`,
`agency-key`, `export`, and every Dagster run that uses the warehouse resource) and held
until the run ends, so one run at a time works on the warehouse from its first step to its
last.

- `fcntl.flock` on a separate lock file: the kernel releases it when the process dies, even
  on SIGKILL, so a killed run never leaves a lock behind (its `ops.runs` row is marked
  failed by the next run, see `pipelines.defs.ingest.warehouse.fail_interrupted_runs`).
- Re-entrant within one process: the CLI holds the lock and then runs Dagster jobs in
  process, whose warehouse resource asks for the same lock again. A per-process count per
  lock file answers those inner requests without touching the file (flock locks belong to
  an open file description: a second `open` + `flock` in the same process would wait on
  itself).
- While held, the process umask is 077, so everything DuckDB creates for the warehouse (the
  file, its `.wal`, spill files) is private to the data office's account (issue 15.7).
  Reader files are given their own mode explicitly when published.

Warehouse side only (Linux): the agency tools in `linkage/` never import this module.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import click

logger = logging.getLogger(__name__)

PRIVATE_UMASK = 0o077
_POLL_SECONDS = 0.2


class WarehouseBusy(click.ClickException):
    """Another process holds the warehouse; nothing was done.

    A `click.ClickException` so that every `pahichan` command that meets it ends with this
    one message and exit code 2, without a traceback; in Dagster it fails the run (or step)
    with the same message.
    """

    exit_code = 2


@dataclass
class _Held:
    descriptor: int
    depth: int
    previous_umask: int


_HELD: dict[Path, _Held] = {}
_GUARD = threading.RLock()


def lock_path(warehouse: str | os.PathLike[str]) -> Path:
    """`<warehouse>.lock`, beside the warehouse file (absolute, so one key per file)."""
    path = Path(warehouse).resolve()
    return path.with_name(path.name + ".lock")


def describe_holder(path: Path) -> str:
    """What the lock file says about its current holder (purpose, pid, start), or ''."""
    try:
        holder = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return ""
    if not isinstance(holder, dict) or "pid" not in holder:
        return ""
    return f" ({holder.get('purpose', '?')}, pid {holder['pid']}, since {holder.get('since', '?')})"


@contextmanager
def hold_warehouse(
    warehouse: str | os.PathLike[str], *, purpose: str, timeout: float = 0.0
) -> Iterator[bool]:
    """Hold the warehouse's run lock inside the block; yields True if this call took it
    (False when this process already held it: an inner, re-entrant request).

    Waits up to `timeout` seconds for another holder to finish (0: do not wait), then raises
    `WarehouseBusy` naming the holder. `purpose` ("pahichan run", "dagster run <id>") is
    written into the lock file for that message; it must hold no identity.
    """
    import fcntl  # POSIX only; imported here so the module imports anywhere

    path = lock_path(warehouse)
    with _GUARD:
        held = _HELD.get(path)
        if held is not None:
            held.depth += 1
    if held is not None:
        try:
            yield False
        finally:
            with _GUARD:
                held.depth -= 1
        return

    previous_umask = os.umask(PRIVATE_UMASK)
    descriptor = -1
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + max(timeout, 0.0)
        waited = False
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WarehouseBusy(_busy_message(path, warehouse, timeout)) from None
                if not waited:
                    logger.warning(
                        "waiting up to %.0f s for the warehouse %s%s",
                        timeout,
                        warehouse,
                        describe_holder(path),
                    )
                    waited = True
                time.sleep(_POLL_SECONDS)
        os.ftruncate(descriptor, 0)
        since = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        os.pwrite(
            descriptor,
            json.dumps({"pid": os.getpid(), "purpose": purpose, "since": since}).encode(),
            0,
        )
    except BaseException:
        if descriptor >= 0:
            os.close(descriptor)
        os.umask(previous_umask)
        raise
    with _GUARD:
        _HELD[path] = _Held(descriptor, 1, previous_umask)
    try:
        yield True
    finally:
        with _GUARD:
            del _HELD[path]
        # Empty the holder note before unlocking: a stale note must never name a live pid.
        os.ftruncate(descriptor, 0)
        os.close(descriptor)  # closing the only descriptor releases the flock
        os.umask(previous_umask)


def is_held_here(warehouse: str | os.PathLike[str]) -> bool:
    """True when this process holds the warehouse's run lock."""
    with _GUARD:
        return lock_path(warehouse) in _HELD


def _busy_message(path: Path, warehouse: str | os.PathLike[str], timeout: float) -> str:
    waited = f" after waiting {timeout:.0f} s" if timeout > 0 else ""
    return (
        f"the warehouse {warehouse} is in use by another run{describe_holder(path)}{waited}; "
        "only one run may write it at a time. Nothing was changed: try again when that run "
        "has finished, or set PAHICHAN_LOCK_TIMEOUT=SECONDS to wait for it."
    )
