"""An attacker on public.duckdb, written independently of `pipelines.disclosure`.

It reads only the published tables (and, for the "lucky guess" below, which geography sums
have no unknown place) and the definitions in docs/interfaces.md section 4, and writes its
own equations and inequalities from them: nothing is imported from the protector, so a
relation the protector forgets is still used here. Every hidden cell (value NULL) is an
unknown >= 0; an absent row is a zero when its slice (place level, period type, dimension)
is listed in `published_grid`, and an unknown >= 0 when the slice is not published at all.
For each hidden cell it asks HiGHS (`linprog`) for the
smallest and largest value consistent with everything published: the cell's feasible range.

Relations it uses (each follows from the definition of the counts):

- geography: a place's count = the sum of its child places (+ an unknown-place slack >= 0,
  or exactly the sum when the test tells it no place is unknown: a lucky guess);
- categories: the `all` row = the sum of the categories of each dimension;
- time, counts of events/cohorts: year = sum of quarters = sum of months, fiscal year = sum of
  BS months, and the sum over calendar years = the sum over fiscal years (the same events);
- time, unique survivors: a period counts at least as many as each period inside it and at
  most their sum;
- score bands add up to survivors_scored; batches_received = accepted + rejected; rows
  received >= loaded + quarantined;
- same count in two tables: followup_coverage.survivors_first_contact = the `all` row of
  survivor_statistics.new_survivors; in the first period of each period type nobody was seen
  before, so survivors = new_survivors;
- orderings: records >= survivors >= new_survivors; survivors >= returning_survivors (all,
  sex); referrals >= referrals_confirmed; services_given >= survivors_served; cohort >=
  followed within 12 months >= followed within 6 months; survivors_served <= survivors and
  services_given <= records of the same place and period.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components

NOT_KEYS = {"value", "is_suppressed", "suppression", "period_start", "geo_level", "service_tier"}
EVENT_MEASURES = {
    "records",
    "new_survivors",
    "services_given",
    "referrals",
    "referrals_confirmed",
    "survivors_first_contact",
    "followed_within_6m",
    "followed_within_12m",
}
UNIQUE_MEASURES = {"survivors", "returning_survivors", "survivors_served"}
BANDS = ("score_band_0_25", "score_band_25_50", "score_band_50_75", "score_band_75_100")


def _period_parent(period_type: str, period: str) -> tuple[str, str] | None:
    if period_type == "month":
        return "quarter", f"{period[:4]}-Q{(int(period[5:7]) - 1) // 3 + 1}"
    if period_type == "quarter":
        return "year", period[:4]
    if period_type == "bs_month":
        year = int(period[:4])
        start = year if int(period[5:7]) >= 4 else year - 1
        return "bs_fiscal_year", f"{start}/{(start + 1) % 100:02d}"
    return None


@dataclass
class Attacker:
    """Builds the attacker's linear system over the hidden cells of published tables."""

    tables: dict[str, pd.DataFrame]
    parents: dict[str, str]  # geo_code -> parent_code (from the published geography)
    closed: set[tuple] = field(default_factory=set)  # geo sums the attacker guesses are exact
    # (table, geo_level, period_type, dimension) published; None: every absent row is a zero.
    grid: set[tuple[str, str, str, str]] | None = None
    variables: list[tuple[str, int]] = field(default_factory=list)
    equations: list[tuple[dict[int, float], float]] = field(default_factory=list)
    inequalities: list[tuple[dict[int, float], float]] = field(default_factory=list)

    def _slice_published(self, name: str, key: tuple) -> bool:
        if self.grid is None:
            return True
        row = dict(zip(self.keys[name], key, strict=True))
        if "geo_code" not in row or "period_type" not in row:
            return True
        code = row["geo_code"]
        level = {2: "national", 1: "province", 3: "district", 5: "local_level"}[len(code)]
        return (name, level, row["period_type"], row.get("dimension", "all")) in self.grid

    def __post_init__(self) -> None:
        # Rows of unpublished slices the relations name: unknowns numbered after the hidden
        # cells (variables 0..len(variables)-1 are the published hidden cells).
        self.unpublished: dict[tuple[str, tuple], int] = {}
        self.var_of: dict[tuple[str, int], int] = {}
        self.keys: dict[str, list[str]] = {}
        self.index: dict[str, dict[tuple, int]] = {}
        for name, frame in self.tables.items():
            keys = [c for c in frame.columns if c not in NOT_KEYS]
            self.keys[name] = keys
            frame = frame[
                frame.get("measure", pd.Series("", index=frame.index)) != "mean_score_pct"
            ]
            self.index[name] = {
                tuple(str(v) for v in row): i
                for i, row in zip(
                    frame.index, frame[keys].itertuples(index=False, name=None), strict=True
                )
            }
            for i in frame.index[frame["value"].isna()]:
                self.var_of[(name, int(i))] = len(self.variables)
                self.variables.append((name, int(i)))
        self._build()

    # -- terms -------------------------------------------------------------------------
    def _term(self, name: str, key: tuple) -> tuple[int | None, float]:
        """(variable, 0) for a hidden row or a row of an unpublished slice, (None, value) for
        a published row, (None, 0) for a row absent from a published slice."""
        i = self.index[name].get(key)
        if i is None:
            if self._slice_published(name, key):
                return None, 0.0
            if (name, key) not in self.unpublished:
                self.unpublished[(name, key)] = len(self.variables) + len(self.unpublished)
            return self.unpublished[(name, key)], 0.0
        var = self.var_of.get((name, i))
        if var is not None:
            return var, 0.0
        return None, float(self.tables[name].at[i, "value"])

    def _linear(self, terms: list[tuple[float, str, tuple]]) -> tuple[dict[int, float], float]:
        """sum(coef * cell) as ({var: coef}, constant)."""
        coefs: dict[int, float] = defaultdict(float)
        constant = 0.0
        for coef, name, key in terms:
            var, value = self._term(name, key)
            if var is None:
                constant += coef * value
            else:
                coefs[var] += coef
        return {v: c for v, c in coefs.items() if c}, constant

    def equal(self, terms: list[tuple[float, str, tuple]], slack: bool = False) -> None:
        """sum(terms) == 0, or sum(terms) >= 0 with `slack` (the rest is a count >= 0)."""
        coefs, constant = self._linear(terms)
        if slack:
            if coefs:
                self.inequalities.append(({v: -c for v, c in coefs.items()}, constant))
        elif coefs:
            self.equations.append((coefs, -constant))

    def at_most(self, small: list[tuple[str, tuple]], large: list[tuple[str, tuple]]) -> None:
        """sum(small) <= sum(large)."""
        coefs, constant = self._linear([(1.0, *s) for s in small] + [(-1.0, *t) for t in large])
        if coefs:
            self.inequalities.append((coefs, -constant))

    # -- the relations -----------------------------------------------------------------
    def _rows(self, name: str):
        keys = self.keys[name]
        return [dict(zip(keys, k, strict=True)) for k in self.index[name]]

    def _key(self, name: str, row: dict) -> tuple:
        return tuple(row[k] for k in self.keys[name])

    def _build(self) -> None:
        for name in self.tables:
            rows = self._rows(name)
            keys = self.keys[name]
            if "geo_code" in keys:
                self._geo(name, rows)
            if "dimension" in keys:
                self._categories(name, rows)
            if "period_type" in keys and "measure" in keys:
                self._time(name, rows)
            if name == "reintegration_statistics":
                self._parts(name, rows, "survivors_scored", BANDS, exact=True)
            if name == "quality_statistics":
                self._quality(rows)
        self._orderings()
        self._same_counts()

    def _geo(self, name: str, rows: list[dict]) -> None:
        children: dict[tuple, list[tuple]] = defaultdict(list)
        for row in rows:
            parent = self.parents.get(row["geo_code"])
            if parent is not None:
                children[self._key(name, {**row, "geo_code": parent})].append(self._key(name, row))
        for parent_key, kids in sorted(children.items()):
            self.equal(
                [(1.0, name, parent_key), *[(-1.0, name, k) for k in kids]],
                slack=(name, parent_key) not in self.closed,
            )

    def _categories(self, name: str, rows: list[dict]) -> None:
        groups: dict[tuple, list[tuple]] = defaultdict(list)
        for row in rows:
            if row["dimension"] != "all":
                total = self._key(name, {**row, "dimension": "all", "category": "all"})
                groups[(total, row["dimension"])].append(self._key(name, row))
        for (total, _), kids in sorted(groups.items()):
            self.equal([(1.0, name, total), *[(-1.0, name, k) for k in kids]])

    def _time(self, name: str, rows: list[dict]) -> None:
        children: dict[tuple, list[tuple]] = defaultdict(list)
        tops: dict[tuple, dict[str, list[tuple]]] = defaultdict(lambda: defaultdict(list))
        for row in rows:
            parent = _period_parent(row["period_type"], row["period"])
            if parent is not None:
                parent_key = self._key(name, {**row, "period_type": parent[0], "period": parent[1]})
                children[(parent_key, row["measure"])].append(self._key(name, row))
            if row["period_type"] in ("year", "bs_fiscal_year"):
                rest = self._key(name, {**row, "period_type": "", "period": ""})
                tops[rest][row["period_type"]].append(self._key(name, row))
        for (parent_key, measure), kids in sorted(children.items()):
            if measure in EVENT_MEASURES:
                self.equal([(1.0, name, parent_key), *[(-1.0, name, k) for k in kids]])
            elif measure in UNIQUE_MEASURES:
                for kid in kids:
                    self.at_most([(name, kid)], [(name, parent_key)])
                self.at_most([(name, parent_key)], [(name, k) for k in kids])
        for rest, systems in sorted(tops.items()):
            measure = rest[self.keys[name].index("measure")]
            if measure in EVENT_MEASURES and len(systems) == 2:
                self.equal(
                    [
                        *[(1.0, name, k) for k in systems["year"]],
                        *[(-1.0, name, k) for k in systems["bs_fiscal_year"]],
                    ]
                )

    def _parts(
        self,
        name: str,
        rows: list[dict],
        total: str,
        parts: tuple[str, ...],
        exact: bool,
        column: str = "measure",
    ) -> None:
        for row in rows:
            if row[column] == total:
                terms = [(1.0, name, self._key(name, row))]
                terms += [(-1.0, name, self._key(name, {**row, column: p})) for p in parts]
                self.equal(terms, slack=not exact)

    def _quality(self, rows: list[dict]) -> None:
        name = "quality_statistics"
        self._parts(
            name,
            rows,
            "batches_received",
            ("batches_accepted", "batches_rejected"),
            exact=True,
            column="metric",
        )
        self._parts(
            name,
            rows,
            "rows_received",
            ("rows_loaded", "rows_quarantined"),
            exact=False,
            column="metric",
        )

    def _orderings(self) -> None:
        pairs = {
            "survivor_statistics": [
                ("survivors", "records"),
                ("new_survivors", "survivors"),
                ("returning_survivors", "survivors"),
            ],
            "referral_statistics": [("referrals_confirmed", "referrals")],
            "service_statistics": [("survivors_served", "services_given")],
            "followup_coverage": [
                ("followed_within_6m", "followed_within_12m"),
                ("followed_within_12m", "survivors_first_contact"),
            ],
        }
        for name, orderings in pairs.items():
            if name not in self.tables:
                continue
            for row in self._rows(name):
                for small, large in orderings:
                    if row["measure"] != small:
                        continue
                    if small == "returning_survivors" and row["dimension"] not in ("all", "sex"):
                        continue
                    self.at_most(
                        [(name, self._key(name, row))],
                        [(name, self._key(name, {**row, "measure": large}))],
                    )
        if "service_statistics" in self.tables and "survivor_statistics" in self.tables:
            for row in self._rows("service_statistics"):
                other = {
                    "period_type": row["period_type"],
                    "period": row["period"],
                    "geo_code": row["geo_code"],
                    "dimension": "all",
                    "category": "all",
                    "measure": "survivors" if row["measure"] == "survivors_served" else "records",
                }
                self.at_most(
                    [("service_statistics", self._key("service_statistics", row))],
                    [("survivor_statistics", self._key("survivor_statistics", other))],
                )

    def _same_counts(self) -> None:
        if "survivor_statistics" not in self.tables:
            return
        survivors = "survivor_statistics"
        rows = self._rows(survivors)
        if "followup_coverage" in self.tables:
            for row in self._rows("followup_coverage"):
                if row["measure"] == "survivors_first_contact":
                    other = {
                        **row,
                        "dimension": "all",
                        "category": "all",
                        "measure": "new_survivors",
                    }
                    self.equal(
                        [
                            (1.0, "followup_coverage", self._key("followup_coverage", row)),
                            (-1.0, survivors, self._key(survivors, other)),
                        ]
                    )
        first: dict[str, str] = {}
        for row in rows:
            first[row["period_type"]] = min(first.get(row["period_type"], "~"), row["period"])
        for row in rows:
            if row["measure"] == "survivors" and row["period"] == first[row["period_type"]]:
                self.equal(
                    [
                        (1.0, survivors, self._key(survivors, row)),
                        (
                            -1.0,
                            survivors,
                            self._key(survivors, {**row, "measure": "new_survivors"}),
                        ),
                    ]
                )

    # -- the attack --------------------------------------------------------------------
    def _matrices(self):
        n = len(self.variables) + len(self.unpublished)

        def build(rows):
            data, ri, ci, rhs = [], [], [], []
            for r, (coefs, b) in enumerate(rows):
                for v, c in coefs.items():
                    ri.append(r)
                    ci.append(v)
                    data.append(c)
                rhs.append(b)
            return sparse.csr_matrix((data, (ri, ci)), shape=(len(rows), n)), np.array(rhs)

        return build(self.equations), build(self.inequalities)

    def ranges(self, cells: list[int] | None = None) -> dict[int, tuple[float, float]]:
        """Feasible (min, max) of each hidden variable in `cells` (default: all)."""
        (a_eq, b_eq), (a_ub, b_ub) = self._matrices()
        n = len(self.variables)  # the published hidden cells; unpublished rows follow them
        incidence = sparse.vstack([abs(a_eq), abs(a_ub)]).tocsr()
        incidence.data[:] = 1.0
        _, labels = connected_components(incidence.T @ incidence, directed=False)
        wanted = range(n) if cells is None else cells
        out: dict[int, tuple[float, float]] = {}
        by_label: dict[int, list[int]] = defaultdict(list)
        for v in wanted:
            by_label[labels[v]].append(v)
        for label, targets in sorted(by_label.items()):
            members = np.flatnonzero(labels == label)
            eq_rows = np.unique(a_eq[:, members].nonzero()[0])
            ub_rows = np.unique(a_ub[:, members].nonzero()[0])
            sub_eq = a_eq[eq_rows][:, members]
            sub_ub = a_ub[ub_rows][:, members]
            position = {int(v): j for j, v in enumerate(members)}
            for v in targets:
                bounds = []
                for sign in (1.0, -1.0):
                    c = np.zeros(len(members))
                    c[position[v]] = sign
                    result = linprog(
                        c,
                        A_ub=sub_ub if len(ub_rows) else None,
                        b_ub=b_ub[ub_rows] if len(ub_rows) else None,
                        A_eq=sub_eq if len(eq_rows) else None,
                        b_eq=b_eq[eq_rows] if len(eq_rows) else None,
                        bounds=(0, None),
                        method="highs",
                    )
                    if result.status == 3:  # unbounded above
                        bounds.append(np.inf)
                    elif result.status != 0:
                        raise AssertionError(f"attacker LP failed: {result.message}")
                    else:
                        bounds.append(sign * result.fun)
                out[v] = (bounds[0], bounds[1])
        return out


def closed_geo_sums(truth: dict[str, pd.DataFrame], parents: dict[str, str]) -> set[tuple]:
    """(table, parent key) of geography sums with no unknown place in the true marts: the
    attacker may guess these are exact (a strictly stronger attacker)."""
    closed = set()
    for name, frame in truth.items():
        if "geo_code" not in frame.columns:
            continue
        frame = frame[frame.get("measure", pd.Series("", index=frame.index)) != "mean_score_pct"]
        keys = [c for c in frame.columns if c not in NOT_KEYS]
        values = {
            tuple(str(v) for v in row[:-1]): row[-1]
            for row in frame[[*keys, "value"]].itertuples(index=False, name=None)
        }
        sums: dict[tuple, float] = defaultdict(float)
        geo = keys.index("geo_code")
        for key, value in values.items():
            parent = parents.get(key[geo])
            if parent is not None:
                sums[(*key[:geo], parent, *key[geo + 1 :])] += value
        for key, total in values.items():
            if sums.get(key, 0) == total:
                closed.add((name, key))
    return closed
