"""Linkage assets: who is the same survivor across agencies (tables in schema `linkage`).

`link_survivors` feeds the rows of newly loaded batches to the linkage engine
(`linkage.matching`) and links them; one computation maintains five tables, so it is one
multi-asset. `linkage/model` re-trains the model; it runs only on request
(job `train_linkage_model`), never on a schedule, because a new model can move survivor ids.
"""

# No `from __future__ import annotations`: Dagster reads the context/resource annotations
# of decorated functions at definition time.

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    MaterializeResult,
    MetadataValue,
    ResourceParam,
    asset,
    multi_asset,
)

from pipelines.defs.ingest.inbox import SOURCE_TYPES
from pipelines.defs.ingest.warehouse import ensure_ingest_schema
from pipelines.defs.ingest.withdrawal_assets import WITHDRAWALS_KEY
from pipelines.defs.linkage.feed import (
    add_pending_records,
    mark_linked,
    pending_batches,
    save_model_file,
    with_thresholds,
)
from pipelines.resources import PipelineSettings, WarehouseResource

STAGING_KEYS = [AssetKey(["staging", source_type]) for source_type in SOURCE_TYPES]
MODEL_KEY = AssetKey(["linkage", "model"])

LINKAGE_TABLES: dict[str, str] = {
    "records": "Every record in the linkage store with its encodings and tokens. "
    "Grain: one row per record_token.",
    "pairs": "Scored candidate pairs above the lower threshold, auto-linked or queued for "
    "review. Grain: one row per pair of record tokens.",
    "memberships": "Which survivor each record belongs to. Grain: one row per record_token.",
    "survivor_ids": "Every survivor_id ever minted, with retirement. Grain: one row per "
    "survivor_id.",
    "id_changes": "Append-only log of survivor_id events (minted, merged, split, ...). "
    "Grain: one row per event.",
}


@multi_asset(
    name="link_survivors",
    specs=[
        AssetSpec(
            ["linkage", table],
            group_name="linkage",
            description=description,
            deps=[*STAGING_KEYS, WITHDRAWALS_KEY, MODEL_KEY],
            kinds={"duckdb"},
        )
        for table, description in LINKAGE_TABLES.items()
    ],
)
def link_survivors(
    context: AssetExecutionContext,
    warehouse: WarehouseResource,
    settings: PipelineSettings,
    pyspark: ResourceParam[Any],
) -> Iterator[MaterializeResult]:
    """Add the rows of accepted, unlinked batches to the linkage store and link them.

    With `link_engine="spark"` the pairs are scored on the `pyspark` resource's session
    (started only then); training and everything else stay in DuckDB.
    """
    from linkage import matching

    with warehouse.connect() as con:
        ensure_ingest_schema(con)
        matching.ensure_linkage_schema(con)
        batch_ids = [row[0] for row in pending_batches(con)]
        added = add_pending_records(con)
        stored = con.execute("SELECT count(*) FROM linkage.records").fetchone()[0]  # type: ignore[index]
        if stored == 0:
            context.log.info("No records loaded yet: nothing to link")
            for table in LINKAGE_TABLES:
                yield MaterializeResult(
                    asset_key=["linkage", table], metadata={"dagster/row_count": 0}
                )
            return
        model = matching.latest_model(con)
        if model is None:
            context.log.warning(
                "No linkage model yet: training one on the %d records present "
                "(re-train with the train_linkage_model job once more data arrived)",
                stored,
            )
            model = matching.train_model(con)
            save_model_file(model, warehouse.models_dir)
        model = with_thresholds(model, settings.link_upper, settings.link_lower)
        result = matching.link_new_records(
            con, model, run_id=context.run_id, **_spark_engine(settings, pyspark)
        )
        mark_linked(con, batch_ids)
        counts = {
            table: con.execute(f"SELECT count(*) FROM linkage.{table}").fetchone()[0]  # type: ignore[index]  # noqa: S608
            for table in LINKAGE_TABLES
        }
    summary = {
        "batches_linked": len(batch_ids),
        "records_added": sum(added.values()),
        "model_version": result.model_version or "",
        "auto_links": result.auto_links,
        "review_pairs": result.review_pairs,
        "survivor_ids_minted": result.ids_minted,
        "survivor_ids_retired": result.ids_retired,
        "id_events": MetadataValue.json(result.events),
    }
    for table in LINKAGE_TABLES:
        yield MaterializeResult(
            asset_key=["linkage", table],
            metadata={**summary, "dagster/row_count": int(counts[table])},
        )


def _spark_engine(settings: PipelineSettings, pyspark: Any) -> dict[str, Any]:
    """`spark=` for link_new_records when configured; nothing otherwise (DuckDB)."""
    if settings.link_engine != "spark":
        return {}
    from linkage.matching.spark_scoring import SparkEngine

    exchange = Path(settings.spark_exchange_dir) if settings.spark_exchange_dir else None
    return {"spark": SparkEngine(session=lambda: pyspark.spark_session, exchange_dir=exchange)}


@asset(
    key=MODEL_KEY,
    group_name="linkage",
    deps=STAGING_KEYS,
    kinds={"json"},
)
def linkage_model(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> MaterializeResult:
    """The trained linkage model (Splink parameters + thresholds), a versioned artefact.

    Grain: one JSON file per training, `models/linkage-model-<version>.json` beside the
    warehouse, also stored in `linkage.models`. Trained on every record loaded so far.
    Runs only on request: re-training can move survivor ids.
    """
    from linkage import matching

    with warehouse.connect() as con:
        ensure_ingest_schema(con)
        matching.ensure_linkage_schema(con)
        add_pending_records(con)
        try:
            model = matching.train_model(con)
        except ValueError as error:
            from dagster import Failure

            raise Failure(f"cannot train the linkage model: {error}") from error
        path = save_model_file(model, warehouse.models_dir)
    context.log.info("Model %s written to %s", model.model_version, path)
    return MaterializeResult(
        metadata={
            "model_version": model.model_version,
            "path": MetadataValue.path(str(path)),
            "upper_match_weight": model.upper_match_weight,
            "lower_match_weight": model.lower_match_weight,
            "training_log": MetadataValue.json(model.training_log),
        }
    )
