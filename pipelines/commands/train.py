"""`pahichan train`: re-train the linkage model (Dagster job `train_linkage_model`, in process)."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from pipelines.resources import WarehouseKeyError, resources_from_env


@click.command(
    name="train",
    epilog="Example: pahichan train --warehouse data/warehouse/pahichan.duckdb",
)
@click.option(
    "--warehouse",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Restricted warehouse DuckDB file. [PAHICHAN_WAREHOUSE]",
)
def train(warehouse: Path | None) -> None:
    """Train the linkage model on every record loaded so far; writes a versioned JSON file.

    Survivor ids are not changed by training itself; the next run links with the new model.
    """
    import dagster as dg
    from rich.console import Console

    from pipelines.definitions import build_definitions

    logging.getLogger("splink").setLevel(logging.ERROR)
    resources = resources_from_env(warehouse=str(warehouse) if warehouse else None)
    if not Path(resources["warehouse"].path).is_file():
        raise click.ClickException(
            f"no warehouse at {resources['warehouse'].path}: run `pahichan run` first"
        )
    job = build_definitions(resources).resolve_job_def("train_linkage_model")
    try:
        with (
            # Held by the command (the CLI's timeout), before Dagster asks for it again.
            resources["warehouse"].hold("pahichan train"),
            Console(stderr=True).status("Training the linkage model"),
            dg.DagsterInstance.ephemeral() as instance,
        ):
            result = job.execute_in_process(
                instance=instance,
                raise_on_error=False,
                run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
            )
    except WarehouseKeyError as error:
        raise click.ClickException(str(error)) from error
    if not result.success:
        failures = [
            event.message or ""
            for event in result.all_events
            if event.event_type_value == "STEP_FAILURE"
        ]
        raise click.ClickException("training failed: " + " ".join(failures))
    (event,) = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    click.echo(f"Trained model {metadata['model_version'].value} -> {metadata['path'].value}")
