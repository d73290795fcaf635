"""Linkage scoring on Spark: the same trained model, the same pairs, another engine.

Used when the warehouse is configured with `PAHICHAN_LINK_ENGINE=spark` (README, "When to
switch to Spark"); DuckDB stays the default and the only engine for training. The flow of
one scoring run (`score_on_spark`):

1. DuckDB's prepared inputs (`linkage.matching.prepare`: new records, existing records) are
   written as Parquet into a fresh exchange directory (mode 0700, files 0600);
2. Spark reads them, Splink's Spark backend scores them with the model re-emitted in the
   Spark dialect (`spark_settings`), and Spark writes the pairs at or above the model's
   lower weight as Parquet into the same directory;
3. DuckDB inserts those pairs into the scoring run's temp table, as the DuckDB path does;
4. the exchange directory is deleted, also when any step failed: it holds tokens.

Column types across the exchange: the filters travel as their 128 bytes (BINARY; Spark has
no BIT type, `bloom_dice` reads bytes); DuckDB's UBIGINT token hashes are shifted into
BIGINT (Spark would read UINT64 as DECIMAL(20,0)); the shift is one-to-one, and the model
only tests hashes for equality.

Grain of what comes back: one row per candidate pair at or above the lower weight, as in
`linkage.matching.scoring`.
"""

from __future__ import annotations

import copy
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq

from linkage.matching.spark_udf import JAR, register_bloom_dice
from linkage.matching.spec import DUCKDB, SPARK, TrainedModel, splink_settings

logger = logging.getLogger(__name__)

ENGINES = ("duckdb", "spark")
# Spark settings applied to a session this module starts (not to a Spark Connect server,
# whose settings are the cluster's): no web UI on the warehouse host (it shows query plans
# to anyone who reaches the port), shuffle and spill files encrypted (they hold tokens),
# output files and directories readable by their owner only.
CLASSIC_DEFAULTS: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.io.encryption.enabled": "true",
    "spark.hadoop.fs.permissions.umask-mode": "077",
}
# On one machine (local[N]) Spark's 200 shuffle partitions are 200 tiny tasks each join.
LOCAL_DEFAULTS: dict[str, str] = {"spark.sql.shuffle.partitions": "8"}
_BATCH_ROWS = 100_000
_UBIGINT_SHIFT = "9223372036854775808"  # 2**63: UBIGINT -> BIGINT, one to one


@dataclass(frozen=True)
class SparkEngine:
    """Where linkage scoring runs when it runs on Spark.

    `session` returns the SparkSession (called only when scoring starts, so that nothing
    starts a JVM until a run has records to score). `exchange_dir` is where the Parquet
    exchange directory of each run is created: on a cluster, storage that both the
    warehouse host and the executors mount, encrypted at rest (docs/threat-model.md);
    None = the system's temporary directory (fine for `local[N]`).
    """

    session: Callable[[], Any]
    exchange_dir: Path | None = None


def spark_config(env: Mapping[str, str]) -> dict[str, str]:
    """The SparkSession settings named by the environment (read by `pipelines.resources`).

    - `PAHICHAN_SPARK_REMOTE`: a Spark Connect URL (`sc://host:15002`); or
    - `PAHICHAN_SPARK_MASTER`: a master URL (`local[4]`, `spark://host:7077`,
      `k8s://https://host:6443`); default `local[*]`;
    - `PAHICHAN_SPARK_CONF`: more settings, `key=value` pairs separated by newlines or
      semicolons (e.g. `spark.executor.memory=8g;spark.authenticate=true`); they win over
      the defaults above.
    """
    remote = env.get("PAHICHAN_SPARK_REMOTE", "").strip()
    master = env.get("PAHICHAN_SPARK_MASTER", "").strip()
    if remote and master:
        raise ValueError("Set PAHICHAN_SPARK_REMOTE or PAHICHAN_SPARK_MASTER, not both")
    extra: dict[str, str] = {}
    for item in env.get("PAHICHAN_SPARK_CONF", "").replace(";", "\n").splitlines():
        if not item.strip():
            continue
        key, separator, value = item.partition("=")
        if not separator or not key.strip():
            raise ValueError(
                f"PAHICHAN_SPARK_CONF: expected key=value, got {item.strip()!r} "
                "(pairs separated by newlines or ';')"
            )
        extra[key.strip()] = value.strip()
    if remote:
        return {"spark.remote": remote, **extra}
    master = master or "local[*]"
    config = {"spark.master": master, **CLASSIC_DEFAULTS}
    if master.startswith("local"):
        config.update(LOCAL_DEFAULTS)
    if JAR.exists():
        jars = [j for j in extra.get("spark.jars", "").split(",") if j]
        extra["spark.jars"] = ",".join([*jars, str(JAR)])
    return {**config, **extra}


def spark_settings(model: TrainedModel) -> dict[str, Any]:
    """The trained model's Splink settings (m, u, lambda unchanged) in the Spark dialect.

    Every SQL text of the trained model is looked up in the spec emitted in both dialects
    for the model's own settings; a text the spec does not emit (a model of another spec
    version, or edited by hand) is refused rather than translated by guesswork.
    """
    duck, spark = splink_settings(model.settings, DUCKDB), splink_settings(model.settings, SPARK)
    sql = {}
    for duck_rule, spark_rule in zip(
        duck["blocking_rules_to_generate_predictions"],
        spark["blocking_rules_to_generate_predictions"],
        strict=True,
    ):
        sql[duck_rule["blocking_rule"]] = spark_rule["blocking_rule"]
    for duck_comparison, spark_comparison in zip(
        duck["comparisons"], spark["comparisons"], strict=True
    ):
        for duck_level, spark_level in zip(
            duck_comparison["comparison_levels"],
            spark_comparison["comparison_levels"],
            strict=True,
        ):
            sql[duck_level["sql_condition"]] = spark_level["sql_condition"]

    def ported(text: str) -> str:
        if text not in sql:
            raise ValueError(
                f"Model {model.model_version} holds SQL this spec does not emit ({text!r}); "
                "retrain it with this version before scoring on Spark."
            )
        return sql[text]

    settings = copy.deepcopy(model.splink_model)
    settings["sql_dialect"] = SPARK.name
    for rule in settings["blocking_rules_to_generate_predictions"]:
        rule["blocking_rule"] = ported(rule["blocking_rule"])
        rule["sql_dialect"] = SPARK.name
    for comparison in settings["comparisons"]:
        for level in comparison["comparison_levels"]:
            level["sql_condition"] = ported(level["sql_condition"])
    return settings


@contextmanager
def exchange_directory(parent: Path | None) -> Iterator[Path]:
    """A fresh directory only its owner can enter, removed with everything in it on exit
    (also after an error): the exchange files hold tokens and filters."""
    if parent is not None:
        parent.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="pahichan-spark-", dir=parent))  # mode 0700
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=False)


def export_prepared(con: duckdb.DuckDBPyConnection, table: str, path: Path) -> int:
    """Write prepared input `table` to Parquet file `path` (created 0600); return its rows."""
    columns = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ?"
        " ORDER BY column_index",
        [table],
    ).fetchall()
    select = ", ".join(_exchange_column(name, data_type) for name, data_type in columns)
    reader = con.execute(f"SELECT {select} FROM {table}").fetch_record_batch(_BATCH_ROWS)  # noqa: S608
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    rows = 0
    with os.fdopen(descriptor, "wb") as handle, pq.ParquetWriter(handle, reader.schema) as out:
        for batch in reader:
            out.write_batch(batch)
            rows += batch.num_rows
    return rows


def _exchange_column(name: str, data_type: str) -> str:
    """How one prepared column crosses to Spark (identifiers from the prepared table)."""
    shifted = f"CAST(CAST({{}} AS HUGEINT) - {_UBIGINT_SHIFT} AS BIGINT)"
    if data_type == "BIT":
        return f"CAST({name} AS BLOB) AS {name}"
    if data_type == "UBIGINT":
        return f"{shifted.format(name)} AS {name}"
    if data_type == "UBIGINT[]":
        return f"list_transform({name}, t -> {shifted.format('t')}) AS {name}"
    return name


def score_on_spark(
    con: duckdb.DuckDBPyConnection,
    model: TrainedModel,
    engine: SparkEngine,
    *,
    new_table: str,
    existing_table: str | None,
    scored_table: str,
    gamma_select: str,
) -> None:
    """Score new x new and existing x new pairs on Spark into DuckDB's `scored_table`."""
    from splink import Linker, SparkAPI

    settings = spark_settings(model)
    with exchange_directory(engine.exchange_dir) as exchange:
        export_prepared(con, new_table, exchange / "new.parquet")
        if existing_table:
            export_prepared(con, existing_table, exchange / "existing.parquet")
        spark = engine.session()
        implementation = register_bloom_dice(spark)
        logger.info("Scoring on Spark %s (bloom_dice: %s)", spark.version, implementation)
        # "persist": Splink's default ("parquet" checkpoints) needs the JVM handle, which
        # Spark Connect does not give; persisted tables are dropped after the run.
        db_api = SparkAPI(
            spark_session=spark, break_lineage_method="persist", register_udfs_automatically=False
        )
        linker = None
        try:
            new_sdf = db_api.register(spark.read.parquet(str(exchange / "new.parquet")))
            linker = Linker(new_sdf, settings, log_level=None)
            outputs = {
                "within": linker.inference.predict_within(
                    new_sdf, threshold_match_weight=model.lower_match_weight, warning_mode="never"
                )
            }
            if existing_table:
                existing_sdf = db_api.register(
                    spark.read.parquet(str(exchange / "existing.parquet"))
                )
                outputs["between"] = linker.inference.predict_between(
                    existing_sdf,
                    new_sdf,
                    threshold_match_weight=model.lower_match_weight,
                    warning_mode="never",
                )
            for name, output in outputs.items():
                frame = output.as_spark_dataframe()
                keep = [c for c in frame.columns if c in _PAIR_COLUMNS or c.startswith("gamma_")]
                frame.select(*keep).write.mode("error").parquet(str(exchange / f"pairs-{name}"))
                _load_pairs(con, exchange / f"pairs-{name}", scored_table, gamma_select)
        finally:
            if linker is not None:
                linker.table_management.delete_tables_created_by_splink_from_db()
            spark.catalog.clearCache()  # persisted Splink tables hold tokens too


_PAIR_COLUMNS = ("record_token_l", "record_token_r", "match_weight", "match_probability")


def _load_pairs(
    con: duckdb.DuckDBPyConnection, folder: Path, scored_table: str, gamma_select: str
) -> None:
    files = sorted(str(p) for p in folder.glob("*.parquet"))
    if not files:
        return
    # Orientation l < r as on DuckDB (linkage.matching.scoring): the key of a pair.
    con.execute(
        f"""INSERT INTO {scored_table}
        SELECT least(record_token_l, record_token_r), greatest(record_token_l,
               record_token_r), match_weight, match_probability, {gamma_select}
        FROM read_parquet(?)""",  # noqa: S608 - identifiers from code; the files are bound
        [files],
    )
