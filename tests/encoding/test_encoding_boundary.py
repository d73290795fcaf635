"""linkage/ must not import pipelines/ or dashboards/ (two trust zones, one direction)."""

from __future__ import annotations

import ast
from pathlib import Path

LINKAGE = Path(__file__).resolve().parents[2] / "linkage"
FORBIDDEN = ("pipelines", "dashboards")


def _imported_modules(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module":
            names.extend(a.value for a in node.args if isinstance(a, ast.Constant))
    return names


def offending_imports(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        for module in _imported_modules(ast.parse(path.read_text(encoding="utf-8"))):
            if str(module).split(".")[0] in FORBIDDEN:
                found.append(f"{path.relative_to(root.parent)}: {module}")
    return found


def test_linkage_imports_nothing_from_pipelines_or_dashboards() -> None:
    files = list(LINKAGE.rglob("*.py"))
    assert len(files) > 5  # the walk really sees the package
    assert offending_imports(LINKAGE) == []


def test_the_check_catches_a_forbidden_import(tmp_path: Path) -> None:
    package = tmp_path / "linkage"
    package.mkdir()
    (package / "bad.py").write_text("from pipelines.cli import main\nimport dashboards.app\n")
    assert len(offending_imports(package)) == 2
