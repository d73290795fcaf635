"""`pahichan train`: re-train the linkage model (Dagster job `train_linkage_model`, in process)."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from pipelines.commands.options import warehouse_options
from pipelines.resources import resources_from_env


@click.command(
    name="train",
    epilog="Example: pahichan train --warehouse data/warehouse/pahichan.duckdb",
)
@warehouse_options(must_exist=True)
def train(warehouse: Path | None, warehouse_key: Path | None) -> None:
    """Train the linkage model on every record loaded so far; writes a versioned JSON file.

    Survivor ids are not changed by training itself; the next run links with the new model.
    """
    from rich.console import Console

    from pipelines.commands.warehouse_key import clear_warehouse_errors
    from pipelines.definitions import build_definitions
    from pipelines.instance import cli_instance

    logging.getLogger("splink").setLevel(logging.ERROR)
    resources = resources_from_env(
        warehouse=str(warehouse) if warehouse else None,
        warehouse_key_file=str(warehouse_key) if warehouse_key else None,
    )
    job = build_definitions(resources).resolve_job_def("train_linkage_model")
    with (
        clear_warehouse_errors(resources["warehouse"].path, must_exist=True),
        # Held by the command (the CLI's timeout), before Dagster asks for it again.
        resources["warehouse"].hold("pahichan train"),
        Console(stderr=True).status("Training the linkage model"),
        cli_instance() as instance,
    ):
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
        )
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
