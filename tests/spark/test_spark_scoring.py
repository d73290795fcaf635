"""Encoded FEBRL4 scored on DuckDB and on Spark (local[2]) with the same trained model:
the same pairs, agreement levels and weights; the exchange files are private while they
exist and gone afterwards, also when Spark fails.

FEBRL4 in full (5,000 + 5,000 records, encoded with the project's encoder): FEBRL-A is
the store's existing records, FEBRL-B the new batch, so both Splink calls of a scoring
run (new x new, existing x new) are compared.
"""

from __future__ import annotations

import secrets
import stat
from pathlib import Path

import duckdb
import numpy as np
import pytest

import linkage.matching as lm
from benchmarks.linkage.bench_data import load_dataset
from linkage.encoding import encode_frame, key_id_of
from linkage.matching.scoring import SCORED_TABLE, score_new_records
from linkage.matching.spark_scoring import SparkEngine, spark_settings
from linkage.matching.spec import TrainedModel

pytestmark = pytest.mark.spark

PAIRS_SQL = f"""SELECT * EXCLUDE (match_weight, match_probability), match_weight,
    match_probability FROM {SCORED_TABLE} ORDER BY record_token_l, record_token_r"""  # noqa: S608


@pytest.fixture(scope="module")
def febrl4() -> tuple[duckdb.DuckDBPyConnection, TrainedModel]:
    dataset = load_dataset("febrl4", None)
    secret = secrets.token_bytes(32)
    con = duckdb.connect()
    con.execute("SET threads = 2")
    lm.ensure_linkage_schema(con)
    for agency, source_type, frame in dataset.frames:
        batch = encode_frame(frame, secret=secret, agency_id=agency, source_type=source_type)
        lm.add_records(
            con,
            batch.table,
            batch_id=agency,
            source_type=source_type,
            agency_id=agency,
            key_id=key_id_of(secret),
        )
    model = lm.train_model(con)
    # FEBRL-A becomes the clustered store, FEBRL-B the batch to score.
    con.execute(
        """INSERT INTO linkage.memberships SELECT record_token, 'S-' || record_token
        FROM linkage.records WHERE batch_id = 'FEBRL-A'"""
    )
    return con, model


def test_spark_scores_febrl4_like_duckdb(spark, febrl4, tmp_path: Path, report) -> None:
    import time

    con, model = febrl4
    started = time.perf_counter()
    kept_duckdb = score_new_records(con, model)
    duckdb_seconds = time.perf_counter() - started
    on_duckdb = con.execute(PAIRS_SQL).fetchall()

    exchange = tmp_path / "exchange"
    seen: dict[str, int] = {}

    def session():
        # Called once the inputs are exported: they exist now, owner-only.
        (run,) = exchange.iterdir()
        seen["dir"] = stat.S_IMODE(run.stat().st_mode)
        seen.update({p.name: stat.S_IMODE(p.stat().st_mode) for p in run.iterdir()})
        return spark

    started = time.perf_counter()
    kept_spark = score_new_records(con, model, spark=SparkEngine(session, exchange))
    spark_seconds = time.perf_counter() - started
    on_spark = con.execute(PAIRS_SQL).fetchall()
    report(
        f"FEBRL4 (5,000 new x 5,000 existing) scored in {duckdb_seconds:.1f} s on DuckDB, "
        f"{spark_seconds:.1f} s on Spark local[2] (session already up)"
    )

    assert kept_duckdb == kept_spark > 4000  # FEBRL4 holds 5,000 true pairs
    assert [row[:-2] for row in on_spark] == [row[:-2] for row in on_duckdb]  # pairs, gammas
    np.testing.assert_allclose(
        [row[-2:] for row in on_spark], [row[-2:] for row in on_duckdb], rtol=1e-9, atol=1e-12
    )
    assert seen == {"dir": 0o700, "new.parquet": 0o600, "existing.parquet": 0o600}
    assert list(exchange.iterdir()) == [], "the exchange files must be deleted after the run"


def test_exchange_dir_is_owner_only_and_removed_when_spark_fails(febrl4, tmp_path: Path) -> None:
    con, model = febrl4
    exchange = tmp_path / "exchange"
    modes: dict[str, int] = {}

    def failing_session():
        (run,) = exchange.iterdir()
        modes["dir"] = stat.S_IMODE(run.stat().st_mode)
        modes.update({p.name: stat.S_IMODE(p.stat().st_mode) for p in run.iterdir()})
        raise RuntimeError("cluster unreachable")

    with pytest.raises(RuntimeError, match="cluster unreachable"):
        score_new_records(con, model, spark=SparkEngine(failing_session, exchange))
    assert modes == {"dir": 0o700, "new.parquet": 0o600, "existing.parquet": 0o600}
    assert list(exchange.iterdir()) == []


def test_spark_settings_keep_parameters_and_port_every_sql_text(febrl4) -> None:
    _, model = febrl4
    ported = spark_settings(model)
    original = model.splink_model
    assert ported["sql_dialect"] == "spark"
    for before, after in zip(original["comparisons"], ported["comparisons"], strict=True):
        for old, new in zip(before["comparison_levels"], after["comparison_levels"], strict=True):
            assert {k: v for k, v in old.items() if k != "sql_condition"} == {
                k: v for k, v in new.items() if k != "sql_condition"
            }
            assert "list_has_any" not in new["sql_condition"]
            assert "bit_count" not in new["sql_condition"]
    rules = ported["blocking_rules_to_generate_predictions"]
    assert all(
        r["sql_dialect"] == "spark" and "list_has_any" not in r["blocking_rule"] for r in rules
    )
    tampered = TrainedModel.from_json(model.to_json())
    tampered.splink_model["comparisons"][0]["comparison_levels"][1]["sql_condition"] = "TRUE"
    with pytest.raises(ValueError, match="retrain"):
        spark_settings(tampered)
