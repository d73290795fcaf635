"""Make the analyst tables k-anonymous: global recoding by a greedy lattice search, then
local suppression of the survivors still in classes smaller than k.

1. Global recoding. Each dimension of `DIMENSIONS` has levels (period: month -> quarter ->
   year; geography: district -> province -> none; ...) and a loss per level. From the most
   detailed node of the lattice a greedy walk raises one dimension per step up to the top
   (`choose_levels`); the node kept is the one on the walk with the least estimated
   information loss, counting the values of survivors still below k as lost (they will be
   suppressed). Deterministic: same data, same levels.
2. Local suppression, in stages, per equivalence class still below k: 1 = the survivor's
   episode quasi-identifiers are set to NULL and her referral rows left out (her own row
   stays), 2 = her own row's quasi-identifiers are NULL as well, 3 = she is left out of
   the file. A class moves up one stage at a time until every class has k members
   (survivors with an unusual number of episodes can stay unique even when everything is
   NULL; they are the ones left out).

Equivalence classes here use 64-bit hashes of the signature for speed (the exact check is
`pipelines.anonymity.check`, run on the result by the publish step).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipelines.anonymity.generalisation import generalise
from pipelines.anonymity.quasi_identifiers import (
    ANALYST_COLUMNS,
    DIMENSION_NAMES,
    DIMENSIONS,
    quasi_identifiers,
)

logger = logging.getLogger(__name__)

STAGES = ("published", "episodes_suppressed", "all_suppressed", "left_out")


@dataclass(frozen=True)
class AnonymityPolicy:
    """The smallest equivalence class a release may have."""

    k: int


@dataclass(frozen=True)
class AnonymityReport:
    """What anonymising one release took. Grain: one publication of analyst.duckdb."""

    k: int
    levels: dict[str, str]
    survivors: int
    survivors_published: int
    survivors_episodes_suppressed: int
    survivors_all_suppressed: int
    survivors_left_out: int
    qi_values: int
    qi_values_suppressed: int
    steps: tuple[str, ...] = field(default=())
    seconds: float = 0.0

    @property
    def suppressed_share(self) -> float:
        """Share of the quasi-identifier values (after coarsening) of the survivors in the
        file that local suppression took."""
        return self.qi_values_suppressed / self.qi_values if self.qi_values else 0.0


@dataclass(frozen=True)
class AnonymisedTables:
    """The four analyst tables (columns as `ANALYST_COLUMNS`) and the report."""

    tables: dict[str, pd.DataFrame]
    report: AnonymityReport


# --- the search ---------------------------------------------------------------------------


# The stage from which local suppression NULLs a table's quasi-identifiers for a survivor
# (`_suppress`); from the episodes' stage on, the survivor's referral rows are left out.
_NULLED_FROM_STAGE = {"survivors": 2, "episodes": 1, "referrals": 1}

# Hash of a NULL value in `pd.util.hash_array` (every kind of missing value hashes alike).
_NULL_HASH = np.uint64(np.iinfo(np.uint64).max)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


class _Grouping:
    """The rows of a child table grouped by their parent row (an episode's survivor, a
    referral's episode), sorted once so each search step only sums hashes per group."""

    def __init__(self, keys: pd.Series, parents: pd.Index) -> None:
        codes = parents.get_indexer(keys.to_numpy())
        known = np.flatnonzero(codes >= 0)
        self.rows = known[np.argsort(codes[known], kind="stable")]
        self.parents, self.starts = np.unique(codes[self.rows], return_index=True)
        self.size = len(parents)

    def multiset_hash(self, hashes: np.ndarray, kept: np.ndarray | None = None) -> np.ndarray:
        """Order-free hash of each parent's multiset of `hashes` (over the `kept` rows)."""
        # A sum of 64-bit hashes (wrapping) does not depend on order; collisions (about
        # 2^-64) could only merge classes, and the exact checker runs afterwards.
        mixed = pd.util.hash_array(hashes)  # so that {a, b} and {c} with a+b=c do not collide
        ones = np.ones(len(hashes), dtype=np.uint64)
        if kept is not None:
            mixed = np.where(kept, mixed, np.uint64(0))
            ones = kept.astype(np.uint64)
        sums = np.zeros(self.size, dtype=np.uint64)
        counts = np.zeros(self.size, dtype=np.uint64)
        if len(self.rows):
            sums[self.parents] = np.add.reduceat(mixed[self.rows], self.starts)
            counts[self.parents] = np.add.reduceat(ones[self.rows], self.starts)
        return pd.util.hash_array(sums ^ (counts * _GOLDEN))


class _Search:
    """Base frames, the generalised columns per level (cached), and class sizes."""

    def __init__(self, base: dict[str, pd.DataFrame], k: int) -> None:
        self.base = base
        self.k = k
        self._cache: dict[tuple[str, str, int], pd.Series] = {}
        self._hashes: dict[tuple[str, str, int | None], np.ndarray] = {}
        self._row_hashes: dict[tuple, tuple[np.ndarray, np.uint64]] = {}
        survivors = base["survivors"]
        self.survivor_index = pd.Index(survivors["survivor_id"])
        episodes = base["episodes"]
        self.episode_index = pd.Index(episodes["episode_id"])
        self.episodes_of_survivor = _Grouping(episodes["survivor_id"], self.survivor_index)
        # Each row's survivor, as a position in survivor_index (-1: not a known survivor).
        self.survivor_positions = {
            table: self.survivor_index.get_indexer(base[table]["survivor_id"].to_numpy())
            for table in ("survivors", "episodes", "referrals", "services")
            if table in base
        }
        self.referrals_of_episode = _Grouping(base["referrals"]["episode_id"], self.episode_index)

    def column(self, table: str, name: str, levels: Mapping[str, int]) -> pd.Series:
        spec = ANALYST_COLUMNS[table][name]
        if spec.dimension is None:
            return self.base[table][name]
        level = levels[spec.dimension]
        key = (table, name, level)
        if key not in self._cache:
            source = self.base[table][name]
            self._cache[key] = generalise(name, spec.dimension, source, level)
        return self._cache[key]

    def generalised(self, table: str, levels: Mapping[str, int]) -> pd.DataFrame:
        return pd.DataFrame(
            {name: self.column(table, name, levels) for name in quasi_identifiers(table)},
            index=self.base[table].index,
        ).astype(object)

    def _column_hash(self, table: str, name: str, levels: Mapping[str, int]) -> np.ndarray:
        dimension = ANALYST_COLUMNS[table][name].dimension
        key = (table, name, None if dimension is None else levels[dimension])
        if key not in self._hashes:
            values = self.column(table, name, levels).astype(object).to_numpy()
            self._hashes[key] = pd.util.hash_array(values)
        return self._hashes[key]

    def row_hashes(
        self, table: str, levels: Mapping[str, int], nulled: np.ndarray | None = None
    ) -> np.ndarray:
        """Per row of `table`: a hash of its quasi-identifiers at `levels`, equal for equal
        rows; rows where `nulled` is true hash as if every quasi-identifier were NULL (as
        local suppression publishes them). Columns, and each table's rows, are hashed once
        per combination of the levels they depend on (cached): the search asks for the same
        tables at many combinations of levels."""
        names = quasi_identifiers(table)
        dimensions = [ANALYST_COLUMNS[table][name].dimension for name in names]
        key = (table, *(None if d is None else levels[d] for d in dimensions))
        if key not in self._row_hashes:
            combined = np.zeros(len(self.base[table]), dtype=np.uint64)
            null_row = np.zeros(1, dtype=np.uint64)
            for name in names:
                combined = pd.util.hash_array(combined ^ self._column_hash(table, name, levels))
                null_row = pd.util.hash_array(null_row ^ _NULL_HASH)
            self._row_hashes[key] = (combined, null_row[0])
        combined, null_hash = self._row_hashes[key]
        if nulled is not None:
            combined = np.where(nulled, null_hash, combined)
        return combined

    def stage_of_rows(self, table: str, stage: np.ndarray) -> np.ndarray:
        """Per row of `table`: its survivor's stage (`stage` per survivor in survivor_index
        order; NaN for a row whose survivor is not in it)."""
        positions = self.survivor_positions[table]
        return np.where(positions >= 0, stage[positions], np.nan)

    def row_stages(self, table: str, stage: pd.Series) -> np.ndarray:
        """`stage_of_rows` for a stage Series indexed by survivor_id (positions, not a lookup
        of every row's survivor_id string: the tables hold millions of rows at 1M records)."""
        return self.stage_of_rows(table, stage.reindex(self.survivor_index).to_numpy(dtype=float))

    def class_sizes(self, levels: Mapping[str, int], stage: pd.Series | None = None) -> pd.Series:
        """Per survivor (indexed by survivor_id): class size at `levels` after `stage`
        (`_suppress`: QIs NULL from the table's `_NULLED_FROM_STAGE`)."""
        tables = ("survivors", "episodes", "referrals")
        nulled: dict[str, np.ndarray | None] = dict.fromkeys(tables)
        kept = None
        if stage is not None:
            by_survivor = stage.reindex(self.survivor_index).to_numpy(dtype=float)
            row_stage = {table: self.stage_of_rows(table, by_survivor) for table in tables}
            for table in tables:
                nulled[table] = row_stage[table] >= _NULLED_FROM_STAGE[table]
            # `_referrals_kept` (a row of no known survivor is neither nulled nor kept)
            kept = row_stage["referrals"] < _NULLED_FROM_STAGE["referrals"]
        referral_hash = self.row_hashes("referrals", levels, nulled["referrals"])
        referral_sets = self.referrals_of_episode.multiset_hash(referral_hash, kept)
        episode_hash = pd.util.hash_array(
            self.row_hashes("episodes", levels, nulled["episodes"]) ^ referral_sets
        )
        episode_sets = self.episodes_of_survivor.multiset_hash(episode_hash)
        signature = pd.util.hash_array(
            self.row_hashes("survivors", levels, nulled["survivors"]) ^ episode_sets
        )
        index = self.survivor_index
        if stage is not None:
            published = row_stage["survivors"] < len(STAGES) - 1
            signature, index = signature[published], index[published]
        # Hash-table factorisation, not np.unique's sort: the search calls this ~60 times
        # on every survivor (np.unique took 5 of 26 s of a 1M-record anonymisation).
        codes, _ = pd.factorize(signature)
        return pd.Series(np.bincount(codes)[codes], index=index)

    def below_k(self, levels: Mapping[str, int]) -> int:
        return int((self.class_sizes(levels) < self.k).sum())


def _referrals_kept(search: _Search, stage: pd.Series) -> np.ndarray:
    """Referral rows published: those of survivors whose episodes are not suppressed (the
    number of referrals per episode would otherwise still tell suppressed survivors apart)."""
    return search.row_stages("referrals", stage) < _NULLED_FROM_STAGE["referrals"]


def _suppress(
    frames: dict[str, pd.DataFrame], search: _Search, stage: pd.Series
) -> dict[str, pd.DataFrame]:
    """NULL the QIs of survivors at stage >= 1 (episodes, referrals) and >= 2 (own row)."""
    out = {}
    for table, frame in frames.items():
        level = search.row_stages(table, stage)
        threshold = _NULLED_FROM_STAGE[table]
        frame = frame.copy()
        frame.loc[level >= threshold, :] = None
        out[table] = frame
    return out


def _cells_per_dimension(search: _Search) -> tuple[np.ndarray, np.ndarray]:
    """Per survivor: QI values per dimension (n x dimensions) and QI values in all."""
    index = search.survivor_index
    per_dimension = np.zeros((len(index), len(DIMENSIONS)), dtype=float)
    total = np.zeros(len(index), dtype=float)
    for table in ("survivors", "episodes", "referrals"):
        positions = search.survivor_positions[table]
        rows = np.bincount(positions[positions >= 0], minlength=len(index))
        for name in quasi_identifiers(table):
            total += rows
            dimension = ANALYST_COLUMNS[table][name].dimension
            if dimension is not None:
                per_dimension[:, DIMENSION_NAMES.index(dimension)] += rows
    return per_dimension, total


def choose_levels(
    search: _Search, policy: AnonymityPolicy
) -> tuple[dict[str, int], tuple[str, ...]]:
    """Greedy walk up the global recoding lattice, then the best node on the walk.

    Each step raises the one dimension that gives the least estimated information loss
    (generalisation loss of the survivors in classes of k or more, plus all values of the
    survivors below k, who will be suppressed); on a plateau (e.g. at the bottom, where
    every survivor is unique whatever one step does) the step that brings the small
    classes closest to k (sum of k - size). The walk goes to the top; the node chosen is
    the one with the least estimated loss, the least coarsened among equals.
    """
    n = len(search.survivor_index)
    levels = {d.name: 0 for d in DIMENSIONS}
    if n == 0:
        return levels, ("no survivors",)
    per_dimension, total = _cells_per_dimension(search)

    def score(trial: Mapping[str, int]) -> tuple[float, float, int]:
        sizes = search.class_sizes(trial).to_numpy()
        small = sizes < policy.k
        loss = np.array([d.loss[trial[d.name]] for d in DIMENSIONS])
        estimated = float(total[small].sum() + (per_dimension[~small] @ loss).sum())
        deficit = float(np.maximum(policy.k - sizes, 0).sum())
        return estimated, deficit, int(small.sum())

    current = score(levels)
    path = [(current[0], 0, dict(levels), current[2])]
    steps = [f"start: loss {current[0]:.0f}, {current[2]} of {n} survivors below k"]
    while any(levels[d.name] < d.top for d in DIMENSIONS):
        candidates = []
        for order, dimension in enumerate(DIMENSIONS):
            if levels[dimension.name] < dimension.top:
                trial = {**levels, dimension.name: levels[dimension.name] + 1}
                candidates.append((*score(trial), order, dimension))
        loss, _, small, _, best = min(candidates, key=lambda c: c[:4])
        levels[best.name] += 1
        path.append((loss, len(path), dict(levels), small))
        steps.append(
            f"{best.name} -> {best.levels[levels[best.name]]}: loss {loss:.0f}, {small} below k"
        )
    loss, position, chosen, small = min(path, key=lambda p: p[:2])
    steps.append(f"chosen: node {position} of the walk ({small} survivors to suppress)")
    return chosen, tuple(steps)


def suppress_locally(search: _Search, levels: Mapping[str, int]) -> pd.Series:
    """Stage per survivor (index survivor_id): raise small classes until none is below k."""
    stage = pd.Series(0, index=search.survivor_index, dtype=int)
    last = len(STAGES) - 1
    while True:
        sizes = search.class_sizes(levels, stage)
        small = sizes.index[(sizes < search.k).to_numpy()]
        if len(small) == 0:
            return stage
        stage.loc[small] = np.minimum(stage.loc[small] + 1, last)


# --- the release --------------------------------------------------------------------------


def anonymise(base: dict[str, pd.DataFrame], policy: AnonymityPolicy) -> AnonymisedTables:
    """The analyst tables from the warehouse-level `base` frames, k-anonymous by design.

    `base` holds `survivors`, `episodes`, `referrals`, `services` with the columns of
    `ANALYST_COLUMNS` except that period columns hold dates (`first_contact_period`,
    `contact_period`: DATE; referrals have no period, theirs is their episode's).
    """
    if policy.k < 2:
        raise ValueError("k must be at least 2")
    started = time.perf_counter()
    base = dict(base)
    episode_dates = base["episodes"].set_index("episode_id")["contact_period"]
    base["referrals"] = base["referrals"].assign(
        contact_period=base["referrals"]["episode_id"].map(episode_dates)
    )
    search = _Search(base, policy.k)
    levels, steps = choose_levels(search, policy)
    stage = suppress_locally(search, levels)
    recoded = {t: search.generalised(t, levels) for t in ("survivors", "episodes", "referrals")}
    suppressed = _suppress(recoded, search, stage)
    tables = _assemble(search, suppressed, stage)
    # Values of the survivors in the file after global recoding, and how many of them local
    # suppression took (set to NULL, or in a referral row left out).
    qi_values = lost = 0
    for table, frame in suppressed.items():
        kept = search.row_stages(table, stage) < len(STAGES) - 1
        qi_values += int(recoded[table][kept].size)
        lost += int((recoded[table][kept].notna() & frame[kept].isna()).to_numpy().sum())
    counts = stage.value_counts()
    report = AnonymityReport(
        k=policy.k,
        levels={d.name: d.levels[levels[d.name]] for d in DIMENSIONS},
        survivors=len(stage),
        survivors_published=int((stage < len(STAGES) - 1).sum()),
        survivors_episodes_suppressed=int(counts.get(1, 0)),
        survivors_all_suppressed=int(counts.get(2, 0)),
        survivors_left_out=int(counts.get(3, 0)),
        qi_values=qi_values,
        qi_values_suppressed=lost,
        steps=steps,
        seconds=time.perf_counter() - started,
    )
    logger.info(
        "analyst file k=%d: levels %s; %d of %d survivors left out, %.1f%% of "
        "quasi-identifier values suppressed",
        policy.k,
        report.levels,
        report.survivors_left_out,
        report.survivors,
        100 * report.suppressed_share,
    )
    return AnonymisedTables(tables, report)


def _assemble(
    search: _Search, suppressed: dict[str, pd.DataFrame], stage: pd.Series
) -> dict[str, pd.DataFrame]:
    """Published tables: ids, generalised and suppressed QIs, sensitive columns; survivors
    left out removed; episode ids renumbered so that their order within a survivor follows
    the published values, not the (finer) true order of contacts."""
    base = search.base

    def in_file(table: str) -> np.ndarray:
        """Rows of survivors not left out (a row of no known survivor is not)."""
        return search.row_stages(table, stage) < len(STAGES) - 1

    out: dict[str, pd.DataFrame] = {}
    for table in ("survivors", "episodes", "referrals"):
        frame = base[table].copy()
        for name in quasi_identifiers(table):
            frame[name] = suppressed[table][name]
        out[table] = frame[in_file(table)]
    out["referrals"] = out["referrals"][_referrals_kept(search, stage)[out["referrals"].index]]
    episodes = out["episodes"]
    order = [
        "survivor_id",
        "contact_period",
        "is_first_episode",
        *[
            c
            for c in quasi_identifiers("episodes")
            if c not in ("contact_period", "is_first_episode")
        ],
    ]
    first = episodes["is_first_episode"].map({True: 0, False: 1})
    ranked = episodes.assign(is_first_episode=first).sort_values(
        [*order, "episode_id"], na_position="last", kind="mergesort"
    )
    new_ids = pd.Series(np.arange(1, len(ranked) + 1), index=ranked["episode_id"].to_numpy())
    episodes = episodes.loc[ranked.index].assign(episode_id=new_ids.to_numpy())
    out["episodes"] = episodes.reset_index(drop=True)
    referrals = out["referrals"].assign(episode_id=out["referrals"]["episode_id"].map(new_ids))
    out["referrals"] = referrals.sort_values(
        ["episode_id", "direction", "from_agency_type", "to_agency_type"],
        na_position="last",
        kind="mergesort",
    ).reset_index(drop=True)
    services = base["services"][in_file("services")]
    services = services.assign(episode_id=services["episode_id"].map(new_ids))
    out["services"] = services.sort_values(["episode_id", "service_code"]).reset_index(drop=True)
    out["survivors"] = out["survivors"].sort_values("survivor_id").reset_index(drop=True)
    return {t: out[t][list(ANALYST_COLUMNS[t])] for t in ANALYST_COLUMNS}
