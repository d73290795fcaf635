"""Turn published rows into what a person sees (and downloads): text cells, hidden marks.

Pure pandas, no Streamlit, so the same frame feeds `st.dataframe` and the CSV download.
Every hidden cell shows the one symbol `HIDDEN`, whatever the reason it was hidden: a cell
hidden because it was small and one hidden so it cannot be worked out from other cells (which
may hold dozens of people) look the same, so no reader takes a hidden cell for a number and
no label tells which hidden cells are the small ones. The threshold is never written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from dashboards.queries import Cell

HIDDEN = "✱"  # a hidden cell: not shown to protect survivors (the legend says so)
MISSING = "–"  # nothing published for this cell (not the same as hidden)
_NUMBER_TEXT = re.compile(r"\d{1,3}(,\d{3})*(\.\d+)?")


def cell_text(value: Any, is_suppressed: Any, missing: str = MISSING) -> str:
    """`HIDDEN` for a hidden cell, `missing` when nothing was published, else `1,234`."""
    if bool(is_suppressed) if not pd.isna(is_suppressed) else False:
        return HIDDEN
    if value is None or pd.isna(value):
        return missing
    return f"{int(value):,}"


def cell_of(cell: Cell) -> str:
    """Display text of one headline cell."""
    return cell_text(cell.value, cell.is_suppressed)


def ratio_text(ratio: float | None, percent: bool = False) -> str:
    """A ratio of two published counts; `HIDDEN` when either was not published (never an
    estimate: a ratio with a hidden operand would let a reader work the hidden cell out)."""
    if ratio is None:
        return HIDDEN
    return f"{ratio:.1%}" if percent else f"{ratio:.2f}×"


def rate_text(rate: Any) -> str:
    """Rate per 100,000 with one decimal; a dash when not computable."""
    if rate is None or pd.isna(rate):
        return MISSING
    return f"{rate:,.1f}"


def mark_hideable(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Record which columns of a display table hold cells that can be hidden, so that the CSV
    gives each of them a hidden flag even when nothing in this selection is hidden."""
    frame.attrs["hideable"] = [*frame.attrs.get("hideable", []), *columns]
    return frame


def value_table(
    frame: pd.DataFrame,
    columns: Mapping[str, str],
    value_column: str = "value",
    value_header: str = "Count",
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
        cell_text(v, s) for v, s in zip(frame[value_column], frame["is_suppressed"], strict=True)
    ]
    return mark_hideable(out.reset_index(drop=True), [value_header])


def pivot_text(frame: pd.DataFrame, index: Sequence[str], column: str) -> pd.DataFrame:
    """Spread one code column into columns of display text (no aggregation: each cell is one
    published row; a missing combination shows a dash)."""
    text = frame.assign(
        text=[cell_text(v, s) for v, s in zip(frame["value"], frame["is_suppressed"], strict=True)]
    )
    wide = text.pivot(index=list(index), columns=column, values="text").fillna(MISSING)
    wide.columns.name = None
    wide = wide.reset_index()
    return mark_hideable(wide, [c for c in wide.columns if c not in index])


def download_frame(frame: pd.DataFrame, flag_suffix: str = ": hidden") -> pd.DataFrame:
    """The CSV form of a display table: the same rows and columns, but each hideable column
    holds plain numbers (no thousands separator) and an empty value where the cell is hidden
    or nothing was published, and is followed by a `<column><flag_suffix>` column that is
    True exactly where the cell is hidden.

    A column is hideable when the table says so (`mark_hideable`) or holds a hidden cell; the
    symbol itself never reaches the file, where it could be misread as data.
    """
    declared = frame.attrs.get("hideable", [])
    out = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        series = frame[column]
        hidden = series.astype(str) == HIDDEN
        if column not in declared and not hidden.any():
            out[column] = series
            continue
        out[column] = [
            ""
            if is_hidden or text == MISSING
            else text.replace(",", "")
            if _NUMBER_TEXT.fullmatch(text)
            else text
            for text, is_hidden in zip(series.astype(str), hidden, strict=True)
        ]
        out[f"{column}{flag_suffix}"] = hidden.to_numpy()
    return out


def to_csv(frame: pd.DataFrame, flag_suffix: str = ": hidden") -> bytes:
    """CSV bytes of a display table (`download_frame`), UTF-8 with BOM so Excel reads Nepali."""
    return download_frame(frame, flag_suffix).to_csv(index=False).encode("utf-8-sig")
