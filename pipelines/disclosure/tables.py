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


MEAN_MEASURE = "mean_score_pct"


def protect_means(frame: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """reintegration_statistics: counts protected as a table; each mean published only where
    its cell's `survivors_scored` is published and at least `threshold`, else withheld."""
    frame = frame.reset_index(drop=True)
    is_mean = frame["measure"] == MEAN_MEASURE
    counts = protect_table(frame[~is_mean], "reintegration_statistics", threshold)
    means = frame[is_mean].copy()
    cell = [c for c in KEYS["reintegration_statistics"] if c != "measure"]
    scored = counts.loc[counts["measure"] == "survivors_scored", [*cell, "value"]].rename(
        columns={"value": "scored"})
    means = means.merge(scored, on=cell, how="left", validate="one_to_one")
    publish = means["scored"].notna() & (means["scored"] >= threshold)
    means["value"] = means["value"].astype("Int64").where(publish)
    means["is_suppressed"] = ~publish
    means["suppression"] = pd.Series(
        np.where(publish, "", "secondary"), index=means.index, dtype="string"
    ).replace("", pd.NA)
    out = pd.concat([counts, means.drop(columns="scored")], ignore_index=True)
    return out.sort_values(KEYS["reintegration_statistics"], ignore_index=True)


def protect_tables(tables: dict[str, pd.DataFrame], threshold: int) -> dict[str, pd.DataFrame]:
    """Protect every count table in `tables` (keys are table kinds); others pass through."""
    out = {}
    for name, frame in tables.items():
        if name == "reintegration_statistics" and not frame.empty:
            out[name] = protect_means(frame, threshold)
        elif name in KEYS:
            out[name] = protect_table(frame, name, threshold)
        else:
            out[name] = frame
    return out
