"""The k-anonymity checker: an independent test of a file, not part of the anonymiser.

It recomputes every survivor's equivalence class from the published tables alone (so it
checks what readers get, whatever produced it) and the publish step and the CTDC export
refuse to write when it fails. It shares with the anonymiser only the statement of what
the quasi-identifiers are (`pipelines.anonymity.quasi_identifiers`), not its code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import pandas as pd

from pipelines.anonymity.quasi_identifiers import (
    ANALYST_COLUMNS,
    EPISODE_TABLE,
    REFERRAL_TABLE,
    SURVIVOR_TABLE,
    quasi_identifiers,
)


class KAnonymityError(RuntimeError):
    """A file would single out survivors: some equivalence class is smaller than k."""


@dataclass(frozen=True)
class AnonymityCheck:
    """Equivalence classes of a file. Grain: one file (or row set) at one k."""

    k: int
    survivors: int
    classes: int
    smallest_class: int | None  # None when there are no survivors
    survivors_below_k: int
    unique_survivors: int

    @property
    def passed(self) -> bool:
        return self.survivors_below_k == 0


def _json_list(alias: str, columns: Sequence[str]) -> str:
    # to_json of a VARCHAR list keeps NULL as null (concat_ws would drop it and shift values).
    values = ", ".join(f'CAST({alias}."{c}" AS VARCHAR)' for c in columns)
    return f"to_json([{values}])"


def _table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = ? "
        "AND schema_name = current_schema() AND database_name = current_database() "
        "ORDER BY column_index",
        [table],
    ).fetchall()
    return [r[0] for r in rows]


def check_columns_classified(con: duckdb.DuckDBPyConnection) -> None:
    """Raise unless every analyst table has exactly the columns `ANALYST_COLUMNS` lists."""
    for table, declared in ANALYST_COLUMNS.items():
        present = _table_columns(con, table)
        if set(present) != set(declared):
            unknown = sorted(set(present) - set(declared))
            missing = sorted(set(declared) - set(present))
            raise KAnonymityError(
                f"analyst table {table}: columns not classified in "
                f"pipelines/anonymity/quasi_identifiers.py: {unknown}; missing: {missing}. "
                "Classify a new column (id, quasi_identifier or sensitive) before publishing it."
            )


def survivor_class_sizes(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per survivor of the analyst tables on `con`: the size of her equivalence class.

    Signature = survivor QIs + sorted list of her episodes' (episode QIs + sorted list of the
    episode's referral QIs). Grain: one row per survivor_id (columns survivor_id,
    class_size).
    """
    check_columns_classified(con)
    orphans = con.execute(
        f"""SELECT
            (SELECT count(*) FROM {EPISODE_TABLE} e ANTI JOIN {SURVIVOR_TABLE} s
                USING (survivor_id)),
            (SELECT count(*) FROM {REFERRAL_TABLE} r ANTI JOIN {EPISODE_TABLE} e
                ON e.episode_id = r.episode_id AND e.survivor_id = r.survivor_id)"""  # noqa: S608
    ).fetchone()
    if orphans != (0, 0):
        raise KAnonymityError(
            f"analyst tables do not nest: {orphans[0]} episodes without a survivor, "
            f"{orphans[1]} referrals without their episode; the classes cannot be computed"
        )
    survivor = _json_list("s", quasi_identifiers(SURVIVOR_TABLE))
    episode = _json_list("e", quasi_identifiers(EPISODE_TABLE))
    referral = _json_list("r", quasi_identifiers(REFERRAL_TABLE))
    # Table and column names come from the registry, not from data.
    sql = f"""
        WITH referral_lists AS (
            SELECT r.episode_id, list_sort(list({referral})) AS referrals
            FROM {REFERRAL_TABLE} AS r GROUP BY r.episode_id
        ), episode_lists AS (
            SELECT e.survivor_id,
                list_sort(list(to_json([{episode}, to_json(coalesce(rl.referrals, []))])))
                    AS episodes
            FROM {EPISODE_TABLE} AS e LEFT JOIN referral_lists AS rl USING (episode_id)
            GROUP BY e.survivor_id
        ), signatures AS (
            SELECT s.survivor_id,
                to_json([{survivor}, to_json(coalesce(el.episodes, []))]) AS signature
            FROM {SURVIVOR_TABLE} AS s LEFT JOIN episode_lists AS el USING (survivor_id)
        )
        SELECT survivor_id, count(*) OVER (PARTITION BY signature) AS class_size
        FROM signatures ORDER BY survivor_id
    """  # noqa: S608
    return con.execute(sql).df()


def _summarise(sizes: pd.Series, k: int, classes: int) -> AnonymityCheck:
    return AnonymityCheck(
        k=k,
        survivors=len(sizes),
        classes=classes,
        smallest_class=int(sizes.min()) if len(sizes) else None,
        survivors_below_k=int((sizes < k).sum()),
        unique_survivors=int((sizes == 1).sum()),
    )


def check_analyst_k_anonymity(con: duckdb.DuckDBPyConnection, k: int) -> AnonymityCheck:
    """Equivalence classes of the analyst tables on `con` (see `survivor_class_sizes`)."""
    sizes = survivor_class_sizes(con)["class_size"]
    classes = int((1 / sizes).sum().round()) if len(sizes) else 0
    return _summarise(sizes, k, classes)


def assert_analyst_k_anonymous(con: duckdb.DuckDBPyConnection, k: int) -> AnonymityCheck:
    """`check_analyst_k_anonymity`, raising KAnonymityError when a class is below k."""
    result = check_analyst_k_anonymity(con, k)
    if not result.passed:
        raise KAnonymityError(
            f"analyst file is not {k}-anonymous: {result.survivors_below_k} of "
            f"{result.survivors} survivors are in equivalence classes smaller than {k} "
            f"(smallest {result.smallest_class}); nothing was published"
        )
    return result


def check_rows_k_anonymity(frame: pd.DataFrame, columns: Sequence[str], k: int) -> AnonymityCheck:
    """Equivalence classes of a one-row-per-survivor frame on `columns` (NULL is a value)."""
    if frame.empty:
        return AnonymityCheck(k, 0, 0, None, 0, 0)
    keys = frame[list(columns)].astype(object)
    keys = keys.where(keys.notna(), "\x00null").astype(str)
    groups = keys.groupby(list(keys.columns), sort=False).ngroup()
    sizes = groups.map(groups.value_counts())
    return _summarise(sizes, k, int(groups.nunique()))


def assert_rows_k_anonymous(
    frame: pd.DataFrame, columns: Sequence[str], k: int, *, what: str = "rows"
) -> AnonymityCheck:
    """`check_rows_k_anonymity`, raising KAnonymityError when a class is below k."""
    result = check_rows_k_anonymity(frame, columns, k)
    if not result.passed:
        raise KAnonymityError(
            f"{what} are not {k}-anonymous: {result.survivors_below_k} of {result.survivors} "
            f"rows are in equivalence classes smaller than {k} (smallest "
            f"{result.smallest_class}); nothing was written"
        )
    return result
