"""`pahichan benchmark pipeline`: end-to-end time and memory, synth -> pseudonymise -> run.

Runs the same code the commands run, in this process, on a fresh folder: synthetic extracts,
the agency tool on each source, then the whole pipeline (ingest, validation, linkage, core,
marts, publish). Peak memory is the resident set of this process, sampled every 50 ms.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import click
import psutil

from schemas.vocabularies import SOURCE_TYPES

# The synthetic generator writes about 2.7 records (episodes + follow-ups) per person;
# --size is in records.
RECORDS_PER_PERSON = 2.7


@dataclass
class StageTiming:
    """Wall time and peak resident memory of one benchmark stage."""

    stage: str
    seconds: float
    peak_rss_mb: float
    detail: str = ""


@dataclass
class PeakMemory:
    """Samples this process's RSS in a background thread; `peak_mb` is the maximum seen."""

    interval: float = 0.05
    peak_mb: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)

    def _sample(self) -> None:
        process = psutil.Process()
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, process.memory_info().rss / 2**20)
            self._stop.wait(self.interval)

    @contextmanager
    def watching(self) -> Iterator[PeakMemory]:
        self._stop.clear()
        self.peak_mb = psutil.Process().memory_info().rss / 2**20
        thread = threading.Thread(target=self._sample, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join()


def timed_stage(name: str, work: Callable[[], str]) -> StageTiming:
    """Run one stage, returning its timing; `work` returns a short detail text."""
    memory = PeakMemory()
    with memory.watching():
        started = time.perf_counter()
        detail = work()
        seconds = time.perf_counter() - started
    return StageTiming(name, seconds, memory.peak_mb, detail)


def run_benchmark(
    size: int, seed: int, workdir: Path, memory_limit: str | None = None
) -> list[StageTiming]:
    """Synthesise about `size` records, pseudonymise them, run the pipeline; time each stage.

    `memory_limit` is DuckDB's for the warehouse (None: DuckDB's default, 80% of RAM).
    """
    from linkage.encoding import key_id_of
    from linkage.encoding.batch import pseudonymise_file
    from linkage.encoding.signing import new_signing_key
    from linkage.synthetic import generate, write
    from pipelines.commands.run import run_pipeline
    from pipelines.defs.ingest.agency_keys import register_agency_key
    from pipelines.resources import resources_from_env

    extracts, inbox, agency = workdir / "extracts", workdir / "inbox", workdir / "agency"
    warehouse = workdir / "warehouse" / "pahichan.duckdb"
    secret = secrets.token_bytes(32)
    key_id = key_id_of(secret)
    sources = SOURCE_TYPES
    signing_keys = {source: new_signing_key() for source in sources}

    def synthesise() -> str:
        data = generate(max(1, round(size / RECORDS_PER_PERSON)), seed)
        write(data, extracts, truth_dir=agency / "truth")
        return f"{data.record_count:,} records"

    def pseudonymise() -> str:
        encoded = rejected = 0
        for source in sources:
            written = pseudonymise_file(
                source_type=source,
                agency_id=f"{source}-bench",
                secret=secret,
                key_id=key_id,
                input_path=extracts / f"{source}.csv",
                out_dir=inbox / source / f"{source}-bench",
                crosswalk_dir=agency / "crosswalks",
                signing_key=signing_keys[source],
            )
            encoded += written.row_count
            rejected += written.rejected_count
        return f"{encoded:,} encoded, {rejected:,} rejected"

    def run() -> str:
        resources = resources_from_env(
            environ={},
            inbox=str(inbox),
            warehouse=str(warehouse),
            key_id=key_id,
            memory_limit=memory_limit,
        )
        with resources["warehouse"].connect() as con:
            for source, key in signing_keys.items():
                register_agency_key(
                    con,
                    agency_id=f"{source}-bench",
                    registered_by="benchmark",
                    public_key=key.private_key.public_key(),
                    source_types=[source],
                )
        summary = run_pipeline(resources)
        if summary.failed_steps:
            raise click.ClickException(f"pipeline failed: {'; '.join(summary.failed_steps)}")
        return summary.line()

    return [
        timed_stage("synth", synthesise),
        timed_stage("pseudonymise", pseudonymise),
        timed_stage("run", run),
    ]


@click.command(
    "pipeline",
    epilog="Example: pahichan benchmark pipeline --size 100000",
)
@click.option("--size", default=100_000, show_default=True, help="Records to synthesise.")
@click.option("--seed", default=1, show_default=True)
@click.option(
    "--keep",
    type=click.Path(file_okay=False, path_type=Path),
    help="Work in this folder and keep it (default: a temporary folder, removed after).",
)
@click.option(
    "--memory-limit",
    help="DuckDB memory limit for the warehouse, e.g. 3GB (default: DuckDB's, 80% of RAM).",
)
def benchmark_pipeline(size: int, seed: int, keep: Path | None, memory_limit: str | None) -> None:
    """Time synth -> pseudonymise -> run end to end and print a table with peak memory."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    workdir = keep or Path(tempfile.mkdtemp(prefix="pahichan-bench-"))
    try:
        with console.status(f"Running the pipeline benchmark on {size:,} records"):
            timings = run_benchmark(size, seed, workdir, memory_limit)
    finally:
        if keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    table = Table(title=f"Pipeline benchmark, {size:,} records requested")
    for column in ("stage", "seconds", "peak RSS (MB)", "detail"):
        table.add_column(column)
    for timing in timings:
        table.add_row(
            timing.stage, f"{timing.seconds:.1f}", f"{timing.peak_rss_mb:,.0f}", timing.detail
        )
    console.print(table)
    total = sum(timing.seconds for timing in timings)
    peak = max(timing.peak_rss_mb for timing in timings)
    click.echo(
        f"Pipeline benchmark: {total:.1f} s end to end, peak RSS {peak:,.0f} MB "
        f"({psutil.cpu_count()} cores)."
    )
