"""`pahichan dashboard`: serve the ministry dashboard on 127.0.0.1 from a public file."""

from __future__ import annotations

import subprocess
from pathlib import Path

import click
from rich.console import Console

from dashboards import server
from dashboards.config import PUBLIC_DB_VARIABLE, public_db_path


@click.command(
    epilog="Example: pahichan dashboard --public data/demo/warehouse/public.duckdb --port 8501",
)
@click.option(
    "--public",
    "public",
    type=click.Path(path_type=Path),
    default=None,
    help=f"The published public.duckdb (default: ${PUBLIC_DB_VARIABLE} or the demo file).",
)
@click.option(
    "--port",
    type=click.IntRange(1024, 65535),
    default=8501,
    show_default=True,
    help="Port on 127.0.0.1.",
)
@click.option(
    "--operations",
    "operations",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    envvar="PAHICHAN_OPERATIONS_DB",
    help="The data office's operations.duckdb: adds the 'Batches and runs' page (only for "
    "a dashboard the data office uses). [PAHICHAN_OPERATIONS_DB]",
)
def dashboard(public: Path | None, port: int, operations: Path | None) -> None:
    """Start the ministry dashboard (read-only, local, offline) until Ctrl+C."""
    public_db = public or public_db_path()
    if not public_db.is_file():
        raise click.ClickException(
            f"no public file at {public_db}: run `pahichan run` first or pass --public FILE"
        )
    console = Console(stderr=True)
    console.print(f"Serving {public_db} on http://127.0.0.1:{port} (Ctrl+C to stop)")
    # Foreground child in our own session: Ctrl+C reaches both, and the summary follows.
    process = subprocess.Popen(
        server.streamlit_command(port), env=server.server_environment(public_db, operations)
    )
    try:
        code = process.wait()
    except KeyboardInterrupt:
        process.terminate()
        code = process.wait()
    console.print(f"Dashboard stopped (exit code {code}).")
