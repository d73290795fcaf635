"""The `pahichan` command: one entry point, sub-commands loaded on demand.

Sub-commands live next to the code they drive (agency-side commands in `linkage/`, warehouse
commands in `pipelines/`, the dashboard in `dashboards/`). They are imported only when invoked,
so `pahichan keys` on an agency laptop never imports Dagster or Streamlit, and `pahichan --help`
stays fast.

Installs: the wheel's base dependencies are the agency tool's (keys, pseudonymise, withdrawal,
synth); the warehouse commands need `pahichan[warehouse]`; the benchmarks run from a checkout
of the repository. A command whose part is not installed fails with one line saying what to
install, not a traceback.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import click

# What to install when a command's part is missing (`SubCommand.needs`).
WAREHOUSE = 'the warehouse part: pip install "pahichan[warehouse]"'
CHECKOUT = "a checkout of the repository (benchmarks/ is not in the wheel): uv sync"
# Our own top-level packages: a missing one of these is a missing part, not a missing library.
OWN_PACKAGES = frozenset({"linkage", "pipelines", "dashboards", "schemas", "benchmarks"})


@dataclass(frozen=True)
class SubCommand:
    """Where a sub-command's click object lives and what it does, for `--help`.

    `needs` says what to install if its imports are missing; None for the agency commands,
    which the base install always has (a missing import there is a broken install).
    """

    target: str  # "package.module:attribute"
    summary: str
    needs: str | None = WAREHOUSE


SUBCOMMANDS: dict[str, SubCommand] = {
    "synth": SubCommand(
        "linkage.synthetic.cli:synth",
        "Write synthetic agency extracts (shelter, OCMC, migration) and a truth file.",
        needs=None,
    ),
    "keys": SubCommand(
        "linkage.encoding.cli:keys",
        "Agency side: create the linkage secret or the agency's signing key; print key ids.",
        needs=None,
    ),
    "pseudonymise": SubCommand(
        "linkage.encoding.cli:pseudonymise",
        "Agency side: turn a clear extract into an encoded batch + manifest.",
        needs=None,
    ),
    "withdrawal": SubCommand(
        "linkage.encoding.withdrawal:withdrawal_batch",
        "Agency side: turn local record ids into a withdrawal batch (consent withdrawn).",
        needs=None,
    ),
    "run": SubCommand(
        "pipelines.commands.run:run",
        "Process every pending inbox batch into the warehouse and publish reader files.",
    ),
    "train": SubCommand(
        "pipelines.commands.train:train",
        "Train the linkage model on the records in the warehouse (a versioned artefact).",
    ),
    "review": SubCommand(
        "pipelines.commands.review:review",
        "List linkage pairs awaiting review or record a must-link / cannot-link decision.",
    ),
    "warehouse-key": SubCommand(
        "pipelines.commands.warehouse_key:warehouse_key",
        "Create the data office's key that encrypts the warehouse file at rest.",
    ),
    "agency-key": SubCommand(
        "pipelines.commands.agency_key:agency_key",
        "Register or list the agencies' signing keys (batches must be signed by them).",
    ),
    "withdraw": SubCommand(
        "pipelines.commands.withdraw:withdraw",
        "Erase a record after consent withdrawal and rebuild everything derived from it.",
    ),
    "export": SubCommand(
        "pipelines.commands.export:export",
        "Export survivors in an international layout (CTDC), k-anonymised.",
    ),
    "dashboard": SubCommand(
        "dashboards.cli:dashboard", "Start the ministry dashboard on 127.0.0.1."
    ),
    "benchmark": SubCommand(
        "benchmarks.cli:benchmark",
        "Measure speed and accuracy; prints a table (pseudonymise, linkage, pipeline, dashboard).",
        needs=CHECKOUT,
    ),
}


class LazyGroup(click.Group):
    """A click group whose sub-commands are imported only when invoked."""

    def __init__(self, *args: object, lazy: dict[str, SubCommand], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self.lazy)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = self.lazy.get(cmd_name)
        if entry is None:
            return None
        module_name, attribute = entry.target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            missing = (error.name or "").split(".")[0]
            # A missing library, or a whole package of ours left out of this install (benchmarks
            # in the wheel), is a part not installed; a missing module inside our packages is a
            # command not built yet.
            if (
                entry.needs is not None
                and missing
                and (missing not in OWN_PACKAGES or error.name == missing)
            ):
                return _not_installed(cmd_name, entry, missing)
            if error.name and module_name.startswith(error.name):
                return _not_built(cmd_name, entry)
            raise
        return getattr(module, attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Summaries come from the table above so that `--help` imports nothing heavy.
        rows = [(name, self.lazy[name].summary) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _not_installed(name: str, entry: SubCommand, missing: str) -> click.Command:
    """Stands in for a command whose part is not installed: one line naming what to install."""

    @click.command(name=name, help=entry.summary, context_settings={"ignore_unknown_options": True})
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def placeholder(args: tuple[str, ...]) -> None:
        raise click.ClickException(
            f"`pahichan {name}` is not in this install (no module {missing!r}); it needs "
            f"{entry.needs}"
        )

    return placeholder


def _not_built(name: str, entry: SubCommand) -> click.Command:
    @click.command(name=name, help=entry.summary, context_settings={"ignore_unknown_options": True})
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def placeholder(args: tuple[str, ...]) -> None:
        raise click.ClickException(f"`pahichan {name}` is not built yet.")

    return placeholder


@click.group(
    cls=LazyGroup,
    lazy=SUBCOMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Example: pahichan synth --people 1000 --seed 7 --out data/extracts",
)
@click.version_option(package_name="pahichan")
def main() -> None:
    """Pahichan: privacy-preserving survivor identification for agencies in Nepal."""
