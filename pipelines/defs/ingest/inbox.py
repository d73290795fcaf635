"""The inbox folder: which batches are there and complete, and reading their files safely.

Layout (docs/interfaces.md section 2): `<inbox>/<source_type>/<agency_id>/<batch_id>.parquet`
plus `<batch_id>.manifest.json`. The encoder writes the manifest last (atomic renames), so a
batch counts as complete when both files exist; a data file alone is still arriving.

Anyone who can write into the inbox can also swap, grow or replace a file while the ingest
reads it. So an inbox file is read by `receive_file` in ONE pass over one open file
descriptor: the bytes kept are exactly the bytes hashed, and everything later (signature
and hash checks, parsing, loading) works on those bytes, never on the path again. Opening
follows no symbolic link inside the inbox and accepts only regular files (a link to
`/dev/zero` or a FIFO would otherwise be read forever), and the bytes are kept in memory only
up to a cap: above it the file is hashed as a stream and not kept.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from schemas.vocabularies import SOURCE_TYPES

logger = logging.getLogger(__name__)

DATA_SUFFIX = ".parquet"
MANIFEST_SUFFIX = ".manifest.json"
# Withdrawal batches (consent withdrawn) sit beside data batches; they are found and applied
# by `pipelines.defs.ingest.withdrawals`, never loaded as data.
WITHDRAWAL_SUFFIX = ".withdrawal.parquet"
_CHUNK = 1 << 20


class InboxFileError(ValueError):
    """An inbox file cannot be read safely (a symbolic link, not a regular file, gone)."""


@dataclass(frozen=True)
class ReceivedFile:
    """One pass over an inbox file: its SHA-256 and size, and its bytes when they were kept.

    `data` is None when the caller did not ask to keep the bytes or the file was larger
    than the cap; `sha256` and `size` always describe the bytes read in that same pass.
    """

    sha256: str
    size: int
    data: bytes | bytearray | None  # bytearray: filled in place, not copied once more


@dataclass(frozen=True)
class BatchFiles:
    """One batch in the inbox: where its two files are and what the folders say it is."""

    root: Path
    source_type: str
    agency_id: str
    batch_id: str  # the file stem; the manifest must say the same

    @property
    def folder(self) -> Path:
        return self.root / self.source_type / self.agency_id

    @property
    def data_path(self) -> Path:
        return self.folder / f"{self.batch_id}{DATA_SUFFIX}"

    @property
    def manifest_path(self) -> Path:
        return self.folder / f"{self.batch_id}{MANIFEST_SUFFIX}"

    @property
    def inbox_path(self) -> str:
        """The data file relative to the inbox root (stable across machines), POSIX style."""
        return f"{self.source_type}/{self.agency_id}/{self.batch_id}{DATA_SUFFIX}"

    @classmethod
    def from_inbox_path(cls, root: Path, inbox_path: str) -> BatchFiles:
        """The batch whose data file is `inbox_path` (as stored in ops.batches)."""
        parts = inbox_path.split("/")
        if len(parts) != 3 or not parts[2].endswith(DATA_SUFFIX):
            raise ValueError(f"not an inbox data path: {inbox_path!r}")
        return cls(root, parts[0], parts[1], parts[2][: -len(DATA_SUFFIX)])


def find_batches(root: Path) -> list[BatchFiles]:
    """Complete batches (data file and manifest both present), sorted by inbox path.

    Folders that are not a known source type are skipped with a warning: their batches
    cannot be staged anywhere, and the data officer should move them.
    """
    batches: list[BatchFiles] = []
    if not root.is_dir():
        return batches
    for source_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        if source_dir.name not in SOURCE_TYPES:
            logger.warning(
                "Inbox folder %s is not a source type (%s): its batches are ignored",
                source_dir,
                ", ".join(SOURCE_TYPES),
            )
            continue
        for agency_dir in sorted(p for p in source_dir.iterdir() if p.is_dir()):
            for data_path in sorted(agency_dir.glob(f"*{DATA_SUFFIX}")):
                if data_path.name.endswith(WITHDRAWAL_SUFFIX):
                    continue
                if not is_plain_inbox_file(root, data_path):
                    continue
                batch = BatchFiles(
                    root, source_dir.name, agency_dir.name, data_path.name[: -len(DATA_SUFFIX)]
                )
                if batch.manifest_path.is_file():
                    batches.append(batch)
                else:
                    logger.info("Batch %s has no manifest yet: waiting", batch.inbox_path)
    return batches


def is_plain_inbox_file(root: Path, path: Path) -> bool:
    """True for a regular file reached from `root` through no symbolic link; else False,
    with a warning that says what to do (the agency tool never writes links or devices)."""
    try:
        relative = path.relative_to(root)
        current = root
        for part in relative.parts:
            current = current / part
            if current.is_symlink():
                logger.warning(
                    "Inbox entry %s is a symbolic link: ignored. Put the file itself in the "
                    "inbox (links may point anywhere on this machine).",
                    current,
                )
                return False
        if not stat.S_ISREG(path.lstat().st_mode):
            logger.warning("Inbox entry %s is not a regular file: ignored", path)
            return False
    except (OSError, ValueError):
        return False
    return True


@contextmanager
def _open_no_follow(path: Path, root: Path | None) -> Iterator[tuple[int, os.stat_result]]:
    """An open descriptor on a regular file, having followed no symbolic link below `root`
    (each folder is opened relative to the previous one, so a folder swapped for a link
    between the checks and the open is refused too). `root` itself may be a link."""
    parts = path.relative_to(root).parts if root is not None else (path.name,)
    start = root if root is not None else path.parent
    folder = os.open(start, os.O_RDONLY | os.O_DIRECTORY)
    descriptor = -1
    try:
        for part in parts[:-1]:
            inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=folder)
            os.close(folder)
            folder = inner
        # O_NONBLOCK: opening a FIFO must not wait for a writer; regular files ignore it.
        descriptor = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder)
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise InboxFileError(f"{path} is not a regular file: remove it from the inbox")
        yield descriptor, status
    except FileNotFoundError as error:
        raise InboxFileError(f"{path} is gone (moved or deleted while being read)") from error
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENOTDIR):  # a link, or a link as a folder
            raise InboxFileError(
                f"{path} is or passes through a symbolic link: put the file itself in the inbox"
            ) from error
        raise
    finally:
        if descriptor >= 0:
            os.close(descriptor)
        os.close(folder)


def receive_file(
    path: Path, *, root: Path | None = None, max_bytes: int | None = None, keep: bool = True
) -> ReceivedFile:
    """Read an inbox file once: hash every byte and keep them when `keep` and the file is at
    most `max_bytes` (None: no cap). Memory stays bounded by the cap whatever the file's size
    (above it the rest is only hashed). Raises InboxFileError for links and non-files."""
    with _open_no_follow(path, root) as (descriptor, status):
        digest = hashlib.sha256()
        # The size is checked before anything is read: an oversized file is never buffered.
        keeping = keep and (max_bytes is None or status.st_size <= max_bytes)
        kept = bytearray(status.st_size if keeping else 0)
        size = 0
        if keeping:
            # Straight into one buffer of the announced size (no second copy in memory).
            with memoryview(kept) as view:
                while size < len(kept):
                    read = os.readv(descriptor, [view[size:]])
                    if not read:
                        break
                    digest.update(view[size : size + read])
                    size += read
            del kept[size:]  # nothing, unless the file shrank while being read
        # Whatever is left: all of a file not kept, or what was appended while reading.
        while chunk := os.read(descriptor, _CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if keeping and max_bytes is not None and size > max_bytes:
                keeping, kept = False, bytearray()
            elif keeping:
                kept += chunk
    return ReceivedFile(digest.hexdigest(), size, kept if keeping else None)


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, streamed (bounded memory); refuses links and non-files.

    Only for recognising a file already processed (sensor cursor, pending lists): a check
    that decides what is loaded uses the hash of the bytes it loads (`receive_file`).
    """
    return receive_file(path, keep=False).sha256
