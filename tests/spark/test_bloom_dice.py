"""`bloom_dice` on Spark (the Java UDF and its Python fallback) equals Dice computed with
numpy, and DuckDB's expression in the model spec, on random 1024-bit filters including
NULL, all-zero and identical ones."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from linkage.matching.spark_udf import register_bloom_dice
from linkage.matching.spec import DUCKDB

pytestmark = pytest.mark.spark

FILTER_BYTES = 128


def _filters(rng: np.random.Generator, n: int, density: float) -> list[bytes]:
    bits = rng.random((n, FILTER_BYTES * 8)) < density
    return [row.tobytes() for row in np.packbits(bits, axis=1)]


@pytest.fixture(scope="module")
def pairs() -> pa.Table:
    rng = np.random.default_rng(20261206)
    n = 3000
    left = _filters(rng, n, 0.45)
    right = [
        *_filters(rng, n // 2, 0.45),  # unrelated filters, Dice ~0.45
        *(  # near copies of the left filter: high Dice
            bytes(a ^ b for a, b in zip(left[i], _filters(rng, 1, 0.03)[0], strict=True))
            for i in range(n // 2, n)
        ),
    ]
    zero, some = bytes(FILTER_BYTES), left[0]
    extra_left = [zero, zero, some, None, None, some, some]
    extra_right = [zero, some, zero, some, None, None, some]
    return pa.table(
        {
            "a": pa.array(left + extra_left, pa.binary()),
            "b": pa.array(right + extra_right, pa.binary()),
        }
    )


def _numpy_dice(table: pa.Table) -> np.ndarray:
    """Reference: 2|a & b| / (|a| + |b|) with unpackbits; NaN marks NULL, -inf 0/0."""
    out = []
    for a, b in zip(table["a"].to_pylist(), table["b"].to_pylist(), strict=True):
        if a is None or b is None:
            out.append(np.nan)
            continue
        x = np.unpackbits(np.frombuffer(a, np.uint8)).astype(np.int64)
        y = np.unpackbits(np.frombuffer(b, np.uint8)).astype(np.int64)
        ones = int(x.sum() + y.sum())
        out.append(2.0 * int((x & y).sum()) / ones if ones else -np.inf)
    return np.array(out)


def _as_reference(values: list[float | None]) -> np.ndarray:
    """NULL -> NaN, NaN (0/0) -> -inf, to compare exactly with `_numpy_dice`."""
    return np.array(
        [np.nan if v is None else (-np.inf if np.isnan(v) else v) for v in values], dtype=float
    )


def _spark_dice(spark, table: pa.Table, *, use_jar: bool) -> tuple[str, np.ndarray]:
    implementation = register_bloom_dice(spark, use_jar=use_jar)
    try:
        rows = (
            spark.createDataFrame(table.to_pandas())
            .selectExpr("monotonically_increasing_id() AS i", "bloom_dice(a, b) AS d")
            .orderBy("i")
            .collect()
        )
    finally:
        register_bloom_dice(spark)  # the jar again, for the other tests
    return implementation, _as_reference([row.d for row in rows])


def test_jar_dice_equals_numpy(spark, pairs: pa.Table) -> None:
    implementation, got = _spark_dice(spark, pairs, use_jar=True)
    assert implementation == "jar"
    np.testing.assert_array_equal(got, _numpy_dice(pairs))


def test_fallback_dice_equals_numpy(spark, pairs: pa.Table) -> None:
    implementation, got = _spark_dice(spark, pairs, use_jar=False)
    assert implementation == "python"
    np.testing.assert_array_equal(got, _numpy_dice(pairs))


def test_duckdb_dice_expression_equals_numpy(pairs: pa.Table) -> None:
    """The DuckDB side of the same spec level, on the same filters as BIT strings."""
    con = duckdb.connect()
    con.register("pairs", pairs)
    rows = con.execute(
        f"""WITH p AS (SELECT row_number() OVER () AS i,
                CAST(a AS BIT) AS x_bits_l, CAST(b AS BIT) AS x_bits_r,
                bit_count(CAST(a AS BIT)) AS x_ones_l, bit_count(CAST(b AS BIT)) AS x_ones_r
            FROM pairs)
        SELECT {DUCKDB.dice("x")} FROM p ORDER BY i"""  # noqa: S608 - spec expression
    ).fetchall()
    np.testing.assert_array_equal(_as_reference([r[0] for r in rows]), _numpy_dice(pairs))
