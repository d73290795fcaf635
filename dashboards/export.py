"""Downloads as data, not as text shown on screen: one tidy row per figure, the value a plain
number (empty when hidden or not published) and a `hidden` flag, under a header block that
names the filters and the publication. Pure pandas, no Streamlit.

Columns (`TIDY_COLUMNS`): period_type, period, period_is_partial, geo_level, geo_code, place,
dimension, category, category_label, measure, value, hidden. Header lines start with `#`
(`pandas.read_csv(..., comment="#")` skips them). The threshold is not written: every hidden
cell looks the same and nothing tells which hidden cells are the small ones (issue 14).
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from dashboards.display import download_frame
from dashboards.i18n import label, t
from dashboards.state import Filters

TIDY_COLUMNS = (
    "period_type",
    "period",
    "period_is_partial",
    "geo_level",
    "geo_code",
    "place",
    "dimension",
    "category",
    "category_label",
    "measure",
    "value",
    "hidden",
)


def tidy(rows: pd.DataFrame, f: Filters, **fixed: Any) -> pd.DataFrame:
    """Published rows (with `value`, `is_suppressed` and any of the tidy columns) as tidy
    rows. A column the rows lack comes from `fixed`, else from the filters (period, place,
    the chosen group). `value` is empty where the cell is hidden."""
    dimension, category = f.breakdown
    defaults = {
        "period_type": f.period_type,
        "period": f.period,
        "geo_level": f.geo_level,
        "geo_code": f.geo_code,
        "dimension": dimension,
        "category": category,
        "measure": "",
    } | fixed
    out = pd.DataFrame(index=rows.index)
    for column in (
        "period_type",
        "period",
        "geo_level",
        "geo_code",
        "dimension",
        "category",
        "measure",
    ):
        out[column] = rows[column] if column in rows else defaults[column]
    out["period_is_partial"] = out["period"].isin(f.partial_periods)
    out["place"] = [
        f.place_name(level, code) if level != "national" else f.place_name("national", "NP")
        for level, code in zip(out.geo_level, out.geo_code, strict=True)
    ]
    out["category_label"] = out["category"].map(
        lambda c: label(c, f.lang) if c != "all" else t("all_survivors", f.lang)
    )
    hidden = rows["is_suppressed"].fillna(False).astype(bool)
    out["value"] = rows["value"].astype("Float64").where(~hidden).astype("Int64")
    out["hidden"] = hidden.to_numpy()
    return out[list(TIDY_COLUMNS)].reset_index(drop=True)


def from_display(frame: pd.DataFrame, f: Filters) -> pd.DataFrame:
    """A display table as data when a page has no tidy rows for it: the filters as columns,
    then the table with numbers plain and each hideable column followed by its flag."""
    data = download_frame(frame, t("hidden_flag", f.lang))
    dimension, category = f.breakdown
    context = {
        "period_type": f.period_type,
        "period": f.period,
        "period_is_partial": f.period_is_partial,
        "geo_level": f.geo_level,
        "geo_code": f.geo_code,
        "place": f.place_name(),
        "dimension": dimension,
        "category": category,
    }
    for position, (column, value) in enumerate(context.items()):
        data.insert(position, column, value)
    return data


def header(f: Filters) -> list[str]:
    """The header block: what the figures are, for which filters, from which publication."""
    dimension, category = f.breakdown
    group = "all survivors" if dimension == "all" else f"{dimension}={category}"
    lines = [
        "Pahichan survivor statistics (public file)",
        f"published_at_utc: {f.published_at}",
        f"data_through: {f.data_through}",
        f"period: {f.period_type} {f.period}" + (" (partial)" if f.period_is_partial else ""),
        f"place: {f.geo_level} {f.geo_code} {f.place_name()}",
        f"group: {group}",
        "hidden: value empty and hidden=true where a figure is not shown to protect survivors",
        "not published: value empty and hidden=false",
    ]
    return [f"# {line}" for line in lines]


def to_csv(data: pd.DataFrame, f: Filters, excel: bool = False) -> bytes:
    """The header block and the data as CSV bytes: UTF-8, or UTF-8 with a byte-order mark
    (`excel=True`) so that Excel reads Nepali text."""
    text = "\n".join(header(f)) + "\n" + data.to_csv(index=False, lineterminator="\n")
    return text.encode("utf-8-sig" if excel else "utf-8")


def _slug(text: object) -> str:
    return re.sub(r"[^0-9A-Za-z]+", "-", str(text)).strip("-").lower()


def file_name(key: str, f: Filters) -> str:
    """A file name naming the table and the filters, e.g.
    `pahichan_trend_year-2024_province-6-karnali-province_sex-m.csv`."""
    parts = ["pahichan", _slug(key), f"{_slug(f.period_type)}-{_slug(f.period)}"]
    parts.append(
        f"{f.geo_level}-{_slug(f.geo_code)}"
        + (f"-{_slug(f.place_name())}" if f.lang == "en" and f.geo_level != "national" else "")
    )
    for dimension, category in f.demographics.items():
        parts.append(f"{_slug(dimension)}-{_slug(category)}")
    if f.period_is_partial:
        parts.append("partial")
    return "_".join(parts).replace("-_", "_") + ".csv"
