"""The spec's two dialects and the Spark settings from the environment (no JVM here).

The DuckDB text is what the spec emitted before dialects existed (checked byte for byte
against the previous code when the dialect was introduced); these tests keep it so: the
default is DuckDB, and the Spark text differs from it only by the dialect's expressions.
"""

from __future__ import annotations

import json
import re

import pytest

from linkage.matching.spark_scoring import spark_config
from linkage.matching.spark_udf import JAR
from linkage.matching.spec import (
    DUCKDB,
    SPARK,
    LinkageSettings,
    blocking_conditions,
    splink_settings,
)
from pipelines.resources import link_engine, resources_from_env

VARIANTS = [
    LinkageSettings(),
    LinkageSettings(name_edit_level=True, lsh_bands=3),
    LinkageSettings(name_edit_blocking=False),
]


def _back_to_duckdb(text: str) -> str:
    """Undo the Spark dialect's expressions: what remains must be the DuckDB text."""
    text = text.replace("arrays_overlap(", "list_has_any(").replace('"spark"', '"duckdb"')
    return re.sub(
        r"bloom_dice\((\w+)_bits_l, \1_bits_r\)",
        lambda m: DUCKDB.dice(m.group(1)),
        text,
    )


@pytest.mark.parametrize("settings", VARIANTS)
def test_duckdb_is_the_default_and_spark_differs_only_by_dialect(settings) -> None:
    default = json.dumps([splink_settings(settings), blocking_conditions(settings)])
    duck = json.dumps([splink_settings(settings, DUCKDB), blocking_conditions(settings, DUCKDB)])
    spark = json.dumps([splink_settings(settings, SPARK), blocking_conditions(settings, SPARK)])
    assert default == duck
    assert "list_has_any" not in spark and "bit_count" not in spark
    assert "arrays_overlap" not in duck and "bloom_dice" not in duck
    assert _back_to_duckdb(spark) == duck


def test_spark_config_from_environment() -> None:
    config = spark_config(
        {
            "PAHICHAN_SPARK_MASTER": "spark://10.0.0.5:7077",
            "PAHICHAN_SPARK_CONF": "spark.executor.memory=8g; spark.authenticate=true\n"
            "spark.ui.enabled=true",
        }
    )
    assert config["spark.master"] == "spark://10.0.0.5:7077"
    assert config["spark.executor.memory"] == "8g" and config["spark.authenticate"] == "true"
    assert config["spark.ui.enabled"] == "true"  # the operator's setting wins
    assert config["spark.io.encryption.enabled"] == "true"
    assert "spark.sql.shuffle.partitions" not in config  # only for local[N]
    assert config["spark.jars"].endswith(str(JAR)) == JAR.exists()
    assert spark_config({})["spark.master"] == "local[*]"
    assert spark_config({})["spark.ui.enabled"] == "false"
    # Spark Connect: the server's settings are the cluster's; only the URL and extras.
    assert spark_config(
        {"PAHICHAN_SPARK_REMOTE": "sc://spark.example:15002", "PAHICHAN_SPARK_CONF": "a=b"}
    ) == {"spark.remote": "sc://spark.example:15002", "a": "b"}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PAHICHAN_SPARK_MASTER": "local[2]", "PAHICHAN_SPARK_REMOTE": "sc://x"}, "not both"),
        ({"PAHICHAN_SPARK_CONF": "spark.executor.memory"}, "key=value"),
    ],
)
def test_bad_spark_settings_are_refused(env, message) -> None:
    with pytest.raises(ValueError, match=message):
        spark_config(env)


def test_link_engine_is_duckdb_unless_set_to_spark() -> None:
    assert link_engine(None) == "duckdb" and link_engine(" Spark ") == "spark"
    with pytest.raises(ValueError, match="PAHICHAN_LINK_ENGINE"):
        link_engine("postgres")
    resources = resources_from_env({"PAHICHAN_LINK_ENGINE": "spark"})
    assert resources["settings"].link_engine == "spark"
    assert type(resources["pyspark"]).__name__ == "LazyPySparkResource"
