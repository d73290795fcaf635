"""`bloom_dice(a, b)` for Spark SQL: the Dice similarity of two Bloom filters (BINARY).

DuckDB compares the prepared filters as BIT strings (`linkage.matching.spec.Dialect.dice`);
Spark SQL has no bit-string type, so the Spark dialect calls this function instead. Two
implementations give identical values (double precision, NULL when a side is NULL, NaN for
two empty filters as DuckDB's 0.0 / 0):

- the Java UDF in `BloomDice.java`, built by `make spark-udf` into `bloom-dice.jar` beside
  this file (never downloaded); the fast one, and the one to use on a cluster;
- a vectorised Python fallback (`dice_arrays`, run as an Arrow UDF) when the jar is absent
  or the session cannot load it (e.g. a Spark Connect server without it).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

logger = logging.getLogger(__name__)

JAR = Path(__file__).with_name("bloom-dice.jar")
JAVA_CLASS = "pahichan.linkage.BloomDice"
FUNCTION = "bloom_dice"
Implementation = Literal["jar", "python"]


def dice_arrays(left: pa.Array, right: pa.Array) -> pa.Array:
    """Dice of each row's two filters (BINARY, NULL allowed): the Python fallback.

    Same formula and order of operations as the Java UDF and DuckDB's
    `2.0 * bit_count(a & b) / (ones_a + ones_b)`: an exact integer ratio rounded once.
    Arrow in and out (not pandas): a pandas UDF would turn the NaN of two empty filters
    into NULL, and Spark, like DuckDB, orders NaN above every number (NaN >= 0.62).
    """
    present = np.asarray(pc.and_(left.is_valid(), right.is_valid()), dtype=bool)
    out = np.full(len(left), np.nan)
    if present.any():
        a = _as_bytes_matrix(left.filter(pa.array(present)))
        b = _as_bytes_matrix(right.filter(pa.array(present)))
        if a.shape != b.shape:
            raise ValueError(f"{FUNCTION}: filters of different lengths {a.shape} and {b.shape}")
        common = np.bitwise_count(a & b).sum(axis=1, dtype=np.int64)
        ones = np.bitwise_count(a).sum(axis=1, dtype=np.int64) + np.bitwise_count(b).sum(
            axis=1, dtype=np.int64
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            out[present] = (2.0 * common) / ones
    return pa.array(out, type=pa.float64(), mask=~present)


def _as_bytes_matrix(column: pa.Array) -> np.ndarray:
    values = column.to_pylist()
    width = len(values[0])
    if any(len(v) != width for v in values):
        raise ValueError(f"{FUNCTION}: filters of different lengths in one batch")
    return np.frombuffer(b"".join(values), dtype=np.uint8).reshape(len(values), width)


def register_bloom_dice(spark: Any, *, use_jar: bool = True) -> Implementation:
    """Register `bloom_dice` in `spark`: the Java UDF when its class loads, else the
    Python fallback. Returns which one is registered."""
    from pyspark.sql.types import DoubleType

    if use_jar:
        try:
            spark.udf.registerJavaFunction(FUNCTION, JAVA_CLASS, DoubleType())
            return "jar"
        except Exception as error:  # class not on the classpath: any of several types
            logger.warning(
                "Spark cannot load %s (%s); using the slower Python bloom_dice. "
                "Build the jar with `make spark-udf` and start Spark with it in spark.jars.",
                JAVA_CLASS,
                type(error).__name__,
            )
    spark.udf.register(FUNCTION, _arrow_udf())
    return "python"


def _arrow_udf() -> Any:
    from pyspark.sql.functions import arrow_udf

    @arrow_udf("double")  # type: ignore[call-overload,misc]
    def bloom_dice(left: pa.Array, right: pa.Array) -> pa.Array:
        return dice_arrays(left, right)

    return bloom_dice
