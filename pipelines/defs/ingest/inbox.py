"""The inbox folder: which batches are there and complete, and the hash of their data.

Layout (docs/interfaces.md section 2): `<inbox>/<source_type>/<agency_id>/<batch_id>.parquet`
plus `<batch_id>.manifest.json`. The encoder writes the manifest last (atomic renames), so a
batch counts as complete when both files exist; a data file alone is still arriving.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

SOURCE_TYPES: tuple[str, ...] = ("shelter", "ocmc", "migration")
DATA_SUFFIX = ".parquet"
MANIFEST_SUFFIX = ".manifest.json"
# Withdrawal batches (consent withdrawn) sit beside data batches; they are found and applied
# by `pipelines.defs.ingest.withdrawals`, never loaded as data.
WITHDRAWAL_SUFFIX = ".withdrawal.parquet"
_CHUNK = 1 << 20


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
                batch = BatchFiles(
                    root, source_dir.name, agency_dir.name, data_path.name[: -len(DATA_SUFFIX)]
                )
                if batch.manifest_path.is_file():
                    batches.append(batch)
                else:
                    logger.info("Batch %s has no manifest yet: waiting", batch.inbox_path)
    return batches


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
