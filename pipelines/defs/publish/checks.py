"""Checks on the published reader files, made on the files as readers open them."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb

from pipelines.defs.marts.build import MART_TABLES
from pipelines.resources import PipelineSettings

PUBLIC_KEY = dg.AssetKey(["publish", "public"])


def small_published_counts(path: Path, threshold: int) -> dict[str, int]:
    """Per table of public.duckdb, how many published counts lie in 1..threshold-1 (each one
    a disclosure). Independent of the protector: reads what a reader reads."""
    found: dict[str, int] = {}
    with duckdb.connect(str(path), read_only=True) as con:
        tables = {
            name
            for (name,) in con.execute(
                "SELECT table_name FROM duckdb_columns() WHERE column_name = 'value' "
                "AND data_type IN ('INTEGER', 'BIGINT', 'HUGEINT', 'SMALLINT')"
            ).fetchall()
        }
        for table in sorted(tables & set(MART_TABLES)):
            measure_filter = (
                "AND measure <> 'mean_score_pct'" if table == "reintegration_statistics" else ""
            )
            count = con.execute(
                f'SELECT count(*) FROM "{table}" WHERE value BETWEEN 1 AND ? '  # noqa: S608
                f"{measure_filter}",
                [threshold - 1],
            ).fetchone()[0]
            if count:
                found[table] = count
    return found


@dg.asset_check(
    asset=PUBLIC_KEY,
    name="no_published_count_is_small",
    description="Every count published in public.duckdb is 0 or at least the suppression "
    "threshold; hidden cells carry no value.",
    blocking=True,
)
def no_published_count_is_small(settings: PipelineSettings) -> dg.AssetCheckResult:
    from pipelines.defs.publish.build import PUBLIC_FILE

    small = small_published_counts(
        Path(settings.publish_dir) / PUBLIC_FILE, settings.suppression_threshold
    )
    return dg.AssetCheckResult(
        passed=not small,
        metadata={
            "threshold": settings.suppression_threshold,
            "small_counts_by_table": dg.MetadataValue.json(small),
        },
    )
