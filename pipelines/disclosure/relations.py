"""Which additive relations hold in each published table: the attacker's equations.

Exact sums (protected, and checked to add up when the problem is built):

- Geography, every table: national = sum of provinces, province = sum of its districts,
  district = sum of its local levels (+ a never-published residual for unknown places).
  Exact because survivors are placed by their *survivor-level* place of origin (one place
  per survivor), so a survivor is never in two districts.
- Categories, `survivor_statistics`: the `all` cell = sum of the categories of a dimension
  for the same place, period and measure. Exact because each counted unit carries one
  category: survivors take sex from the survivor, and the other dimensions from their first
  episode in the period (new: the first-ever episode; returning: the first returning
  episode in the period); records are episodes, one category each; unknown values are the
  category `unknown`. The `all` cell is the same cell for every dimension, which links the
  tables of all dimensions (protected together, as one problem).
- Time, for measures that count events (`records`, `new_survivors`, `services_given`,
  `referrals`, `referrals_confirmed`, quality metrics): year = sum of quarters = sum of
  months; BS fiscal year = sum of its BS months.
- Quality: `batches_received` = accepted + rejected; `rows_received` >= loaded + quarantined
  (a residual cell holds rows of rejected batches).

Not sums, so not equations here: unique survivors over time (a survivor seen in March and
June counts once in the quarter), survivors served across services, and relations between
measures (new + returning <= survivors <= records: inequalities only).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from pipelines.disclosure.problem import Problem, build_problem

logger = logging.getLogger(__name__)

ADDITIVE_OVER_TIME = {
    "records",
    "survivors_first_contact",
    "followed_within_6m",
    "followed_within_12m",
    "new_survivors",
    "services_given",
    "referrals",
    "referrals_confirmed",
}
KEYS: dict[str, list[str]] = {
    "survivor_statistics": [
        "period_type",
        "period",
        "geo_code",
        "dimension",
        "category",
        "measure",
    ],
    "service_statistics": ["period_type", "period", "geo_code", "service_code", "measure"],
    "referral_statistics": [
        "period_type",
        "period",
        "geo_code",
        "from_agency_type",
        "to_agency_type",
        "measure",
    ],
    "quality_statistics": ["period_type", "period", "source_type", "metric"],
    "quarantine_reasons": ["source_type", "rule"],
    "reintegration_statistics": [
        "period_type",
        "period",
        "geo_code",
        "dimension",
        "category",
        "score_dimension",
        "measure",
    ],
    "followup_coverage": ["period_type", "period", "geo_code", "measure"],
}
# Tables with a (dimension, category) breakdown whose categories add up to `all`.
_CATEGORY_TABLES = ("survivor_statistics", "reintegration_statistics")
# reintegration_statistics: the score bands of a cell add up to its survivors_scored.
BAND_MEASURES = ("score_band_0_25", "score_band_25_50", "score_band_50_75", "score_band_75_100")
_QUALITY_SUMS = {
    "batches_received": ("batches_accepted", "batches_rejected"),
    "rows_received": ("rows_loaded", "rows_quarantined"),
}


def parent_geo_code(codes: pd.Series) -> pd.Series:
    """Enclosing place: local level -> district -> province -> NP (NaN for NP)."""
    codes = codes.astype("string")
    length = codes.str.len()
    parent = pd.Series(pd.NA, index=codes.index, dtype="string")
    parent[length == 1] = "NP"
    parent[length == 3] = codes.str[:1]
    parent[length == 5] = codes.str[:3]
    return parent


def parent_period(period_type: pd.Series, period: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(parent period_type, parent period) of each period; NA at the top of a calendar."""
    ptype = pd.Series(pd.NA, index=period.index, dtype="string")
    parent = pd.Series(pd.NA, index=period.index, dtype="string")
    label = period.astype("string")
    month = period_type == "month"
    quarter_number = (label[month].str[5:7].astype(int) - 1) // 3 + 1
    ptype[month] = "quarter"
    parent[month] = label[month].str[:4] + "-Q" + quarter_number.astype(str)
    quarter = period_type == "quarter"
    ptype[quarter] = "year"
    parent[quarter] = label[quarter].str[:4]
    bs = period_type == "bs_month"
    year = label[bs].str[:4].astype(int)
    start = year.where(label[bs].str[5:7].astype(int) >= 4, year - 1)
    ptype[bs] = "bs_fiscal_year"
    parent[bs] = start.astype(str) + "/" + ((start + 1) % 100).map("{:02d}".format)
    return ptype, parent


def row_tuples(frame: pd.DataFrame) -> list[tuple]:
    """Each row's values as a tuple, as `frame.itertuples(index=False, name=None)` gives
    them, but read column by column: iterating pandas' string arrays one element at a
    time took ~3 s of a 1M-record publication."""
    columns = [frame[column].to_numpy(dtype=object) for column in frame.columns]
    return list(zip(*columns, strict=True)) if columns else [() for _ in range(len(frame))]


def _group_relations(
    frame: pd.DataFrame,
    keys: list[str],
    parent: pd.DataFrame,
    index: dict[tuple, int],
    split_by: pd.Series | None = None,
) -> list[tuple[int, np.ndarray]]:
    """(total, children) groups where `parent` gives each row's parent key (NA: none).

    `split_by` separates children of the same total into separate relations (the
    categories of different dimensions all add up to the same `all` cell, separately).
    """
    valid = parent.notna().all(axis=1).to_numpy()
    if not valid.any():
        return []
    parent_keys = row_tuples(parent[valid][keys])
    parent_index = np.array([index.get(k, -1) for k in parent_keys], dtype=np.int64)
    if (parent_index < 0).any():
        # A child without its total cannot happen for exact sums (total >= child > 0).
        raise ValueError(f"{int((parent_index < 0).sum())} cells have children but no total")
    children = np.flatnonzero(valid).astype(np.int64)
    if split_by is None:
        split = np.zeros(len(children), dtype=np.int64)
    else:
        # Codes in sorted order of the values; NA (-1) splits nothing and is left out.
        split, _ = pd.factorize(split_by[valid], sort=True)
        keep = split >= 0
        children, parent_index, split = children[keep], parent_index[keep], split[keep]
        if not len(children):
            return []
    # Grouped by (total, split) in sorted order, children in row order within each group
    # (a pandas groupby over ~20,000 groups cost ~2 s of a 1M-record publication).
    order = np.lexsort((children, split, parent_index))
    children, parent_index, split = children[order], parent_index[order], split[order]
    starts = np.flatnonzero(
        np.r_[True, (np.diff(parent_index) != 0) | (np.diff(split) != 0)]
    ).tolist()
    ends = [*starts[1:], len(children)]
    return [
        (int(parent_index[start]), children[start:end])
        for start, end in zip(starts, ends, strict=True)
    ]


def problem_for(kind: str, frame: pd.DataFrame) -> Problem:
    """The Problem (cells in `frame` row order, then residuals) for a table of `kind`."""
    if kind not in KEYS:
        raise ValueError(f"unknown table kind {kind!r}; expected one of {sorted(KEYS)}")
    keys = KEYS[kind]
    frame = frame.reset_index(drop=True)
    key_frame = frame[keys].astype("string")
    index = {k: i for i, k in enumerate(row_tuples(key_frame))}
    if len(index) != len(frame):
        raise ValueError(f"{kind}: duplicate rows for the same cell")
    groups: list[tuple[int, np.ndarray]] = []
    if "geo_code" in keys:
        parent = key_frame.copy()
        parent["geo_code"] = parent_geo_code(key_frame["geo_code"])
        groups += _group_relations(frame, keys, parent, index)
    if kind == "reintegration_statistics":
        parent = key_frame.copy()
        is_band = key_frame["measure"].isin(BAND_MEASURES)
        parent.loc[is_band, "measure"] = "survivors_scored"
        parent.loc[~is_band, "measure"] = pd.NA
        groups += _group_relations(frame, keys, parent, index)
    if kind in _CATEGORY_TABLES:
        parent = key_frame.copy()
        is_category = key_frame["dimension"] != "all"
        parent.loc[is_category, ["dimension", "category"]] = "all"
        parent.loc[~is_category, "dimension"] = pd.NA
        groups += _group_relations(frame, keys, parent, index, key_frame["dimension"])
    measure_column = "metric" if kind == "quality_statistics" else "measure"
    if "period_type" in keys and kind != "quality_statistics":
        parent = key_frame.copy()
        ptype, pperiod = parent_period(key_frame["period_type"], key_frame["period"])
        parent["period_type"], parent["period"] = ptype, pperiod
        parent.loc[~key_frame[measure_column].isin(ADDITIVE_OVER_TIME), "period"] = pd.NA
        groups += _group_relations(frame, keys, parent, index)
    exact_problem = build_problem(frame["value"].to_numpy(), groups)
    if kind == "quality_statistics":
        exact_problem = _with_quality_sums(frame, key_frame, index, exact_problem)
    return exact_problem


def _with_quality_sums(
    frame: pd.DataFrame, key_frame: pd.DataFrame, index: dict[tuple, int], problem: Problem
) -> Problem:
    """Add received = accepted + rejected (+ residual) relations per month and source."""
    values = list(problem.values)
    published = list(problem.published)
    relations = list(problem.relations)
    for row in row_tuples(key_frame):
        period_type, period, source_type, metric = row
        if metric not in _QUALITY_SUMS:
            continue
        total = index[row]
        parts = [index.get((period_type, period, source_type, m)) for m in _QUALITY_SUMS[metric]]
        children = [p for p in parts if p is not None]
        residual = int(values[total]) - sum(int(values[c]) for c in children)
        if residual < 0:
            logger.warning("%s %s %s: parts exceed the total; relation skipped", *row[1:])
            continue
        members = [total, *children]
        if residual > 0:
            members.append(len(values))
            values.append(residual)
            published.append(False)
        relations.append(np.asarray(members, dtype=np.int64))
    return Problem(np.asarray(values, dtype=np.int64), np.asarray(published, dtype=bool), relations)
