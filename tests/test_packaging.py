"""What the product imports: no benchmark code in production, no warehouse on the agency path.

Production is linkage, pipelines, dashboards and schemas (the wheel's packages). Benchmarks
live in the repository-only `benchmarks/` package with their own dependency group; the agency
tool (keys, pseudonymise, withdrawal, synth) installs without the warehouse extra. Imports
are checked in a fresh interpreter (a subprocess), since this test process has imported
everything already.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = ("linkage", "pipelines", "dashboards", "schemas")
# Files that are not modules to import: Streamlit runs the dashboard pages as scripts (they
# need its session), and the boundary builder is a maintenance script with its own libraries.
SCRIPTS = ("dashboards/app_pages/*.py", "dashboards/streamlit_app.py", "dashboards/geo/build_*.py")
WAREHOUSE_LIBRARIES = ("dagster", "splink", "great_expectations", "streamlit", "duckdb", "plotly")
AGENCY_COMMANDS = ("keys", "pseudonymise", "withdrawal", "synth")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _production_files() -> list[Path]:
    skipped = {p for pattern in SCRIPTS for p in ROOT.glob(pattern)}
    files = [p for package in PRODUCTION for p in sorted((ROOT / package).rglob("*.py"))]
    return [p for p in files if p not in skipped]


def _is_benchmark_module(name: str) -> bool:
    top, _, _ = name.partition(".")
    leaf = name.rsplit(".", 1)[-1]
    return (
        top in {"benchmarks", "recordlinkage"}
        or "benchmark" in leaf
        or leaf in {"bench_data", "baseline"}
    )


def _imported_after(modules: list[str], *, commands: tuple[str, ...] = ()) -> dict[str, object]:
    """Import `modules` (and resolve `pahichan` sub-commands) in a fresh interpreter.

    Returns {"modules": every name in sys.modules afterwards, "failed": {module: error}}.
    """
    program = f"""
import importlib, json, sys
failed = {{}}
for name in {modules!r}:
    try:
        importlib.import_module(name)
    except Exception as error:
        failed[name] = repr(error)[:300]
if {commands!r}:
    import click
    from pipelines.cli import main
    with click.Context(main) as ctx:
        for command in {commands!r}:
            main.get_command(ctx, command)
print(json.dumps({{"modules": sorted(sys.modules), "failed": failed}}))
"""
    done = subprocess.run(
        [sys.executable, "-c", program],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_production_module_imports_no_benchmark_code() -> None:
    modules = [_module_name(p) for p in _production_files()]
    assert "linkage.matching.linking" in modules and "pipelines.cli" in modules
    result = _imported_after(modules)
    assert result["failed"] == {}
    loaded = [m for m in result["modules"] if _is_benchmark_module(m)]
    assert loaded == [], f"production imports benchmark code: {loaded}"


def test_no_production_file_names_benchmark_code_even_lazily() -> None:
    """Imports inside functions run only on some paths: read every import statement."""
    offenders = []
    for path in _production_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            offenders += [
                f"{path.relative_to(ROOT)}: {n}" for n in names if _is_benchmark_module(n)
            ]
    assert offenders == []


def test_agency_code_path_imports_no_warehouse_library() -> None:
    agency = [
        _module_name(p)
        for package in ("linkage/encoding", "linkage/synthetic", "schemas")
        for p in sorted((ROOT / package).rglob("*.py"))
    ]
    result = _imported_after(
        ["linkage", "pipelines", "pipelines.cli", *agency], commands=AGENCY_COMMANDS
    )
    assert result["failed"] == {}
    heavy = sorted(
        {m.split(".")[0] for m in result["modules"]} & {*WAREHOUSE_LIBRARIES, "benchmarks"}
    )
    assert heavy == [], f"the agency tool imports {heavy}"


@pytest.mark.parametrize("command", ["run", "dashboard", "export", "benchmark"])
def test_a_command_whose_part_is_missing_says_what_to_install(command: str) -> None:
    """Simulates the agency install: the warehouse libraries and benchmarks/ cannot be found."""
    # A None entry in sys.modules makes a module unimportable and unfindable, as if absent.
    program = f"""
import sys
for name in {(*WAREHOUSE_LIBRARIES, "benchmarks", "recordlinkage")!r}:
    sys.modules[name] = None
from pipelines.cli import main
main([{command!r}, "--some-option", "x"])
"""
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    wanted = "uv sync" if command == "benchmark" else 'pip install "pahichan[warehouse]"'
    assert wanted in lines[0] and f"pahichan {command}" in lines[0]
