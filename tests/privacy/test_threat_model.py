"""docs/threat-model.md names tests for its controls: every one must exist in the suite."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "threat-model.md"
NODE = re.compile(r"`(tests/[\w/]+\.py::\w+)`")
ATTACKS = (
    "Dictionary attack",
    "Frequency and pattern mining",
    "Graph matching",
    "Differencing",
    "Insider at the warehouse",
    "Stolen warehouse file",
    "Forged or replayed batches",
    "Withdrawal abuse",
    "Erased records brought back from the inbox",
)


def _collected(files: list[str]) -> set[str]:
    """Node ids pytest collects from `files` (parametrised ids reduced to the function)."""
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-m",
            "",
            "-p",
            "no:cacheprovider",
            *files,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    return {line.split("[")[0] for line in process.stdout.splitlines() if "::" in line}


def test_every_attack_is_covered_and_every_named_test_exists() -> None:
    text = DOC.read_text(encoding="utf-8")
    for attack in ATTACKS:
        assert f"{attack}" in text, attack
    nodes = sorted(set(NODE.findall(text)))
    files = sorted({node.split("::")[0] for node in nodes})
    assert all((REPO / f).is_file() for f in files), [f for f in files if not (REPO / f).is_file()]
    collected = _collected(files)
    missing = [node for node in nodes if node not in collected]
    print(f"threat model names {len(nodes)} tests in {len(files)} files; missing: {missing}")
    assert len(nodes) >= 20
    assert not missing
