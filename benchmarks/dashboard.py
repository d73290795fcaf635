"""`pahichan benchmark dashboard`: how long the overview takes to render, cold and warm.

Measured in process with Streamlit's AppTest (the same script a browser session runs, minus
the websocket): the first render after start pays for imports, opening the file and filling
the query cache; the first render after start with a warm process clears the query cache
first (a new visitor after a restart or a new publication); warm renders are new sessions
against the filled cache, as a second visitor would see.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import tempfile
import time
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from dashboards.config import PUBLIC_DB_VARIABLE, public_db_path
from dashboards.server import APP

PUBLIC_TABLES = (
    "survivor_statistics",
    "service_statistics",
    "referral_statistics",
    "quality_statistics",
    "reintegration_statistics",
    "followup_coverage",
    "published_grid",
    "geography",
)


def write_synthetic_public(path: Path, years: int) -> dict[str, int]:
    """Write a public.duckdb of the shape a large publication has; return its row counts.

    Zero cells are not published (marts models), so the number of rows is bounded by the
    published grid times the periods covered, whatever the number of records. This file is
    that bound: every place at every level (all 753 local levels), every category and measure,
    over `years` years of months, quarters, years, BS months and fiscal years, in the test
    fixture's layout (tests/dashboards/fixtures.py). A 1M-record publication cannot have more
    rows for the same years; a 100k one (about 45k count cells) has far fewer.
    """
    from schemas.geography import load_geography
    from tests.dashboards import fixtures

    districts = tuple(d.code for d in load_geography().districts)
    last_year = 2024
    with fixtures.shape(fixtures.periods_for_years(last_year, years), districts):
        fixtures.write_public_db(path, data_through=dt.date(last_year, 12, 31))
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        return {
            table: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
            for table in PUBLIC_TABLES
        }
    finally:
        con.close()


def render_overview_seconds() -> float:
    """Seconds for one full run of the frame + overview page in a fresh session."""
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(APP), default_timeout=120)
    started = time.perf_counter()
    app.run()
    elapsed = time.perf_counter() - started
    if app.exception:
        raise click.ClickException(f"the overview raised: {app.exception[0].message}")
    return elapsed


@click.command(
    epilog="Example: pahichan benchmark dashboard --public data/demo/warehouse/public.duckdb",
)
@click.option(
    "--public",
    "public",
    type=click.Path(path_type=Path),
    default=None,
    help=f"The published public.duckdb (default: ${PUBLIC_DB_VARIABLE}).",
)
@click.option(
    "--synthetic-years",
    type=click.IntRange(1, 30),
    default=None,
    help="Instead of --public, time a synthetic public file of the largest shape any "
    "publication of that many years can have (every place, every cell); "
    "prints its row counts.",
)
@click.option(
    "--repeat",
    type=click.IntRange(1, 50),
    default=5,
    show_default=True,
    help="Warm renders to time.",
)
def benchmark_dashboard(public: Path | None, synthetic_years: int | None, repeat: int) -> None:
    """Time the overview's first render after start and its warm renders."""
    if synthetic_years is None:
        _time_overview(public or public_db_path(), repeat)
        return
    # The synthetic file is written to a folder of its own, removed when the timing ends.
    with tempfile.TemporaryDirectory(prefix="pahichan-bench-") as folder:
        public_db = Path(folder) / "public.duckdb"
        with Console(stderr=True).status(f"writing a synthetic public file ({synthetic_years} y)"):
            counts = write_synthetic_public(public_db, synthetic_years)
        click.echo(
            f"synthetic public file: {synthetic_years} years, every place and cell published, "
            f"{public_db.stat().st_size / 1e6:.1f} MB; rows: "
            + ", ".join(f"{table} {rows:,}" for table, rows in counts.items())
        )
        _time_overview(public_db, repeat)


def _time_overview(public_db: Path, repeat: int) -> None:
    """Time and print the overview's renders on `public_db`."""
    if not public_db.is_file():
        raise click.ClickException(f"no public file at {public_db}: pass --public FILE")
    os.environ[PUBLIC_DB_VARIABLE] = str(public_db.resolve())
    os.environ.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
    console = Console(stderr=True)
    with console.status("first render (cold)"):
        cold = render_overview_seconds()
    # A new visitor after start: process and imports warm, but nothing in the query cache
    # (as after a new publication, which changes the cache key).
    import streamlit as st

    st.cache_data.clear()
    with console.status("first render after start (warm process, empty query cache)"):
        first_warm = render_overview_seconds()
    warm = []
    with console.status("warm renders"):
        for _ in range(repeat):
            warm.append(render_overview_seconds())
    table = Table(title=f"Dashboard overview render ({public_db.name})")
    table.add_column("run")
    table.add_column("seconds", justify="right")
    table.add_row("first after start (cold process)", f"{cold:.3f}")
    table.add_row("first after start (warm process, empty cache)", f"{first_warm:.3f}")
    for index, seconds in enumerate(warm, start=1):
        table.add_row(f"warm #{index}", f"{seconds:.3f}")
    Console().print(table)
    click.echo(
        f"overview render: cold {cold:.2f} s, first after start warm {first_warm:.2f} s, "
        f"warm median {statistics.median(warm):.3f} s "
        f"(min {min(warm):.3f}, max {max(warm):.3f}, n={repeat})"
    )
