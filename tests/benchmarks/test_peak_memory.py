"""The pipeline benchmark's memory sampler counts the worker processes it starts."""

from __future__ import annotations

import subprocess
import sys
import time

from benchmarks.pipeline import PeakMemory


def test_the_peak_includes_a_child_started_after_sampling_began() -> None:
    memory = PeakMemory(interval=0.02, tree_interval=0.1)
    # A child holding ~300 MB for a second, started once the sampler is running.
    hold = (
        "b = bytearray(300 * 2**20); b[::4096] = b'x' * len(b[::4096]); import time; time.sleep(1)"
    )
    with memory.watching():
        own = memory.peak_mb
        child = subprocess.Popen([sys.executable, "-c", hold])
        child.wait(timeout=60)
        time.sleep(0.05)
    assert child.returncode == 0
    assert memory.peak_mb >= own + 250
