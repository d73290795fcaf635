"""`pahichan benchmark pseudonymise`: records per second of the encoder on one core.

Clear records are generated in memory by ``linkage.synthetic``, then encoded twice: a cold run
(empty caches, as an agency's first export) and a warm run (caches filled, as a monthly
re-run). Nothing is written to disk.
"""

from __future__ import annotations

import time

import click
import pandas as pd
from rich.console import Console
from rich.table import Table

from linkage import synthetic
from linkage.encoding import encode, keyed
from linkage.encoding.keys import new_secret
from linkage.encoding.names import canonical_name


def _records(count: int, seed: int) -> tuple[pd.DataFrame, str]:
    """Clear records from the shared synthetic generator, exactly `count` of them."""
    data = synthetic.generate(people=max(count // 2, 1), seed=seed)
    frames = [
        frame.assign(record_id=f"{source}-" + frame["record_id"].astype(str))
        for source, frame in data.extracts.items()
    ]
    frame = pd.concat(frames, ignore_index=True)
    while len(frame) < count:  # few records per person: top up with a second seed
        extra = synthetic.generate(people=count, seed=seed + len(frame))
        frame = pd.concat(
            [
                frame,
                *[
                    f.assign(record_id=f"{s}{len(frame)}-" + f["record_id"])
                    for s, f in extra.extracts.items()
                ],
            ],
            ignore_index=True,
        )
    return frame.head(count).reset_index(drop=True), "linkage.synthetic"


@click.command(epilog="Example: pahichan benchmark pseudonymise --records 100000")
@click.option("--records", default=50_000, show_default=True, help="Clear records to encode.")
@click.option("--seed", default=7, show_default=True, help="Seed of the synthetic records.")
def benchmark_pseudonymise(records: int, seed: int) -> None:
    """Encode synthetic clear records in memory on one core and report records/s."""
    console = Console()
    with console.status("Generating synthetic records ..."):
        frame, origin = _records(records, seed)
    secret = new_secret()
    # CPU seconds of this process are the one-core cost; wall seconds also show how busy
    # the machine was (other processes compete for the two cores).
    rows: list[tuple[str, float, float, int]] = []
    cold_stages: dict[str, float] = {}
    # Load the reference indices (geography, vocabularies) once, as any run does, so "cold"
    # measures encoding with empty per-value caches rather than one-off start-up.
    encode.encode_frame(
        frame.head(5), secret=new_secret(), agency_id="warmup", source_type="shelter"
    )
    for label in ("cold (first export)", "warm (caches filled)"):
        with console.status(f"Encoding, {label} ..."):
            if label.startswith("cold"):
                keyed._ENCODERS.clear()
                canonical_name.cache_clear()
            wall, cpu = time.perf_counter(), time.process_time()
            batch = encode.encode_frame(
                frame, secret=secret, agency_id="bench", source_type="shelter"
            )
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        rows.append((label, cpu, wall, batch.table.num_rows))
        if label.startswith("cold"):
            cold_stages = batch.stage_seconds
    table = Table(title=f"pseudonymise, {len(frame):,} records from {origin}, one core")
    for column in ("run", "records", "CPU s", "wall s", "records/s (CPU)", "rejected"):
        table.add_column(column, justify="right" if column != "run" else "left")
    for label, cpu, wall, encoded_rows in rows:
        table.add_row(
            label,
            f"{len(frame):,}",
            f"{cpu:.2f}",
            f"{wall:.2f}",
            f"{len(frame) / cpu:,.0f}",
            f"{len(frame) - encoded_rows:,}",
        )
    console.print(table)
    stages = Table(title="where the cold run's time goes (wall seconds)")
    stages.add_column("stage")
    stages.add_column("seconds", justify="right")
    for stage, seconds in cold_stages.items():
        stages.add_row(stage, f"{seconds:.2f}")
    console.print(stages)
    click.echo(
        f"pseudonymise: {len(frame) / rows[0][1]:,.0f} records/s cold, "
        f"{len(frame) / rows[1][1]:,.0f} records/s warm, one core CPU time "
        f"({len(frame):,} records from {origin})"
    )
