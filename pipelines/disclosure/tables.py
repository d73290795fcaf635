"""Apply disclosure control to the mart tables: what `publish` writes to public.duckdb."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from pipelines.disclosure.relations import KEYS, problem_for
from pipelines.disclosure.suppression import PRIMARY, SECONDARY, suppress

logger = logging.getLogger(__name__)


def protect_table(frame: pd.DataFrame, kind: str, threshold: int) -> pd.DataFrame:
    """`frame` with `value` NULL where suppressed, plus `is_suppressed` and `suppression`."""
    frame = frame.reset_index(drop=True)
    out = frame.copy()
    if frame.empty:
        out["value"] = out["value"].astype("Int64")
        out["is_suppressed"] = pd.Series(dtype=bool)
        out["suppression"] = pd.Series(dtype="string")
        return out
    problem = problem_for(kind, frame)
    problem.check()
    status = suppress(problem, threshold)[: len(frame)]
    out["value"] = frame["value"].astype("Int64").mask(status != 0)
    out["is_suppressed"] = status != 0
    out["suppression"] = pd.Series(
        np.select([status == PRIMARY, status == SECONDARY], ["primary", "secondary"], ""),
        dtype="string",
    ).replace("", pd.NA)
    logger.info(
        "%s: %d cells, %d primary, %d secondary suppressions",
        kind, len(frame), int((status == PRIMARY).sum()), int((status == SECONDARY).sum()),
    )
    return out


def protect_tables(tables: dict[str, pd.DataFrame], threshold: int) -> dict[str, pd.DataFrame]:
    """Protect every count table in `tables` (keys are table kinds); others pass through."""
    return {
        name: protect_table(frame, name, threshold) if name in KEYS else frame
        for name, frame in tables.items()
    }
