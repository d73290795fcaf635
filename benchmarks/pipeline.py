"""`pahichan benchmark pipeline`: end-to-end time and memory, synth -> pseudonymise -> run.

Runs the same code the commands run, on a fresh folder: synthetic extracts, the agency tool
on each source, then the whole pipeline (ingest, validation, linkage, core, marts, publish).
Each agency's tool runs in a process of its own with the key files an agency keeps, and the
agencies run at the same time (as many at once as there are cores), as they do on their own
machines; the pipeline runs in this process. Peak memory is the resident set of this process
and its child processes together, sampled every 50 ms (the children listed once a second).
"""

from __future__ import annotations

import math
import multiprocessing
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import click
import psutil

from schemas.vocabularies import SOURCE_TYPES

if TYPE_CHECKING:
    from rich.table import Table

# The synthetic generator writes about 2.7 records (episodes + follow-ups) per person;
# --size is in records.
RECORDS_PER_PERSON = 2.7
# Dagster steps listed one by one under the run stage; the rest are summed.
SLOWEST_STEPS = 12


@dataclass
class StageTiming:
    """Wall time and peak resident memory of one benchmark stage."""

    stage: str
    seconds: float
    peak_rss_mb: float
    detail: str = ""


def tree_rss_mb(process: psutil.Process) -> float:
    """Resident memory of `process` and all its descendants, in MB (gone ones count 0)."""
    return _rss_mb(_process_tree(process))


def _process_tree(process: psutil.Process) -> list[psutil.Process]:
    return [process, *process.children(recursive=True)]


def _rss_mb(members: list[psutil.Process]) -> float:
    total = 0
    for member in members:
        try:
            total += member.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total / 2**20


@dataclass
class PeakMemory:
    """Samples the RSS of this process and its children in a background thread; `peak_mb`
    is the maximum of their sum seen.

    The RSS is read every `interval`, the list of children every `tree_interval`: psutil
    finds them by reading all of /proc in Python, and doing that at every sample kept the
    sampling thread busy for 18.6 s of a 1M-record benchmark (py-spy), time taken from
    the work measured. The children here are worker processes living for seconds.
    """

    interval: float = 0.05
    tree_interval: float = 1.0
    peak_mb: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)

    def _sample(self) -> None:
        process = psutil.Process()
        members, listed = [process], -math.inf
        while not self._stop.is_set():
            if time.monotonic() - listed >= self.tree_interval:
                members, listed = _process_tree(process), time.monotonic()
            self.peak_mb = max(self.peak_mb, _rss_mb(members))
            self._stop.wait(self.interval)

    @contextmanager
    def watching(self) -> Iterator[PeakMemory]:
        self._stop.clear()
        self.peak_mb = tree_rss_mb(psutil.Process())
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


@dataclass(frozen=True)
class AgencyKeys:
    """The benchmark agencies' key files: the shared linkage key and one signing key per
    source (agency `<source>-bench`), written 0600 as `pahichan keys` writes them."""

    linkage_key: Path
    key_id: str
    signing_keys: dict[str, Path]


def write_agency_keys(folder: Path) -> AgencyKeys:
    """New key files for the benchmark's agencies in `folder`."""
    from linkage.encoding.keys import new_secret, write_key
    from linkage.encoding.signing import write_signing_key

    folder.mkdir(parents=True, exist_ok=True)
    linkage_key = folder / "pahichan.key"
    key_id = write_key(linkage_key, new_secret())
    signing_keys = {source: folder / f"{source}-bench.signing.pem" for source in SOURCE_TYPES}
    for path in signing_keys.values():
        write_signing_key(path)
    return AgencyKeys(linkage_key, key_id, signing_keys)


def pseudonymise_agency(
    source: str, extracts: Path, inbox: Path, agency: Path, keys: AgencyKeys
) -> tuple[int, int]:
    """The agency tool on `extracts/<source>.csv` into the inbox, as `pahichan pseudonymise`
    runs it: keys read from the agency's files. Returns (rows encoded, rows rejected)."""
    from linkage.encoding.batch import pseudonymise_file
    from linkage.encoding.keys import read_key
    from linkage.encoding.signing import read_signing_key

    key = read_key(keys.linkage_key)
    written = pseudonymise_file(
        source_type=source,
        agency_id=f"{source}-bench",
        secret=key.secret,
        key_id=key.key_id,
        input_path=extracts / f"{source}.csv",
        out_dir=inbox / source / f"{source}-bench",
        crosswalk_dir=agency / "crosswalks",
        signing_key=read_signing_key(keys.signing_keys[source]),
    )
    return written.row_count, written.rejected_count


def pseudonymise_sources(
    extracts: Path, inbox: Path, agency: Path, keys: AgencyKeys
) -> tuple[int, int]:
    """Run the agency tool on each source's `extracts/<source>.csv`, each agency in a
    process of its own and as many at once as there are cores (largest export first);
    returns (rows encoded, rows rejected) over all sources.

    Only paths cross to the workers: each reads the key files itself, as an agency's tool
    does, so no key is ever pickled.
    """
    sources = sorted(SOURCE_TYPES, key=lambda source: -(extracts / f"{source}.csv").stat().st_size)
    workers = max(1, min(len(sources), os.cpu_count() or 1))
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [
            pool.submit(pseudonymise_agency, source, extracts, inbox, agency, keys)
            for source in sources
        ]
        counts = [future.result() for future in futures]
    return sum(encoded for encoded, _ in counts), sum(rejected for _, rejected in counts)


def register_bench_agencies(inbox: Path, warehouse: Path, keys: AgencyKeys) -> None:
    """Register each `<source>-bench` agency's public signing key in the warehouse."""
    from linkage.encoding.signing import public_key_path, read_public_key
    from pipelines.defs.ingest.agency_keys import register_agency_key
    from pipelines.resources import resources_from_env

    resources = resources_from_env(
        environ={}, inbox=str(inbox), warehouse=str(warehouse), key_id=keys.key_id
    )
    with resources["warehouse"].connect() as con:
        for source, path in keys.signing_keys.items():
            register_agency_key(
                con,
                agency_id=f"{source}-bench",
                registered_by="benchmark",
                public_key=read_public_key(public_key_path(path)),
                source_types=[source],
            )


def quiet_dagster_home(home: Path) -> Path:
    """A Dagster instance folder of the benchmark's own, telemetry off."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return home


def timings_table(title: str, timings: list[StageTiming]) -> Table:
    """The printed table: one row per stage (Dagster steps indented, without memory)."""
    from rich.table import Table

    table = Table(title=title)
    for column in ("stage", "seconds", "peak RSS (MB)", "detail"):
        table.add_column(column)
    for timing in timings:
        peak_mb = f"{timing.peak_rss_mb:,.0f}" if timing.peak_rss_mb else ""
        table.add_row(timing.stage, f"{timing.seconds:.1f}", peak_mb, timing.detail)
    return table


def run_benchmark(
    size: int, seed: int, workdir: Path, memory_limit: str | None = None
) -> list[StageTiming]:
    """Synthesise about `size` records, pseudonymise them, run the pipeline; time each stage.

    `memory_limit` is DuckDB's for the warehouse (None: DuckDB's default, 80% of RAM).
    """
    from linkage.synthetic import generate, write
    from pipelines.commands.run import run_pipeline
    from pipelines.resources import resources_from_env

    extracts, inbox, agency = workdir / "extracts", workdir / "inbox", workdir / "agency"
    warehouse = workdir / "warehouse" / "pahichan.duckdb"
    keys = write_agency_keys(agency / "keys")

    def synthesise() -> str:
        data = generate(max(1, round(size / RECORDS_PER_PERSON)), seed)
        write(data, extracts, truth_dir=agency / "truth")
        return f"{data.record_count:,} records"

    def pseudonymise() -> str:
        encoded, rejected = pseudonymise_sources(extracts, inbox, agency, keys)
        return f"{encoded:,} encoded, {rejected:,} rejected"

    def run() -> str:
        register_bench_agencies(inbox, warehouse, keys)
        resources = resources_from_env(
            environ={},
            inbox=str(inbox),
            warehouse=str(warehouse),
            key_id=keys.key_id,
            memory_limit=memory_limit,
        )
        summary = run_pipeline(resources)
        if summary.failed_steps:
            raise click.ClickException(f"pipeline failed: {'; '.join(summary.failed_steps)}")
        return summary.line()

    stages = [timed_stage("synth", synthesise), timed_stage("pseudonymise", pseudonymise)]
    # The run records its Dagster steps on an instance of its own (telemetry off), so the
    # benchmark can say where the run's time went.
    home = quiet_dagster_home(workdir / "dagster_home")
    previous = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(home)
    try:
        stages.append(timed_stage("run", run))
        stages.extend(dagster_step_timings())
    finally:
        if previous is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = previous
    return stages


def dagster_step_timings() -> list[StageTiming]:
    """Wall time of every step of the runs on the instance in DAGSTER_HOME, summed per step
    over runs (one ingest run per batch), slowest first; stage names are "  step_key"."""
    import dagster as dg

    totals: dict[str, float] = {}
    with dg.DagsterInstance.get() as instance:
        for record in instance.get_run_records():
            for stats in instance.get_run_step_stats(record.dagster_run.run_id):
                if stats.start_time is not None and stats.end_time is not None:
                    totals[stats.step_key] = totals.get(stats.step_key, 0.0) + (
                        stats.end_time - stats.start_time
                    )
    ranked = sorted(totals.items(), key=lambda item: -item[1])
    shown, rest = ranked[:SLOWEST_STEPS], ranked[SLOWEST_STEPS:]
    timings = [StageTiming(f"  {key}", seconds, 0.0, "Dagster step") for key, seconds in shown]
    if rest:
        seconds = sum(seconds for _, seconds in rest)
        timings.append(StageTiming("  other steps", seconds, 0.0, f"{len(rest)} Dagster steps"))
    return timings


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

    console = Console()
    workdir = keep or Path(tempfile.mkdtemp(prefix="pahichan-bench-"))
    try:
        with console.status(f"Running the pipeline benchmark on {size:,} records"):
            timings = run_benchmark(size, seed, workdir, memory_limit)
    finally:
        if keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    console.print(timings_table(f"Pipeline benchmark, {size:,} records requested", timings))
    stages = [timing for timing in timings if not timing.stage.startswith(" ")]
    total = sum(timing.seconds for timing in stages)
    peak = max(timing.peak_rss_mb for timing in stages)
    click.echo(
        f"Pipeline benchmark: {total:.1f} s end to end, peak RSS {peak:,.0f} MB "
        f"({psutil.cpu_count()} cores)."
    )
