"""`pahichan run` with PAHICHAN_LINK_ENGINE=spark (local[2]) on 2,000 synthetic people gives
the same survivors as the default DuckDB engine, and leaves no exchange file behind.

The DuckDB run happens in a process of its own, which then shows that a DuckDB-only run
starts no JVM (the `pyspark` resource is lazy). Both warehouses ingest the same signed
batches, so both train the same model and hold the same record tokens.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

import linkage.matching as lm
from linkage.matching.spec import TrainedModel
from linkage.matching.store import latest_model_json, save_model_row
from linkage.synthetic import SOURCE_TYPES
from tests.cli_agency import invoke, pseudonymise, register_agency, synthesise

pytestmark = pytest.mark.spark

PEOPLE = 2000
# Runs `pahichan run`, then reports whether this process ever had a SparkContext or a
# child JVM: a DuckDB-only run must have neither.
_DUCKDB_RUN = """
import json, sys
import psutil
from click.testing import CliRunner
from pipelines.cli import main
result = CliRunner().invoke(main, ["run", "--inbox", sys.argv[1], "--warehouse", sys.argv[2]])
from pyspark import SparkContext
java = [p.name() for p in psutil.Process().children(recursive=True) if "java" in p.name()]
print(json.dumps({"exit_code": result.exit_code, "output": result.output,
                  "spark_context": SparkContext._active_spark_context is not None,
                  "java_children": java}))
"""


def _survivors(warehouse: Path) -> set[frozenset[str]]:
    """The partition of record tokens into survivors (ids themselves are random)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "SELECT list(record_token ORDER BY record_token) FROM linkage.memberships "
            "GROUP BY survivor_id"
        ).fetchall()
    return {frozenset(tokens) for (tokens,) in rows}


def _copy_model(source: Path, target: Path) -> str:
    """The model the first run trained, stored in the second warehouse before its run.

    Training is not bit-for-bit repeatable (DuckDB's parallel sums), so two warehouses
    training on their own differ in the last digits of m and u; the engines are compared
    on one model, as a data office would score with its one trained model.
    """
    with duckdb.connect(str(source), read_only=True) as con:
        text = latest_model_json(con)
    assert text is not None
    model = TrainedModel.from_json(text)
    with duckdb.connect(str(target)) as con:
        lm.ensure_linkage_schema(con)
        save_model_row(con, model.model_version, model.trained_at, model.key_id, text)
    return model.model_version


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two warehouses with the same registered agencies and the same inbox of batches."""
    root = tmp_path_factory.mktemp("spark-run")
    extracts, agency, inbox = root / "extracts", root / "agency", root / "inbox"
    key = synthesise(extracts, agency, people=PEOPLE, seed=11)
    paths = {engine: root / engine / "pahichan.duckdb" for engine in ("duckdb", "spark")}
    for source in SOURCE_TYPES:
        agency_id = f"{source}-spark"
        signing = register_agency(agency, paths["duckdb"], source, agency_id, by="test")
        invoke(
            "agency-key", "register", "--agency", agency_id, "--by", "test",
            "--source-type", source, "--public-key",
            str(agency / f"{agency_id}.signing.pub.pem"), "--warehouse", str(paths["spark"]),
        )  # fmt: skip
        pseudonymise(
            source, agency_id, key, signing, extracts / f"{source}.csv",
            inbox / source / agency_id, agency / "crosswalks",
        )  # fmt: skip
    for engine in paths:
        shutil.copytree(inbox, root / engine / "inbox")
    return {**paths, "root": root}


def test_run_on_spark_gives_the_same_survivors_as_duckdb(
    spark, warehouses, monkeypatch: pytest.MonkeyPatch, report
) -> None:
    root = warehouses["root"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAHICHAN_")}
    # A script file, not `python -c`: pyspark takes a main module without a file for its
    # own doctests and exits.
    script = root / "duckdb_run.py"
    script.write_text(_DUCKDB_RUN, encoding="utf-8")
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(script), str(root / "duckdb" / "inbox"), str(warehouses["duckdb"])],
        env=env, capture_output=True, text=True, timeout=900, check=True,
    )  # fmt: skip
    duckdb_seconds = time.perf_counter() - started
    on_duckdb = json.loads(done.stdout.strip().splitlines()[-1])
    assert on_duckdb["exit_code"] == 0, on_duckdb["output"]
    assert not on_duckdb["spark_context"] and not on_duckdb["java_children"], on_duckdb

    model_version = _copy_model(warehouses["duckdb"], warehouses["spark"])
    exchange = root / "exchange"
    monkeypatch.setenv("PAHICHAN_LINK_ENGINE", "spark")
    monkeypatch.setenv("PAHICHAN_SPARK_MASTER", "local[2]")
    monkeypatch.setenv("PAHICHAN_SPARK_EXCHANGE_DIR", str(exchange))
    started = time.perf_counter()
    output = invoke(
        "run", "--inbox", str(root / "spark" / "inbox"), "--warehouse", str(warehouses["spark"])
    )
    spark_seconds = time.perf_counter() - started
    report(
        f"pahichan run, {PEOPLE} synthetic people: {duckdb_seconds:.0f} s on DuckDB (own "
        f"process, with imports), {spark_seconds:.0f} s with linkage on Spark local[2]"
    )
    assert "3 batches accepted" in output
    with duckdb.connect(str(warehouses["spark"]), read_only=True) as con:
        assert con.execute("SELECT list(model_version) FROM linkage.models").fetchone()[0] == [
            model_version
        ]  # scored with the copied model, not one trained anew
    survivors = _survivors(warehouses["spark"])
    assert sum(len(s) for s in survivors) > PEOPLE  # returning survivors: more records
    assert survivors == _survivors(warehouses["duckdb"])
    assert exchange.is_dir() and list(exchange.iterdir()) == []
