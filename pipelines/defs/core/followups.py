"""Score reintegration follow-up visits for `core.followups` (schemas.reintegration).

Follow-up rows arrive in staging like episodes (`record_kind = followup`, `contact_date` is
the visit date) with one `ri_<indicator>` text answer per indicator. Staging may predate the
indicator columns (older warehouses): missing columns read as unanswered, so core builds
either way. Scoring is Python (the config's scales and weights), everything else SQL.
"""

from __future__ import annotations

import logging

import duckdb
import pandas as pd

from schemas.reintegration import (
    load_indicator_config,
    mean_by_dimension,
    reintegration_score,
    weighted_answer,
)

logger = logging.getLogger(__name__)

CONFIG_VERSION = "v1"
SCORE_COLUMNS = [
    "record_token",
    "answered_count",
    "economic_score",
    "social_score",
    "psychosocial_score",
    "composite_score",
    "config_version",
]


def answer_columns_sql(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> str:
    """`ri_*` select list for one staging table: the column, or NULL where it is missing.

    Indicator codes come from the versioned config (`ri_` + identifier), never from data.
    """
    present = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? "
            "AND database_name = current_database()",
            [schema, table],
        ).fetchall()
    }
    codes = load_indicator_config(CONFIG_VERSION).codes
    return ", ".join(
        f"CAST({code} AS VARCHAR) AS {code}" if code in present else f"NULL::VARCHAR AS {code}"
        for code in codes
    )


def score_visits(answers: pd.DataFrame) -> pd.DataFrame:
    """One row per visit in `answers` (record_token + ri_* columns) with its scores.

    An answer off its scale should have been quarantined by validation; if one gets here
    it is counted as unanswered (with a warning) rather than failing the whole rebuild.
    """
    config = load_indicator_config(CONFIG_VERSION)
    # Each indicator takes a few spellings, so each (indicator, spelling) is weighed once:
    # rescaling every answer of every visit afresh was half of the core rebuild at 100k
    # records. Per visit this is `dimension_scores` (the test compares the two).
    weighted: dict[tuple[str, object], tuple[str, float, float] | object | None] = {}
    rows = []
    off_scale = 0
    columns = [
        answers[code].tolist() if code in answers.columns else [None] * len(answers)
        for code in config.codes
    ]
    for token, *raw in zip(answers["record_token"].tolist(), *columns, strict=True):
        parts = []
        for code, answer in zip(config.codes, raw, strict=True):
            key = (code, answer)
            if key not in weighted:
                try:
                    weighted[key] = weighted_answer(code, answer, config)  # type: ignore[arg-type]
                except ValueError:
                    weighted[key] = _OFF_SCALE
            part = weighted[key]
            if part is _OFF_SCALE:
                off_scale += 1
            elif part is not None:
                parts.append(part)
        scores = mean_by_dimension(parts)  # type: ignore[arg-type]
        rows.append(
            (
                token,
                len(parts),
                scores["economic"],
                scores["social"],
                scores["psychosocial"],
                reintegration_score(scores, config),
                config.version,
            )
        )
    if off_scale:
        logger.warning(
            "%d follow-up answers were off their scale and count as unanswered", off_scale
        )
    return pd.DataFrame(rows, columns=SCORE_COLUMNS)


# Marks an answer off its scale in `score_visits`' cache (None means unanswered).
_OFF_SCALE = object()
