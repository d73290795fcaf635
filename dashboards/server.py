"""Start and stop a local Streamlit server for the dashboard (CLI, benchmark, browser tests).

Always bound to 127.0.0.1, headless, usage statistics off: nothing leaves the machine.
The server runs in its own process session so it can be stopped by PID with its children.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from dashboards.config import OPERATIONS_DB_VARIABLE, PUBLIC_DB_VARIABLE

APP = Path(__file__).with_name("streamlit_app.py")
OFFLINE_SETTINGS = {
    "server.address": "127.0.0.1",
    "browser.gatherUsageStats": "false",
    "server.headless": "true",
    # Serves dashboards/static/ at /app/static/: the maps' empty base-map topojson lives
    # there so plotly never fetches its own from a CDN.
    "server.enableStaticServing": "true",
    "client.toolbarMode": "viewer",
}


def streamlit_command(port: int) -> list[str]:
    """`python -m streamlit run` with the offline settings as flags."""
    command = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(port)]
    for option, value in OFFLINE_SETTINGS.items():
        command += [f"--{option}", value]
    return command


def server_environment(public_db: Path, operations_db: Path | None = None) -> dict[str, str]:
    """The process environment: the public file (and, for a data office's dashboard, the
    operations file) plus the same settings as variables."""
    env = dict(os.environ)
    env[PUBLIC_DB_VARIABLE] = str(public_db.resolve())
    env.pop(OPERATIONS_DB_VARIABLE, None)
    if operations_db is not None:
        env[OPERATIONS_DB_VARIABLE] = str(operations_db.resolve())
    env["STREAMLIT_SERVER_ADDRESS"] = "127.0.0.1"
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    env["STREAMLIT_SERVER_HEADLESS"] = "true"
    env["STREAMLIT_SERVER_ENABLE_STATIC_SERVING"] = "true"
    return env


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(public_db: Path, port: int, log_file: Path | None = None) -> subprocess.Popen[bytes]:
    """Start the server in a new process session (stop it with `stop`)."""
    output = log_file.open("wb") if log_file else subprocess.DEVNULL
    return subprocess.Popen(
        streamlit_command(port),
        env=server_environment(public_db),
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_until_healthy(port: int, timeout: float = 60.0) -> float:
    """Seconds until `/_stcore/health` answers ok; TimeoutError otherwise."""
    started = time.perf_counter()
    url = f"http://127.0.0.1:{port}/_stcore/health"
    while time.perf_counter() - started < timeout:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.perf_counter() - started
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"dashboard on port {port} not healthy after {timeout:.0f} s")


def stop(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Stop the server's process group (by its PID), then reap it."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)
    except ProcessLookupError:
        pass
