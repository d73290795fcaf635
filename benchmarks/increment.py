"""`pahichan benchmark increment`: a month's batches into a warehouse that holds everyone.

A data office's normal run: the warehouse already holds `--size` records, and each source
sends the records of the latest month (about `--batch` in all). The synthetic registers are
generated once and split by contact date, so the month's records include survivors who
return (their earlier records are in the warehouse) as well as new ones; the summary says
how many. Both runs are timed, ingest to publish, each in a process of its own so that the
month's peak memory is its own and not what the first run left behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import click
import pandas as pd

from benchmarks.pipeline import (
    RECORDS_PER_PERSON,
    PeakMemory,
    StageTiming,
    dagster_step_timings,
    pseudonymise_sources,
    quiet_dagster_home,
    register_bench_agencies,
    timed_stage,
    timings_table,
    write_agency_keys,
)


def split_latest(
    extracts: dict[str, pd.DataFrame], batch: int
) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """(earlier, month): the `batch` records with the latest contact dates over all sources
    form the month; ties at the cut date stay together. Unreadable dates stay earlier."""
    dates = pd.concat(
        [pd.to_datetime(frame["contact_date"], errors="coerce") for frame in extracts.values()]
    ).dropna()
    if batch <= 0 or dates.empty:
        return extracts, {source: frame.iloc[0:0] for source, frame in extracts.items()}
    cut = dates.sort_values(ascending=False).iloc[min(batch, len(dates)) - 1]
    earlier, month = {}, {}
    for source, frame in extracts.items():
        late = pd.to_datetime(frame["contact_date"], errors="coerce") >= cut
        earlier[source], month[source] = frame[~late], frame[late]
    return earlier, month


def run_in_own_process(
    inbox: str, warehouse: str, key_id: str, memory_limit: str | None, dagster_home: str
) -> dict[str, object]:
    """`pahichan run` on the inbox in this (spawned) process: seconds, peak RSS, summary and
    the Dagster steps' seconds."""
    os.environ["DAGSTER_HOME"] = dagster_home
    from pipelines.commands.run import run_pipeline
    from pipelines.resources import resources_from_env

    resources = resources_from_env(
        environ={}, inbox=inbox, warehouse=warehouse, key_id=key_id, memory_limit=memory_limit
    )
    memory = PeakMemory()
    with memory.watching():
        started = time.perf_counter()
        summary = run_pipeline(resources)
        seconds = time.perf_counter() - started
    if summary.failed_steps:
        raise RuntimeError(f"pipeline failed: {'; '.join(summary.failed_steps)}")
    steps = [(t.stage, t.seconds, t.detail) for t in dagster_step_timings()]
    return {"seconds": seconds, "peak_mb": memory.peak_mb, "line": summary.line(), "steps": steps}


def run_increment(
    size: int,
    batch: int,
    seed: int,
    workdir: Path,
    memory_limit: str | None = None,
    month_memory_limit: str | None = None,
    snapshot: bool = False,
) -> list[StageTiming]:
    """Synthesise size + batch records, load all but the latest month, then the month.

    `month_memory_limit` caps DuckDB for the month's run (default: `memory_limit`), as a
    data office would configure its monthly runs. `snapshot` copies the inbox and the
    warehouse as they are just before the month's run to `workdir/before-month`, so that
    the month can be run again on the same state.
    """
    from linkage.synthetic import generate
    from linkage.synthetic.writer import write_extract

    extracts, inbox, agency = workdir / "extracts", workdir / "inbox", workdir / "agency"
    warehouse = workdir / "warehouse" / "pahichan.duckdb"
    keys = write_agency_keys(agency / "keys")
    parts: dict[str, dict[str, pd.DataFrame]] = {}
    returning: dict[str, int] = {}

    def synthesise() -> str:
        data = generate(max(1, round((size + batch) / RECORDS_PER_PERSON)), seed)
        parts["earlier"], parts["month"] = split_latest(data.extracts, batch)
        truth = data.truth.set_index(["source", "record_id"])["person_id"]
        earlier_people = {
            truth[(source, rid)]
            for source, frame in parts["earlier"].items()
            for rid in frame["record_id"]
        }
        month_people = [
            truth[(source, rid)]
            for source, frame in parts["month"].items()
            for rid in frame["record_id"]
        ]
        returning["records"] = sum(person in earlier_people for person in month_people)
        returning["month"] = len(month_people)
        for part, frames in parts.items():
            for source, frame in frames.items():
                write_extract(frame, extracts / part / f"{source}.csv")
        return (
            f"{sum(len(f) for f in parts['earlier'].values()):,} earlier + "
            f"{returning['month']:,} month records"
        )

    def pseudonymise(part: str) -> str:
        encoded, rejected = pseudonymise_sources(extracts / part, inbox, agency, keys)
        return f"{encoded:,} encoded, {rejected:,} rejected"

    def pipeline_run(name: str, limit: str | None) -> list[StageTiming]:
        return _pipeline_run(workdir, inbox, warehouse, keys.key_id, name, limit)

    stages = [timed_stage("synth", synthesise)]
    stages.append(timed_stage("pseudonymise (earlier)", lambda: pseudonymise("earlier")))
    register_bench_agencies(inbox, warehouse, keys)
    stages.extend(pipeline_run("earlier", memory_limit))
    stages.append(timed_stage("pseudonymise (month)", lambda: pseudonymise("month")))
    if snapshot:
        for folder in (inbox, warehouse.parent):
            shutil.copytree(folder, workdir / "before-month" / folder.name)
        os.sync()  # as in `replay_month`: the copy's write-back not inside the month
    month = pipeline_run("month", month_memory_limit or memory_limit)
    month[0].detail += (
        f"; {returning['records']:,} of {returning['month']:,} month records are of "
        "survivors with earlier records"
    )
    stages.extend(month)
    return stages


def _pipeline_run(
    workdir: Path, inbox: Path, warehouse: Path, key_id: str, name: str, limit: str | None
) -> list[StageTiming]:
    """`pahichan run` in a process of its own: the run's timing, then its Dagster steps'."""
    from benchmarks.linkage.benchmark import in_own_process

    home = quiet_dagster_home(workdir / f"dagster_home_{name}")
    result = in_own_process(
        run_in_own_process, str(inbox), str(warehouse), key_id, limit, str(home)
    )
    steps = [StageTiming(stage, seconds, 0.0, detail) for stage, seconds, detail in result["steps"]]  # type: ignore[union-attr]
    run = StageTiming(f"run ({name})", result["seconds"], result["peak_mb"], result["line"])  # type: ignore[arg-type]
    return [run, *steps]


def replay_month(kept: Path, workdir: Path, memory_limit: str | None) -> list[StageTiming]:
    """The month of an earlier `--keep` run again, from copies of its inbox and warehouse as
    they were before the month (`kept/before-month`), in `workdir`."""
    import duckdb

    before = kept / "before-month"
    if not (before / "warehouse" / "pahichan.duckdb").is_file():
        raise click.UsageError(f"{before} holds no warehouse: keep a run with --keep first")
    for name in ("inbox", "warehouse"):
        shutil.copytree(before / name, workdir / name)
    # The copies (GBs at 1M records) to disk before the month is timed: their write-back
    # would otherwise run during the month's own reads and writes.
    os.sync()
    warehouse = workdir / "warehouse" / "pahichan.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        key_id = con.execute("SELECT max(key_id) FROM ops.batches").fetchone()[0]
    return _pipeline_run(workdir, workdir / "inbox", warehouse, key_id, "month", memory_limit)


@click.command(
    "increment",
    epilog="Example: pahichan benchmark increment --size 1000000 --batch 10000",
)
@click.option("--size", default=100_000, show_default=True, help="Records already loaded.")
@click.option("--batch", default=10_000, show_default=True, help="Records of the month.")
@click.option("--seed", default=1, show_default=True)
@click.option(
    "--keep",
    type=click.Path(file_okay=False, path_type=Path),
    help="Work in this folder and keep it, with a copy of the inbox and the warehouse as they "
    "were before the month (default: a temporary folder, removed after).",
)
@click.option(
    "--memory-limit",
    help="DuckDB memory limit for the warehouse, e.g. 3GB (default: DuckDB's, 80% of RAM).",
)
@click.option(
    "--month-memory-limit",
    help="DuckDB memory limit for the month's run only (default: --memory-limit).",
)
@click.option(
    "--replay",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Run only the month again, from a folder an earlier run kept with --keep (on copies; "
    "the folder is not changed). --size, --batch and --seed are then not used.",
)
def benchmark_increment(
    size: int,
    batch: int,
    seed: int,
    keep: Path | None,
    memory_limit: str | None,
    month_memory_limit: str | None,
    replay: Path | None,
) -> None:
    """Time a month's batches into a warehouse that already holds everyone before them."""
    from rich.console import Console

    console = Console()
    workdir = Path(tempfile.mkdtemp(prefix="pahichan-bench-")) if replay or not keep else keep
    try:
        if replay:
            with console.status(f"Running the month kept in {replay} again"):
                timings = replay_month(replay, workdir, month_memory_limit or memory_limit)
            title = f"Monthly increment, replayed from {replay}"
        else:
            with console.status(f"Loading {size:,} records, then a month of {batch:,}"):
                timings = run_increment(
                    size, batch, seed, workdir, memory_limit, month_memory_limit, keep is not None
                )
            title = f"Monthly increment: {batch:,} records into {size:,}"
    finally:
        if workdir != keep:
            shutil.rmtree(workdir, ignore_errors=True)
    console.print(timings_table(title, timings))
    month = next(t for t in timings if t.stage == "run (month)")
    into = f"replayed from {replay}" if replay else f"for {batch:,} records into {size:,}"
    click.echo(
        f"Monthly increment: {month.seconds:.1f} s ingest to publish, peak RSS "
        f"{month.peak_rss_mb:,.0f} MB, {into}."
    )
