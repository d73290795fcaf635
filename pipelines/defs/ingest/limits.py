"""Size limits on what one batch (or withdrawal) may make the warehouse do.

A batch is read into memory and decoded, and each failing row becomes quarantine rows; a
few hundred KB of Parquet can decode to millions of null rows. These caps bound that work.
Every cap is checked before the work it bounds: the file size before the file is read, the
manifest's and the Parquet footer's row counts before any column is decoded, a lower bound
of the rows sure to fail before the expectation suite runs. Set in `resources_from_env`
from `PAHICHAN_MAX_BATCH_BYTES`, `PAHICHAN_MAX_BATCH_ROWS`, `PAHICHAN_MAX_QUARANTINE_ROWS`
and `PAHICHAN_MAX_QUARANTINE_SHARE`.
"""

from __future__ import annotations

from dataclasses import dataclass

# Defaults: a real batch row is about 1 KB (four 128-byte Bloom filters and tokens), so one
# export of a whole agency's history (tens of thousands of records) is far below them.
DEFAULT_MAX_BATCH_BYTES = 1 << 30  # 1 GiB
DEFAULT_MAX_BATCH_ROWS = 1_000_000
DEFAULT_MAX_QUARANTINE_ROWS = 100_000
DEFAULT_MAX_QUARANTINE_SHARE = 0.5
# The share applies from this many failing rows on, so a small batch with a few bad rows
# still loads row by row (quarantining them) as it always has.
QUARANTINE_SHARE_FROM_ROWS = 100
# Decoded (uncompressed) size the Parquet footer may declare, as a multiple of the byte cap:
# Bloom filters and tokens are random and barely compress, so a real batch is near 1x.
DECODED_BYTES_FACTOR = 4


@dataclass(frozen=True)
class IngestLimits:
    """Caps on one batch; see the module docstring for when each is checked."""

    max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES
    max_batch_rows: int = DEFAULT_MAX_BATCH_ROWS
    max_quarantine_rows: int = DEFAULT_MAX_QUARANTINE_ROWS
    max_quarantine_share: float = DEFAULT_MAX_QUARANTINE_SHARE

    def __post_init__(self) -> None:
        for name in ("max_batch_bytes", "max_batch_rows", "max_quarantine_rows"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if not 0 <= self.max_quarantine_share <= 1:
            raise ValueError("max_quarantine_share must be between 0 and 1")

    @property
    def max_decoded_bytes(self) -> int:
        return self.max_batch_bytes * DECODED_BYTES_FACTOR

    def quarantine_problem(self, failing_rows: int, rows: int) -> str | None:
        """Why `failing_rows` of `rows` is too many to quarantine, or None when it is not."""
        if failing_rows > self.max_quarantine_rows:
            return (
                f"{failing_rows} of its {rows} rows fail validation, more than the "
                f"{self.max_quarantine_rows} one batch may quarantine "
                "(PAHICHAN_MAX_QUARANTINE_ROWS)"
            )
        if (
            failing_rows >= QUARANTINE_SHARE_FROM_ROWS
            and rows
            and failing_rows / rows > self.max_quarantine_share
        ):
            return (
                f"{failing_rows} of its {rows} rows ({failing_rows / rows:.0%}) fail "
                f"validation, more than the share of {self.max_quarantine_share:.0%} one "
                "batch may quarantine (PAHICHAN_MAX_QUARANTINE_SHARE)"
            )
        return None


DEFAULT_LIMITS = IngestLimits()
