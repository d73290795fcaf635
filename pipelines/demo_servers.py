"""Start and stop the demo's two servers: the ministry dashboard and the Dagster UI.

`make demo` calls `python -m pipelines.demo_servers start --data data/demo` after the warehouse
is built. Each server runs in its own process session (so a stop reaches all its children, which
`dagster dev` needs) and binds 127.0.0.1 only. PIDs are kept in `<data>/servers/` for `stop`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import click

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class DemoServer:
    """One server the demo starts: its name, port and command line."""

    name: str
    port: int
    command: tuple[str, ...]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def demo_servers(data_dir: Path, dashboard_port: int, dagster_port: int) -> list[DemoServer]:
    """The dashboard reads only the published public file; Dagster loads workspace.yaml."""
    bin_dir = Path(sys.executable).parent
    public = data_dir / "warehouse" / "public.duckdb"
    return [
        DemoServer(
            "dashboard",
            dashboard_port,
            (
                str(bin_dir / "pahichan"),
                "dashboard",
                "--public",
                str(public),
                "--operations",
                str(data_dir / "warehouse" / "operations.duckdb"),
                "--port",
                str(dashboard_port),
            ),
        ),
        DemoServer(
            "dagster",
            dagster_port,
            (
                str(bin_dir / "dagster"),
                "dev",
                "-w",
                str(PROJECT_ROOT / "workspace.yaml"),
                "-h",
                "127.0.0.1",
                "-p",
                str(dagster_port),
            ),
        ),
    ]


def server_environment(data_dir: Path) -> dict[str, str]:
    """Environment for both servers: demo paths, no telemetry, nothing leaves the machine."""
    warehouse = data_dir / "warehouse"
    dagster_home = PROJECT_ROOT / ".dagster_home"
    dagster_home.mkdir(exist_ok=True)
    return {
        **os.environ,
        "PAHICHAN_INBOX": str(data_dir / "inbox"),
        "PAHICHAN_WAREHOUSE": str(warehouse / "pahichan.duckdb"),
        "PAHICHAN_PUBLISH_DIR": str(warehouse),
        "PAHICHAN_WAREHOUSE_KEY_FILE": str(data_dir / "office" / "warehouse.key"),
        "DAGSTER_HOME": str(dagster_home),
        "DAGSTER_DISABLE_TELEMETRY": "1",
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
        "STREAMLIT_SERVER_HEADLESS": "true",
        "GX_ANALYTICS_ENABLED": "false",
    }


def wait_until_serving(url: str, seconds: float) -> bool:
    """Poll the URL until it answers or the time is up."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except OSError:
            time.sleep(1)
    return False


@click.group()
def cli() -> None:
    """Start or stop the demo servers."""


@cli.command()
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=Path("data/demo"))
@click.option("--dashboard-port", default=8501, show_default=True)
@click.option("--dagster-port", default=3000, show_default=True)
def start(data_dir: Path, dashboard_port: int, dagster_port: int) -> None:
    """Start the dashboard and the Dagster UI in the background and print their URLs."""
    pid_dir = data_dir / "servers"
    pid_dir.mkdir(parents=True, exist_ok=True)
    environment = server_environment(data_dir)
    servers = demo_servers(data_dir, dashboard_port, dagster_port)
    for server in servers:
        log = (pid_dir / f"{server.name}.log").open("w")
        process = subprocess.Popen(
            server.command,
            cwd=PROJECT_ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        (pid_dir / f"{server.name}.pid").write_text(str(process.pid))
    ready = {server.name: wait_until_serving(server.url, 90) for server in servers}
    for server in servers:
        log = pid_dir / f"{server.name}.log"
        state = "ready" if ready[server.name] else f"not answering yet, see {log}"
        click.echo(f"  {server.name:<10} {server.url}  ({state})")
    click.echo(
        f"Demo servers started ({sum(ready.values())}/{len(servers)} answering); "
        "stop them with `make stop`."
    )


@cli.command()
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=Path("data/demo"))
def stop(data_dir: Path) -> None:
    """Stop the servers started by `start` (their whole process groups)."""
    stopped = 0
    for pid_file in sorted((data_dir / "servers").glob("*.pid")):
        pid = int(pid_file.read_text())
        try:
            os.killpg(pid, signal.SIGTERM)
            stopped += 1
        except ProcessLookupError:
            pass
        pid_file.unlink()
    click.echo(f"Stopped {stopped} demo server(s).")


if __name__ == "__main__":
    cli()
