"""`pahichan benchmark disclosure`: what the protection of one publication costs and gives.

Protects the marts of an existing warehouse as the next publication would (with its
published-cell history), writes nothing, and prints: cells shown and hidden per place level,
the protection time, and the narrowest feasible range (LP over every published number,
relation and bound) of any hidden cell holding 1..k-1 people.
"""

from __future__ import annotations

import time
from pathlib import Path

import click
import pandas as pd

LEVELS = ("national", "province", "district", "local_level")


def level_table(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Cells shown and hidden per place level, over every protected count table."""
    rows = []
    for name, frame in tables.items():
        if "is_suppressed" not in frame or "geo_level" not in frame:
            continue
        counted = frame[frame.get("measure", pd.Series("", index=frame.index)) != "mean_score_pct"]
        for level, group in counted.groupby("geo_level"):
            rows.append((level, name, len(group), int(group["is_suppressed"].sum())))
    cells = pd.DataFrame(rows, columns=["level", "table", "cells", "hidden"])
    summary = cells.groupby("level", as_index=False)[["cells", "hidden"]].sum()
    summary["shown"] = summary["cells"] - summary["hidden"]
    summary["shown_pct"] = (100 * summary["shown"] / summary["cells"]).round(1)
    order = {level: i for i, level in enumerate(LEVELS)}
    return summary.sort_values("level", key=lambda s: s.map(order)).reset_index(drop=True)


@click.command(
    name="disclosure",
    epilog="Example: pahichan benchmark pipeline --size 100000 --keep /tmp/b100k && "
    "pahichan benchmark disclosure --warehouse /tmp/b100k/warehouse/pahichan.duckdb",
)
@click.option(
    "--warehouse",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    required=True,
    help="A warehouse whose marts are built (after `pahichan run`).",
)
@click.option(
    "--warehouse-key",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    envvar="PAHICHAN_WAREHOUSE_KEY_FILE",
    help="Its key file, if encrypted.",
)
@click.option("--threshold", default=5, show_default=True, help="k: smallest count shown.")
@click.option(
    "--sample",
    default=0,
    show_default=True,
    help="Hidden small cells whose range is computed (0: all of them).",
)
def benchmark_disclosure(
    warehouse: Path, warehouse_key: Path | None, threshold: int, sample: int
) -> None:
    """Protect a warehouse's marts as the next publication would; print the figures."""
    from rich.console import Console
    from rich.table import Table

    from pipelines.defs.marts.build import MART_TABLES
    from pipelines.disclosure.audit import audit_small_cells
    from pipelines.disclosure.history import load_history
    from pipelines.disclosure.tables import protect_tables
    from pipelines.resources import resources_from_env

    console = Console(stderr=True)
    store = resources_from_env(
        {},
        warehouse=str(warehouse),
        warehouse_key_file=str(warehouse_key) if warehouse_key else None,
    )["warehouse"]
    with store.connect() as con:
        marts = {
            name: con.execute(f"SELECT * FROM marts.{name}").df()  # noqa: S608 - fixed names
            for name in MART_TABLES
        }
        history = load_history(con)
    stats: dict = {}
    with console.status("Protecting the publication ..."):
        started = time.perf_counter()
        tables = protect_tables(
            marts,
            threshold,
            history.shown,
            kept_hidden=history.hidden,
            left_out_before=history.left_out,
            stats=stats,
        )
        protect_seconds = time.perf_counter() - started
    with console.status("Feasible ranges of the hidden small cells ..."):
        started = time.perf_counter()
        audit = audit_small_cells(stats["problem"], stats["status"], threshold, sample)
        audit_seconds = time.perf_counter() - started

    levels = level_table(tables)
    table = Table(title=f"Publication of {warehouse.name} (k = {threshold})")
    for column in ("level", "cells", "shown", "hidden", "shown %"):
        table.add_column(column, justify="left" if column == "level" else "right")
    for row in levels.itertuples(index=False):
        table.add_row(
            row.level, f"{row.cells:,}", f"{row.shown:,}", f"{row.hidden:,}", f"{row.shown_pct:.1f}"
        )
    Console().print(table)
    click.echo(
        f"{int(levels['cells'].sum()):,} cells, {int(levels['hidden'].sum()):,} hidden; "
        f"protection {protect_seconds:.1f} s; {audit.cells_checked:,} hidden small cells "
        f"checked in {audit_seconds:.1f} s: narrowest feasible range "
        f"{audit.narrowest_range:.1f} (>= {threshold} required), highest lower bound "
        f"{audit.highest_lower_bound:.1f} (0 required)"
    )
