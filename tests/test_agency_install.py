"""The agency tool installs alone: the wheel without extras, in a fresh virtual environment.

Builds the wheel, installs it (locked versions, from uv's cache or the package registry) into
a new venv on this Python, and runs the agency's whole job there: keys, a signed batch from a
synthetic export (also saved by Excel as UTF-8 with BOM) and a withdrawal batch. Asserts that
no warehouse library came along and that a warehouse command says what to install. Prints the
installed size (the README's figure for agencies).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from linkage.encoding.signing import read_public_key, signature_is_valid

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = ("dagster", "splink", "great_expectations", "streamlit", "duckdb", "plotly")
NOT_SHIPPED = ("benchmarks", "recordlinkage", "tests")

pytestmark = pytest.mark.install


def _uv() -> str:
    # `uv run` exports UV; `make` puts uv on PATH or bootstraps it into .bootstrap.
    for candidate in (os.environ.get("UV"), shutil.which("uv"), ROOT / ".bootstrap/bin/uv"):
        if candidate and Path(candidate).is_file():
            return str(candidate)
    pytest.fail("uv not found (make install bootstraps it)")


def _run(args: list[str | Path], **kwargs: object) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    # Not the repository: `python -c` would import the checkout's packages from the cwd.
    kwargs.setdefault("cwd", Path(tempfile.gettempdir()))
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=300, env=env, **kwargs
    )


def _ok(args: list[str | Path], **kwargs: object) -> subprocess.CompletedProcess[str]:
    done = _run(args, **kwargs)
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done


def _export_base(uv: str, output: Path) -> None:
    """The locked versions of the base dependencies (no extras, no groups) as requirements."""
    _ok(
        [
            uv,
            "export",
            "--locked",
            "--no-default-groups",
            "--no-emit-project",
            "--no-hashes",
            "--format",
            "requirements-txt",
            "--output-file",
            output,
        ],
        cwd=ROOT,
    )


@pytest.fixture(scope="module")
def agency_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding only the pahichan wheel and its base dependencies."""
    work = tmp_path_factory.mktemp("agency-install")
    uv = _uv()
    _ok([uv, "build", "--wheel", "--out-dir", work / "dist", ROOT])
    (wheel,) = (work / "dist").glob("pahichan-*-py3-none-any.whl")
    # The locked versions: what the suite tests, and what uv's cache holds.
    constraints = work / "constraints.txt"
    _export_base(uv, constraints)
    venv = work / "venv"
    _ok([uv, "venv", "--python", sys.executable, venv])
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    _ok([uv, "pip", "install", "--python", python, "--constraint", constraints, wheel])
    return venv


def _bin(venv: Path, name: str) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin") / name


def _site_packages(venv: Path) -> Path:
    python = _bin(venv, "python")
    done = _ok([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    return Path(done.stdout.strip())


def test_no_warehouse_library_is_installed(agency_venv: Path, capsys) -> None:
    check = (
        "import importlib.util, json, sys; "
        "print(json.dumps({m: getattr(importlib.util.find_spec(m), 'origin', None) "
        "for m in sys.argv[1:]}))"
    )
    done = _ok([_bin(agency_venv, "python"), "-c", check, *FORBIDDEN, *NOT_SHIPPED, "linkage"])
    found = json.loads(done.stdout)
    # The package comes from the venv, not from a checkout on the path.
    assert Path(found.pop("linkage")).is_relative_to(agency_venv)
    assert [m for m, origin in found.items() if origin is not None] == []
    site = _site_packages(agency_venv)
    size = sum(p.stat().st_size for p in site.rglob("*") if p.is_file() and not p.is_symlink())
    with capsys.disabled():
        print(f"\nagency install: {size / 1e6:.0f} MB in {site.name} (wheel without extras)")
    assert size > 0


def test_agency_job_end_to_end(agency_venv: Path, tmp_path: Path) -> None:
    pahichan = _bin(agency_venv, "pahichan")
    _ok([pahichan, "synth", "--people", "40", "--seed", "3", "--out", tmp_path / "extracts"])
    _ok([pahichan, "keys", "new", "--out", tmp_path / "linkage.key"])
    _ok([pahichan, "keys", "new-signing", "--out", tmp_path / "shelter-01.signing.pem"])
    public_key = read_public_key(tmp_path / "shelter-01.signing.pub.pem")

    export = tmp_path / "extracts/shelter.csv"
    with_bom = tmp_path / "shelter-bom.csv"
    with_bom.write_bytes(b"\xef\xbb\xbf" + export.read_bytes())
    batches = {}
    for name, extract in (("plain", export), ("bom", with_bom)):
        done = _run(
            [
                pahichan,
                "pseudonymise",
                "--source-type",
                "shelter",
                "--agency",
                "shelter-01",
                "--key",
                tmp_path / "linkage.key",
                "--signing-key",
                tmp_path / "shelter-01.signing.pem",
                "--in",
                extract,
                "--out",
                tmp_path / name / "outbox",
                "--crosswalk-dir",
                tmp_path / name / "crosswalk",
            ],
        )
        assert done.returncode in (0, 3), done.stderr  # 3: some rows rejected (synthetic noise)
        (manifest_path,) = (tmp_path / name / "outbox").glob("*.manifest.json")
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        data = (manifest_path.parent / manifest["data_file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == manifest["sha256"]
        assert signature_is_valid(manifest, public_key)
        table = pq.read_table(manifest_path.parent / manifest["data_file"])
        assert table.num_rows == manifest["row_count"] > 0
        batches[name] = table
    # The BOM changes nothing: same rows, same tokens (the first header is still record_id).
    assert batches["bom"].column("record_token") == batches["plain"].column("record_token")

    # Withdraw two encoded records, named by their local ids (the crosswalk maps them).
    (crosswalk,) = (tmp_path / "plain/crosswalk").glob("*.crosswalk.csv")
    pairs = [line.split(",") for line in crosswalk.read_text(encoding="utf-8").splitlines()[1:3]]
    record_ids = tmp_path / "withdrawn.txt"
    record_ids.write_text("".join(f"{record_id}\n" for record_id, _ in pairs), encoding="utf-8")
    _ok(
        [
            pahichan,
            "withdrawal",
            "--source-type",
            "shelter",
            "--agency",
            "shelter-01",
            "--key",
            tmp_path / "linkage.key",
            "--signing-key",
            tmp_path / "shelter-01.signing.pem",
            "--record-ids",
            record_ids,
            "--out",
            tmp_path / "withdrawal",
        ],
    )
    (manifest_path,) = (tmp_path / "withdrawal").glob("*.manifest.json")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    assert signature_is_valid(manifest, public_key) and manifest["row_count"] == 2
    withdrawn = pq.read_table(manifest_path.parent / manifest["data_file"]).column("record_token")
    assert sorted(withdrawn.to_pylist()) == sorted(token for _, token in pairs)


@pytest.mark.parametrize(
    ("command", "advice"),
    [
        ("run", 'pip install "pahichan[warehouse]"'),
        ("dashboard", "pahichan[warehouse]"),
        ("benchmark", "uv sync"),
    ],
)
def test_warehouse_commands_say_what_to_install(
    agency_venv: Path, command: str, advice: str
) -> None:
    done = _run([_bin(agency_venv, "pahichan"), command, "--inbox", "x"])
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().count("\n") == 0 and advice in done.stderr


def test_every_agency_dependency_has_a_windows_wheel(tmp_path: Path) -> None:
    """Agencies run Windows: each locked base dependency must install there without a compiler."""
    _export_base(_uv(), tmp_path / "base.txt")
    pinned = dict(
        line.split(";")[0].strip().split("==")
        for line in (tmp_path / "base.txt").read_text().splitlines()
        if "==" in line
    )
    assert {"pandas", "pyarrow", "cryptography"} <= pinned.keys()
    locked = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))["package"]
    wheels = {
        (p["name"], p["version"]): [w["url"].rsplit("/", 1)[-1] for w in p.get("wheels", [])]
        for p in locked
    }

    def installs_on_windows(name: str) -> bool:
        return any(
            w.endswith("-none-any.whl") or ("win_amd64" in w and ("-cp311-" in w or "abi3" in w))
            for w in wheels[(name, pinned[name])]
        )

    assert [name for name in pinned if not installs_on_windows(name)] == []
