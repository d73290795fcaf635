"""`pahichan benchmark ...`: each benchmark lives beside the code it measures."""

from __future__ import annotations

import click

from pipelines.cli import LazyGroup, SubCommand

BENCHMARKS: dict[str, SubCommand] = {
    "pseudonymise": SubCommand(
        "linkage.encoding.benchmark:benchmark_pseudonymise",
        "Records per second of the agency-side encoder on one core.",
    ),
    "linkage": SubCommand(
        "linkage.matching.benchmark:benchmark_linkage",
        "Pairwise and cluster precision/recall/F1, time and memory of linkage.",
    ),
    "pipeline": SubCommand(
        "pipelines.benchmark:benchmark_pipeline",
        "End-to-end synth -> pseudonymise -> run: time and peak memory.",
    ),
    "disclosure": SubCommand(
        "pipelines.disclosure.benchmark:benchmark_disclosure",
        "Cells shown per level, protection time, narrowest range of a hidden small cell.",
    ),
    "dashboard": SubCommand(
        "dashboards.benchmark:benchmark_dashboard",
        "Time to first render of the overview page, warm.",
    ),
}


@click.group(
    cls=LazyGroup,
    lazy=BENCHMARKS,
    epilog="Example: pahichan benchmark linkage --dataset febrl4",
)
def benchmark() -> None:
    """Measure speed and accuracy; each benchmark prints a table and a one-line summary."""
