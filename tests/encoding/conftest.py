"""Shared fixtures of the encoding tests: a fixed test secret and a small clear extract."""

from __future__ import annotations

import pytest

TEST_SECRET = bytes(range(32))
OTHER_SECRET = bytes(range(100, 132))


@pytest.fixture
def secret() -> bytes:
    return TEST_SECRET


@pytest.fixture
def other_secret() -> bytes:
    return OTHER_SECRET
