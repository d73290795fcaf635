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
    canonical_answer,
    dimension_scores,
    load_indicator_config,
    reintegration_score,
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
    rows = []
    off_scale = 0
    for record in answers.to_dict("records"):
        clean = {}
        for code in config.codes:
            try:
                clean[code] = canonical_answer(code, record.get(code), config)
            except ValueError:
                off_scale += 1
                clean[code] = None
        scores = dimension_scores(clean, config)
        rows.append(
            (
                record["record_token"],
                sum(v is not None for v in clean.values()),
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
