"""Where the dashboard finds its one input: the published, read-only `public.duckdb`."""

from __future__ import annotations

import os
from pathlib import Path

PUBLIC_DB_VARIABLE = "PAHICHAN_PUBLIC_DB"
DEFAULT_PUBLIC_DB = Path("data/demo/warehouse/public.duckdb")


def public_db_path() -> Path:
    """The public reader file: `PAHICHAN_PUBLIC_DB`, else the demo location.

    Read when called (never at import), so tests and the CLI can set it per run.
    """
    return Path(os.environ.get(PUBLIC_DB_VARIABLE) or DEFAULT_PUBLIC_DB)


OPERATIONS_DB_VARIABLE = "PAHICHAN_OPERATIONS_DB"


def operations_db_path() -> Path | None:
    """The data officers' operations file (`PAHICHAN_OPERATIONS_DB`), or None: the page that
    shows it exists only in a dashboard started for the data office (`--operations`)."""
    value = os.environ.get(OPERATIONS_DB_VARIABLE)
    return Path(value) if value else None
