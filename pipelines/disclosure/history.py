"""What earlier publications showed, so the next one cannot be differenced against them.

`ops.published_cells` keeps, per cell of the latest publication, its true value, whether it
was hidden, and the value last *shown* for it by any publication. The protector then:

- hides a cell whose value moved by 1..k-1 since it was last shown (the difference would be
  a person: a withdrawal, a correction), and requires its range to include the old value;
- keeps a cell hidden while its value is unchanged since it was hidden: showing it now would
  reveal what the earlier file hid (and, through that file's relations, its neighbours);
- keeps a slice out of the file while all its counts are unchanged since it was left out.

Restricted store (schema `ops`, data officers only): true values of hidden cells are counts
the warehouse can recompute from core anyway; no identity.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from pipelines.catalog import table_exists
from pipelines.disclosure.tables import cell_keys
from pipelines.migrations import migrate


@dataclass
class PublishedHistory:
    """`shown[table][key]`: value last shown; `hidden[table][key]`: true value when hidden in
    the latest publication; `left_out[table][key]`: true value of a cell of a slice the
    latest publication left out."""

    shown: dict[str, dict[str, int]] = field(default_factory=dict)
    hidden: dict[str, dict[str, int]] = field(default_factory=dict)
    left_out: dict[str, dict[str, int]] = field(default_factory=dict)


def load_history(con: duckdb.DuckDBPyConnection) -> PublishedHistory:
    """The history kept by `save_history` (empty before the first publication)."""
    history = PublishedHistory()
    if not table_exists(con, "ops", "published_cells"):
        return history
    rows = con.execute(
        "SELECT table_name, cell_key, value, is_hidden, last_shown_value, "
        "coalesce(is_left_out, false) FROM ops.published_cells ORDER BY table_name, cell_key"
    ).fetchall()
    for table, key, value, is_hidden, last_shown, is_left_out in rows:
        if last_shown is not None:
            history.shown.setdefault(table, {})[key] = int(last_shown)
        if is_hidden:
            history.hidden.setdefault(table, {})[key] = int(value)
        if is_left_out:
            history.left_out.setdefault(table, {})[key] = int(value)
    return history


def _history_rows(
    name: str,
    keys: pd.Series,
    values: np.ndarray,
    hidden: np.ndarray | bool,
    last_shown: np.ndarray,
    run_id: str,
    *,
    left_out: bool,
) -> pd.DataFrame:
    """Rows of ops.published_cells for cells of one table."""
    return pd.DataFrame(
        {
            "table_name": name,
            "cell_key": keys.to_numpy(),
            "value": values,
            "is_hidden": hidden,
            "last_shown_value": last_shown,
            "run_id": run_id,
            "is_left_out": left_out,
        }
    )


def save_history(
    con: duckdb.DuckDBPyConnection,
    true_tables: dict[str, pd.DataFrame],
    protected: dict[str, pd.DataFrame],
    previous: PublishedHistory,
    run_id: str,
    left_out: dict[str, pd.DataFrame] | None = None,
) -> int:
    """Replace ops.published_cells by this publication's cells; returns the row count.

    `true_tables` are the count rows before protection (`ProtectionStats.frames`);
    `left_out` the rows (true values) of the slices the publication left out."""
    frames = []
    for name, rows in (left_out or {}).items():
        if rows.empty:
            continue
        keys = cell_keys(name, rows)
        earlier = keys.map(previous.shown.get(name, {})).astype("Int64").to_numpy()
        values = rows["value"].astype("int64").to_numpy()
        frames.append(_history_rows(name, keys, values, False, earlier, run_id, left_out=True))
    for name, shown in protected.items():
        if name not in true_tables or shown.empty or "is_suppressed" not in shown:
            continue
        true = true_tables[name]
        true_values = dict(zip(cell_keys(name, true), true["value"].astype("int64"), strict=True))
        keys = cell_keys(name, shown)
        counted = keys.isin(true_values).to_numpy()  # means are not counts: no history
        keys = keys[counted]
        hidden = shown["is_suppressed"].astype(bool).to_numpy()[counted]
        values = keys.map(true_values).astype("int64").to_numpy()
        earlier = keys.map(previous.shown.get(name, {})).astype("Int64").to_numpy()
        last_shown = pd.Series(values, dtype="Int64").where(~hidden, pd.Series(earlier))
        frames.append(
            _history_rows(name, keys, values, hidden, last_shown.to_numpy(), run_id, left_out=False)
        )
    migrate(con)  # ops.published_cells is created by migration 0001
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM ops.published_cells")
        count = 0
        if frames:
            cells = pd.concat(frames, ignore_index=True)
            con.register("published_cells_frame", cells)
            con.execute(
                "INSERT INTO ops.published_cells BY NAME SELECT * FROM published_cells_frame"
            )
            con.unregister("published_cells_frame")
            count = len(cells)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return count
