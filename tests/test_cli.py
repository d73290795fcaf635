"""The `pahichan` entry point: every sub-command is listed, documented and has an example."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from benchmarks.cli import BENCHMARKS
from pipelines.cli import SUBCOMMANDS, main


def test_help_lists_every_subcommand_with_its_summary() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in SUBCOMMANDS:
        assert name in result.output
    # Summaries are one line each and shown without importing the commands.
    assert "synthetic agency extracts" in result.output


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_each_subcommand_has_help_with_an_example(name: str) -> None:
    result = CliRunner().invoke(main, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output, f"`pahichan {name} --help` shows no example"


@pytest.mark.parametrize("name", sorted(BENCHMARKS))
def test_each_benchmark_has_help_with_an_example(name: str) -> None:
    result = CliRunner().invoke(main, ["benchmark", name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output


def test_unknown_subcommand_is_refused() -> None:
    result = CliRunner().invoke(main, ["no-such-command"])
    assert result.exit_code != 0
    assert "No such command" in result.output
