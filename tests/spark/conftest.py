"""One local[2] SparkSession for the whole test session (a JVM start costs 8-15 s).

The session is configured as the warehouse configures it (`spark_config`), with the Dice
UDF's jar that `make test` builds (`make spark-udf`). Java missing or the jar not built is
a failure, not a skip: `make test` installs Debian's JDK and builds the jar.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from linkage.matching.spark_scoring import spark_config
from linkage.matching.spark_udf import JAR

MASTER = "local[2]"


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    from pyspark.sql import SparkSession

    assert JAR.exists(), f"{JAR} is missing: build it with `make spark-udf` (make test does)"
    builder = SparkSession.builder
    for key, value in spark_config({"PAHICHAN_SPARK_MASTER": MASTER}).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
