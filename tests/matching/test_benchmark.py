"""The linkage benchmark command: arguments, output shape, and real accuracy on FEBRL4."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from linkage.matching.benchmark import benchmark_linkage, scores


def test_scores_are_pairwise_precision_recall_f1():
    got = scores({("a", "b"), ("a", "c")}, {("a", "b"), ("b", "c")})
    assert got == {"precision": 0.5, "recall": 0.5, "f1": 0.5}


def test_help_has_an_example():
    result = CliRunner().invoke(benchmark_linkage, ["--help"])
    assert result.exit_code == 0 and "Example: pahichan benchmark linkage" in result.output


def test_bad_size_is_a_clear_message():
    result = CliRunner().invoke(benchmark_linkage, ["--dataset", "synthetic", "--size", "3"])
    assert result.exit_code == 2 and "size must be at least 10" in result.output


@pytest.mark.slow
def test_febrl4_encoded_end_to_end():
    result = CliRunner().invoke(benchmark_linkage, ["--dataset", "febrl4", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["dataset"] == "febrl4" and out["records"] == 10_000
    assert out["pahichan"]["precision"] >= 0.99
    assert out["pahichan"]["f1"] >= 0.95
