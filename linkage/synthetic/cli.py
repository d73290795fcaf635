"""`pahichan synth`: write synthetic shelter, OCMC and migration extracts and a truth file."""

from __future__ import annotations

import time
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from linkage.synthetic.generator import STEPS, generate
from linkage.synthetic.writer import TRUTH_FILE, write

_STEP_LABELS = {
    "people": "Drawing people",
    "episodes": "Placing contacts over time",
    "records": "Writing what each agency recorded",
    "extracts": "Splitting into extracts",
}
MAX_PEOPLE = 5_000_000


@click.command(
    name="synth",
    epilog=(
        "Example: pahichan synth --people 1000 --seed 7 --out data/extracts\n\n"
        f"{TRUTH_FILE} says which records are the same person. It is for evaluation only: "
        "never send it with the extracts (use --truth-out to keep it in another folder)."
    ),
)
@click.option(
    "--people",
    "people",
    type=click.IntRange(1, MAX_PEOPLE),
    required=True,
    help="Number of persons (1-4 contact episodes each, plus follow-up visits for about a third;"
    " about 2.7 records per person on average).",
)
@click.option(
    "--seed",
    type=int,
    default=7,
    show_default=True,
    help="Random seed: the same seed gives byte-identical files.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for shelter.csv, ocmc.csv, migration.csv (created if missing).",
)
@click.option(
    "--truth-out",
    "truth_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=f"Folder for {TRUTH_FILE} (default: the --out folder).",
)
def synth(people: int, seed: int, out_dir: Path, truth_dir: Path | None) -> None:
    """Write realistic synthetic agency extracts for Nepal, in the agency extract contract.

    One CSV per source type (one agency each): shelter.csv (mostly Devanagari names),
    ocmc.csv (mixed scripts) and migration.csv (Latin, passports), plus truth.csv mapping
    every record to its person. The hard cases for linkage (spelling variants, typos,
    swapped and married names, age instead of birth date, siblings, re-trafficking after a
    gap) appear in the proportions of linkage.synthetic.config.SynthConfig. Contract 1.1:
    rows with record_kind=followup are reintegration follow-up visits (about 3, 6, 12, 18
    and 24 months after first contact, with drop-out) whose ri_* columns hold the answers.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise click.BadParameter(f"{out_dir} exists and is not a folder", param_hint="--out")
    console = Console(stderr=True)
    started = time.perf_counter()
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(_STEP_LABELS[STEPS[0]], total=len(STEPS) + 1)

        def advance(step: str) -> None:
            index = STEPS.index(step)
            following = STEPS[index + 1] if index + 1 < len(STEPS) else None
            label = _STEP_LABELS[following] if following else "Writing CSV files"
            progress.update(task, advance=1, description=label)

        data = generate(people, seed, progress=advance)
        try:
            paths = write(data, out_dir, truth_dir)
        except OSError as error:
            raise click.ClickException(f"could not write to {out_dir}: {error}") from error
        progress.update(task, advance=1)
    counts = ", ".join(f"{source} {len(frame):,}" for source, frame in data.extracts.items())
    elapsed = time.perf_counter() - started
    click.echo(
        f"Wrote {data.record_count:,} records of {people:,} people ({counts}) to {out_dir} "
        f"and truth to {paths['truth']} in {elapsed:.1f}s (seed {seed})."
    )
