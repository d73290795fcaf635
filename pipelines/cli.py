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
import importlib.util
from dataclasses import dataclass

import click


@dataclass(frozen=True)
class Part:
    """A part of Pahichan beyond the agency tool: the modules it brings and how to get it."""

    modules: tuple[str, ...]  # top-level modules importable when the part is installed
    install: str  # what to tell the user when one is missing


# The wheel's extra `warehouse` (pyproject.toml): the pipeline, checks, linkage engine, dashboard.
WAREHOUSE = Part(
    ("dagster", "duckdb", "splink", "great_expectations", "streamlit", "plotly", "highspy"),
    'install the warehouse part: pip install "pahichan[warehouse]"',
)
# benchmarks/ and its dependency group are not in the wheel.
BENCH = Part(
    ("benchmarks", "recordlinkage", *WAREHOUSE.modules),
    "run it from a checkout of the repository after `uv sync` (benchmarks are not in the wheel)",
)


@dataclass(frozen=True)
class SubCommand:
    """Where a sub-command's click object lives and what it does, for `--help`.

    `needs` is the part it runs in; None for the agency commands, which every install has.
    """

    target: str  # "package.module:attribute"
    summary: str
    needs: Part | None = WAREHOUSE


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
    "review-requests": SubCommand(
        "pipelines.commands.review:review_requests",
        "Write per-agency review requests: queued pairs whose two records one agency sent.",
    ),
    "review-import": SubCommand(
        "pipelines.commands.review:review_import",
        "Verify and store an agency's signed review decisions (the next run applies them).",
    ),
    "review-decide": SubCommand(
        "linkage.encoding.review:review_decide",
        "Agency side: show requested pairs as your own clear records; sign the decisions.",
        needs=None,
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
        needs=BENCH,
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
        # Checked before importing, without importing: some commands reach their libraries
        # only when run (the dashboard starts Streamlit in a subprocess).
        missing = _missing_modules(entry.needs)
        if missing:
            return _not_installed(cmd_name, entry, missing)
        module_name, attribute = entry.target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name and module_name.startswith(error.name):
                return _not_built(cmd_name, entry)
            raise
        return getattr(module, attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Summaries come from the table above so that `--help` imports nothing heavy.
        rows = [(name, self.lazy[name].summary) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _missing_modules(part: Part | None) -> list[str]:
    if part is None:
        return []
    return [name for name in part.modules if importlib.util.find_spec(name) is None]


def _not_installed(name: str, entry: SubCommand, missing: list[str]) -> click.Command:
    """Stands in for a command whose part is not installed: one line naming what to install."""
    assert entry.needs is not None

    @click.command(name=name, help=entry.summary, context_settings={"ignore_unknown_options": True})
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def placeholder(args: tuple[str, ...]) -> None:
        raise click.ClickException(
            f"`pahichan {name}` is not in this install (no {', '.join(missing)}); "
            f"{entry.needs.install}"
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
