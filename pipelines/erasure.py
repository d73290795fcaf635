"""Erase records after consent withdrawal: every row in the warehouse that names them.

`erase_records` removes, for each record_token:

1. its linkage state through `linkage.matching.remove_record` (record, encodings, blocking
   keys, pairs, review decisions, membership), which re-clusters its former cluster with the
   stable-ID rules (a removed bridge may split a survivor; IDs are logged in
   `linkage.id_changes` without tokens);
2. then, in ONE transaction, every remaining row of every warehouse table that has a
   `record_token`, `record_token_l` or `record_token_r` column equal to it (staging rows,
   quarantine rows, core rows, anything a later stage adds). The table list is read from the
   catalog, not hard-coded, so a new table holding tokens is covered without editing this
   module. The caller's bookkeeping (audit row, `ops.withdrawals`) is written by `on_commit`
   inside the same transaction.

After the commit no row anywhere holds the tokens (checked; `ErasureIncomplete` otherwise).
Derived tables (marts) and the reader files are rebuilt by the caller (`rebuild_and_publish`).

Crash safety: each step is idempotent. Killed after step 1, a re-run finds the tokens still
in staging and finishes; the outcome (and the counts it reports) is the same.
Erasure is final: no list of erased tokens is kept (that would retain identity-derived data);
a record sent again later is a new record (see docs/threat-model.md).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import duckdb

from pipelines.catalog import table_exists

logger = logging.getLogger(__name__)

TOKEN_COLUMNS = ("record_token", "record_token_l", "record_token_r")
RECORD_TOKEN = re.compile(r"^[0-9a-f]{32}$")


class ErasureIncomplete(RuntimeError):
    """Rows naming an erased token are still in the warehouse after the erasure committed."""


@dataclass
class ErasureResult:
    """What one erasure did. Counts only: it never carries the tokens themselves."""

    tokens_requested: int
    records_erased: int = 0  # tokens found somewhere in the warehouse
    tokens_not_found: int = 0
    rows_deleted: dict[str, int] = field(default_factory=dict)  # "schema.table" -> rows
    survivor_id_events: dict[str, int] = field(default_factory=dict)

    @property
    def total_rows_deleted(self) -> int:
        return sum(self.rows_deleted.values())


def check_record_tokens(tokens: Iterable[str]) -> list[str]:
    """Distinct, validated record tokens (32 lower-case hex), in first-seen order."""
    distinct = list(dict.fromkeys(tokens))
    bad = sum(
        1 for token in distinct if not isinstance(token, str) or not RECORD_TOKEN.match(token)
    )
    if bad:
        raise ValueError(
            f"{bad} value(s) are not record tokens (32 lower-case hexadecimal characters)"
        )
    return distinct


def token_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    """(schema, table, column) of every base table column that holds record tokens."""
    rows = con.execute(
        """
        SELECT c.schema_name, c.table_name, c.column_name
        FROM duckdb_columns() AS c
        JOIN duckdb_tables() AS t
          ON t.database_name = c.database_name AND t.schema_name = c.schema_name
         AND t.table_name = c.table_name
        WHERE c.database_name = current_database() AND NOT t.temporary
          AND list_contains(?, c.column_name)
        ORDER BY 1, 2, 3
        """,
        [list(TOKEN_COLUMNS)],
    ).fetchall()
    return [(str(s), str(t), str(c)) for s, t, c in rows]


def _qualified(schema: str, table: str) -> str:
    # Names come from the catalog, not from input; quoting keeps odd names harmless.
    return '"' + schema.replace('"', '""') + '"."' + table.replace('"', '""') + '"'


def _column(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def tokens_present(con: duckdb.DuckDBPyConnection, tokens: list[str]) -> set[str]:
    """The subset of `tokens` found in any token column of the warehouse."""
    found: set[str] = set()
    if not tokens:
        return found
    for schema, table, column in token_tables(con):
        rows = con.execute(
            f"SELECT DISTINCT {_column(column)} FROM {_qualified(schema, table)} "  # noqa: S608
            f"WHERE list_contains(?, {_column(column)})",
            [tokens],
        ).fetchall()
        found.update(row[0] for row in rows)
    return found


def token_agencies(con: duckdb.DuckDBPyConnection, tokens: list[str]) -> dict[str, set[str]]:
    """For each token found, the agencies whose rows carry it (tables with `agency_id`)."""
    owners: dict[str, set[str]] = {}
    if not tokens:
        return owners
    with_agency = {
        (str(s), str(t))
        for s, t in con.execute(
            "SELECT schema_name, table_name FROM duckdb_columns() "
            "WHERE database_name = current_database() AND column_name = 'agency_id'"
        ).fetchall()
    }
    for schema, table, column in token_tables(con):
        if column != "record_token" or (schema, table) not in with_agency:
            continue
        for token, agency in con.execute(
            f"SELECT DISTINCT record_token, agency_id FROM {_qualified(schema, table)} "  # noqa: S608
            "WHERE list_contains(?, record_token)",
            [tokens],
        ).fetchall():
            owners.setdefault(token, set()).add(agency)
    return owners


def _remove_from_linkage(
    con: duckdb.DuckDBPyConnection, tokens: list[str], run_id: str, result: ErasureResult
) -> None:
    if not table_exists(con, "linkage", "records"):
        return
    in_linkage = [
        row[0]
        for row in con.execute(
            "SELECT record_token FROM linkage.records WHERE list_contains(?, record_token)",
            [tokens],
        ).fetchall()
    ]
    if not in_linkage:
        return
    from linkage import matching

    model = matching.latest_model(con)
    for token in in_linkage:
        linked = matching.remove_record(con, token, run_id=run_id, model=model)
        for event, count in linked.events.items():
            result.survivor_id_events[event] = result.survivor_id_events.get(event, 0) + count


def erase_records(
    con: duckdb.DuckDBPyConnection,
    tokens: Iterable[str],
    *,
    run_id: str,
    on_commit: Callable[[duckdb.DuckDBPyConnection, ErasureResult], None] | None = None,
) -> ErasureResult:
    """Erase every row naming one of `tokens`; `on_commit(con, result)` runs in the final
    transaction (for the audit row). Returns counts; raises ErasureIncomplete if any row
    survives."""
    wanted = check_record_tokens(tokens)
    result = ErasureResult(tokens_requested=len(wanted))
    present = tokens_present(con, wanted)
    result.records_erased = len(present)
    result.tokens_not_found = len(wanted) - len(present)
    found = [token for token in wanted if token in present]
    _remove_from_linkage(con, found, run_id, result)
    con.execute("BEGIN TRANSACTION")
    try:
        for schema, table, column in token_tables(con):
            deleted = con.execute(
                f"DELETE FROM {_qualified(schema, table)} "  # noqa: S608
                f"WHERE list_contains(?, {_column(column)})",
                [found],
            ).fetchone()
            count = int(deleted[0]) if deleted else 0
            if count:
                name = f"{schema}.{table}"
                result.rows_deleted[name] = result.rows_deleted.get(name, 0) + count
        if on_commit is not None:
            on_commit(con, result)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    remaining = tokens_present(con, found)
    if remaining:
        raise ErasureIncomplete(
            f"{len(remaining)} erased record(s) still appear in the warehouse; "
            "run the erasure again and report this"
        )
    logger.info(
        "Erased %d record(s) (%d not found): %d rows deleted",
        result.records_erased,
        result.tokens_not_found,
        result.total_rows_deleted,
    )
    return result
