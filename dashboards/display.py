"""Turn published rows into what a person sees (and downloads): text cells, "<5" marks.

Pure pandas, no Streamlit, so the same frame feeds `st.dataframe` and the CSV download:
the file is exactly what is on screen, suppression marks included.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from dashboards.queries import Cell


def cell_text(value: Any, is_suppressed: Any, threshold: int, missing: str = "–") -> str:
    """`<threshold` for a suppressed cell, a dash when nothing was published, else `1,234`."""
    if bool(is_suppressed) if not pd.isna(is_suppressed) else False:
        return f"<{threshold}"
    if value is None or pd.isna(value):
        return missing
    return f"{int(value):,}"


def cell_of(cell: Cell, threshold: int) -> str:
    """Display text of one headline cell."""
    return cell_text(cell.value, cell.is_suppressed, threshold)


def ratio_text(ratio: float | None, suppressed_label: str, percent: bool = False) -> str:
    """A ratio of two published counts; `suppressed_label` when either was not published
    (never an estimate)."""
    if ratio is None:
        return suppressed_label
    return f"{ratio:.1%}" if percent else f"{ratio:.2f}×"


def rate_text(rate: Any) -> str:
    """Rate per 100,000 with one decimal; a dash when not computable."""
    if rate is None or pd.isna(rate):
        return "–"
    return f"{rate:,.1f}"


def value_table(
    frame: pd.DataFrame, columns: Mapping[str, str], threshold: int,
    value_column: str = "value", value_header: str = "Count",
    labels: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Rename `columns` (source -> header), map codes through `labels` (column -> function),
    and render `value`/`is_suppressed` as one text column headed `value_header`."""
    out = pd.DataFrame(index=frame.index)
    for source, header in columns.items():
        series = frame[source]
        if labels and source in labels:
            series = series.map(labels[source])
        out[header] = series
    out[value_header] = [
        cell_text(v, s, threshold)
        for v, s in zip(frame[value_column], frame["is_suppressed"], strict=True)
    ]
    return out.reset_index(drop=True)


def pivot_text(
    frame: pd.DataFrame, index: Sequence[str], column: str, threshold: int,
) -> pd.DataFrame:
    """Spread one code column into columns of display text (no aggregation: each cell is one
    published row; a missing combination shows a dash)."""
    text = frame.assign(
        text=[cell_text(v, s, threshold)
              for v, s in zip(frame["value"], frame["is_suppressed"], strict=True)]
    )
    wide = text.pivot(index=list(index), columns=column, values="text").fillna("–")
    wide.columns.name = None
    return wide.reset_index()


def to_csv(frame: pd.DataFrame) -> bytes:
    """CSV bytes of a display table, exactly as shown (UTF-8 with BOM so Excel reads Nepali)."""
    return frame.to_csv(index=False).encode("utf-8-sig")
