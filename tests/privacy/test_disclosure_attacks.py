"""Attacks on public.duckdb by an attacker independent of the protector (`attacker.py`).

A small synthetic warehouse is built and published; the attacker reads the published file
(plus the published geography) and solves min/max LPs per hidden cell with every relation
the definitions imply. Checks: no hidden cell is exactly recoverable; every hidden cell
holding 1..k-1 people has a feasible range that includes 0 and is at least k wide; no column
says why a cell is hidden; the same data gives the same file; a withdrawal does not show.
"""

from __future__ import annotations

import random

import duckdb
import numpy as np
import pandas as pd
import pytest

from pipelines.defs.core.build import build_core
from pipelines.defs.marts.build import MART_TABLES, build_marts
from pipelines.defs.publish import build as publish_build
from tests.pipelines.warehouse_fixtures import build_warehouse
from tests.privacy.attacker import Attacker, closed_geo_sums

K = 5
COUNT_TABLES = [t for t in MART_TABLES if t != "geography"]


def read_public(path) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(path), read_only=True) as reader:
        names = [r[0] for r in reader.execute("SHOW TABLES").fetchall()]
        return {n: reader.execute(f"SELECT * FROM {n}").df() for n in names}  # noqa: S608


def attacker_for(public: dict[str, pd.DataFrame], truth: dict[str, pd.DataFrame]) -> Attacker:
    geography = public["geography"]
    parents = {
        str(c): str(p)
        for c, p in zip(geography["geo_code"], geography["parent_code"], strict=True)
        if p is not None and p == p
    }
    tables = {t: public[t] for t in COUNT_TABLES}
    grid = {
        tuple(row)
        for row in public["published_grid"][
            ["table_name", "geo_level", "period_type", "dimension"]
        ].itertuples(index=False)
    }
    return Attacker(tables, parents, closed_geo_sums(truth, parents), grid=grid)


def true_values(attacker: Attacker, truth: dict[str, pd.DataFrame]) -> np.ndarray:
    """The true value of each attacker variable (from the marts; the attacker never sees it)."""
    lookup = {}
    for name, frame in truth.items():
        keys = attacker.keys.get(name)
        if keys is None:
            continue
        for row in frame[[*keys, "value"]].itertuples(index=False, name=None):
            lookup[(name, tuple(str(v) for v in row[:-1]))] = row[-1]
    values = []
    for name, i in attacker.variables:
        key = tuple(str(v) for v in attacker.tables[name].loc[i, attacker.keys[name]])
        values.append(lookup[(name, key)])
    # Rows of slices the file does not publish (absent from the marts too: zero).
    for name, key in sorted(attacker.unpublished, key=attacker.unpublished.get):
        values.append(lookup.get((name, key), 0))
    return np.asarray(values, dtype=float)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    con = duckdb.connect()
    build_warehouse(con, people=150, span_days=500, followups=True)
    build_core(con)
    build_marts(con)
    folder = tmp_path_factory.mktemp("attack")
    publish_build.publish(con, folder, K, run_id="attack-1")
    truth = {t: con.execute(f"SELECT * FROM marts.{t}").df() for t in COUNT_TABLES}  # noqa: S608
    yield con, folder, truth
    con.close()


@pytest.fixture(scope="module")
def attack(warehouse):
    _, folder, truth = warehouse
    public = read_public(folder / "public.duckdb")
    attacker = attacker_for(public, truth)
    return attacker, true_values(attacker, truth)


def test_truth_satisfies_the_attackers_relations(attack):
    """Guards the attacker itself: its equations hold for the true values."""
    attacker, truth = attack
    (a_eq, b_eq), (a_ub, b_ub) = attacker._matrices()
    assert np.allclose(a_eq @ truth, b_eq)
    assert (a_ub @ truth <= b_ub + 1e-9).all()


def _sample(indices: np.ndarray, size: int, seed: int = 3) -> list[int]:
    indices = sorted(int(i) for i in indices)
    return sorted(random.Random(seed).sample(indices, min(size, len(indices))))


def test_no_hidden_cell_is_exactly_recoverable(attack):
    attacker, truth = attack
    cells = _sample(np.arange(len(attacker.variables)), 200)  # the published hidden cells
    ranges = attacker.ranges(cells)
    exact = [
        (attacker.variables[v], truth[v])
        for v, (lo, hi) in ranges.items()
        if hi - lo < 0.5 and truth[v] > 0
    ]
    assert exact == [], f"{len(exact)} of {len(cells)} sampled hidden cells recovered exactly"


def test_small_hidden_cells_have_a_range_at_least_k_wide_including_zero(attack):
    attacker, truth = attack
    hidden = truth[: len(attacker.variables)]
    cells = _sample(np.flatnonzero((hidden >= 1) & (hidden < K)), 150)
    assert cells
    ranges = attacker.ranges(cells)
    narrow = [
        (attacker.variables[v], truth[v], lo, hi)
        for v, (lo, hi) in ranges.items()
        if lo > 1e-6 or hi - lo < K - 1e-6
    ]
    assert narrow == [], f"{len(narrow)} of {len(cells)} small hidden cells: {narrow[:5]}"


def test_same_data_gives_the_same_tables_whatever_the_row_order(warehouse):
    """Two publications of the same data: identical cells hidden (no tie broken by row or
    hash order), so comparing the files tells nothing more than one file."""
    from pipelines.disclosure import protect_tables

    _, _, truth = warehouse
    shuffled = {n: f.sample(frac=1.0, random_state=7) for n, f in truth.items()}
    first = protect_tables(dict(truth), K)
    second = protect_tables(shuffled, K)
    for name in COUNT_TABLES:
        pd.testing.assert_frame_equal(
            first[name].reset_index(drop=True), second[name].reset_index(drop=True)
        )


def test_no_column_says_why_a_cell_is_hidden(warehouse):
    _, folder, _ = warehouse
    public = read_public(folder / "public.duckdb")
    for name in COUNT_TABLES:
        frame = public[name]
        assert "suppression" not in frame.columns, name
        assert set(frame.columns) - {"is_suppressed", "value"} <= set(warehouse[2][name].columns), (
            name
        )
        assert (frame["value"].isna() == frame["is_suppressed"]).all(), name


def _published_values(folder) -> dict[tuple, int]:
    """Every shown count of a public file, keyed by table and key columns."""
    from pipelines.disclosure.relations import KEYS

    public = read_public(folder / "public.duckdb")
    shown = {}
    for name in COUNT_TABLES:
        frame = public[name]
        frame = frame[frame["value"].notna()]
        if "measure" in frame:
            frame = frame[frame["measure"] != "mean_score_pct"]
        for row in frame[[*KEYS[name], "value"]].itertuples(index=False, name=None):
            shown[(name, *map(str, row[:-1]))] = int(row[-1])
    return shown


def _remove_one_survivor(con: duckdb.DuckDBPyConnection) -> int:
    """Erase every record of the survivor with the most records, as a withdrawal does, and
    rebuild core and marts; returns how many records went."""
    survivor, tokens = con.execute(
        "SELECT survivor_id, list(record_token) FROM linkage.memberships GROUP BY ALL "
        "ORDER BY count(*) DESC, survivor_id LIMIT 1"
    ).fetchone()
    for source in ("shelter", "ocmc", "migration"):
        con.execute(
            f"DELETE FROM staging.{source} WHERE list_contains(?, record_token)",  # noqa: S608
            [tokens],
        )
    con.execute("DELETE FROM linkage.memberships WHERE survivor_id = ?", [survivor])
    build_core(con)
    build_marts(con)
    return len(tokens)


@pytest.fixture(scope="module")
def republished(tmp_path_factory):
    """The same warehouse published three times: twice unchanged, then after a withdrawal."""
    con = duckdb.connect()
    build_warehouse(con, people=150, span_days=500, followups=True)
    build_core(con)
    build_marts(con)
    folders = [tmp_path_factory.mktemp(f"publication-{i}") for i in range(3)]
    publish_build.publish(con, folders[0], K, run_id="p1")
    publish_build.publish(con, folders[1], K, run_id="p2")
    removed = _remove_one_survivor(con)
    publish_build.publish(con, folders[2], K, run_id="p3")
    truth = {t: con.execute(f"SELECT * FROM marts.{t}").df() for t in COUNT_TABLES}  # noqa: S608
    yield folders, removed, truth
    con.close()


def test_republishing_unchanged_data_gives_the_same_tables(republished):
    """Two publications of the same data (e.g. two runs with nothing new): the same cells
    shown with the same values and the same cells hidden."""
    folders, _, _ = republished
    first, second = (
        read_public(folders[0] / "public.duckdb"),
        read_public(folders[1] / "public.duckdb"),
    )
    for name in COUNT_TABLES:
        pd.testing.assert_frame_equal(first[name], second[name])


def test_a_withdrawal_does_not_show_as_a_small_difference(republished):
    """Before/after a withdrawal: no count shown in both files moved by 1..k-1 (the review
    found 90 cells that dropped by exactly 1, describing the withdrawn person)."""
    folders, removed, _ = republished
    assert removed >= 2
    before, after = _published_values(folders[1]), _published_values(folders[2])
    moved = {
        key: (before[key], after[key])
        for key in before.keys() & after.keys()
        if 1 <= abs(before[key] - after[key]) < K
    }
    assert moved == {}, f"{len(moved)} cells moved by less than {K}: {list(moved.items())[:5]}"
    assert len(before.keys() & after.keys()) > 100  # the files still share most figures


def test_the_file_after_a_withdrawal_passes_the_attack(republished):
    folders, _, truth = republished
    public = read_public(folders[2] / "public.duckdb")
    attacker = attacker_for(public, truth)
    values = true_values(attacker, truth)
    hidden = values[: len(attacker.variables)]
    cells = _sample(np.flatnonzero((hidden >= 1) & (hidden < K)), 100)
    ranges = attacker.ranges(cells)
    narrow = [
        (attacker.variables[v], values[v], lo, hi)
        for v, (lo, hi) in ranges.items()
        if lo > 1e-6 or hi - lo < K - 1e-6
    ]
    assert narrow == []
    sampled = _sample(np.arange(len(attacker.variables)), 150)
    exact = [
        v for v, (lo, hi) in attacker.ranges(sampled).items() if hi - lo < 0.5 and values[v] > 0
    ]
    assert exact == []
