"""The small-count scanner itself must catch leaks and let legitimate text through."""

from __future__ import annotations

import pytest

from tests.dashboards.scan import small_counts


@pytest.mark.parametrize("text", ["3", "Survivors: 4", "2 people", "(1)"])
def test_finds_small_counts(text: str) -> None:
    assert small_counts([text]) == [text]


@pytest.mark.parametrize(
    "text", ["<5", "0", "1,234", "2024-Q1", "2081/82", "1.30×", "6.3%", "2024-12-28", "06:30", "15"]
)
def test_ignores_other_numbers(text: str) -> None:
    assert small_counts([text]) == []
