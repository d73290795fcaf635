"""Streamlit plumbing shared by the pages: the cached connection, cached queries, tables
with their CSV download, and the legend of hidden cells."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from dashboards import export, queries
from dashboards.config import public_db_path
from dashboards.display import HIDDEN, MISSING
from dashboards.i18n import label, t
from dashboards.state import SESSION_KEY, Filters

# Metric labels wrap instead of being cut off ("Share returning a..."), and widget labels in
# columns wrap too; on a phone (390 px) Streamlit already stacks the columns.
_CSS = """
<style>
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] * {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
}
[data-testid="stMetricValue"], [data-testid="stMetricValue"] * {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
}
[data-testid="stWidgetLabel"] p { white-space: normal !important; }
@media (max-width: 640px) {
  [data-testid="stMetricValue"] { font-size: 1.6rem !important; }
  .block-container { padding-left: 0.75rem !important; padding-right: 0.75rem !important; }
}
</style>
"""


def style() -> None:
    """The dashboard's few CSS rules (no external font or stylesheet: offline)."""
    st.html(_CSS)


# Widgets whose option labels are in the chosen language (keys, or key prefixes).
_LABELLED_KEYS = (
    "province",
    "district",
    "period_type",
    "period",
    "filter_",
    "map_level_",
    "map_colour_",
    "map_measure",
    "referral_measure",
)
_LABELS_LANG = "_labels_lang"


def resend_choices_on_language_change(lang: str) -> None:
    """After a language switch, send every selection to the browser again in the new language.

    Streamlit gives the browser a select box's or radio's value as its *label text*: after a
    switch the browser kept showing "Bagmati Province" in a Nepali select box and radios with
    nothing selected, although the script still had the codes. Assigning each kept choice to
    itself marks it as set by the script, so the widget is re-sent with the new label. Call
    before any of these widgets is created in the run.
    """
    shown = st.session_state.get(_LABELS_LANG)
    st.session_state[_LABELS_LANG] = lang
    if shown is None or shown == lang:
        return
    for key in list(st.session_state.keys()):
        if isinstance(key, str) and key.startswith(_LABELLED_KEYS):
            st.session_state[key] = st.session_state[key]


def _version(path: Path) -> float:
    # A new publication replaces the file: its mtime keys both caches, so the dashboard
    # reopens it instead of serving the old one.
    return path.stat().st_mtime


@st.cache_resource(show_spinner=False)
def _connection(path: str, version: float) -> Any:
    return queries.connect(path)


@st.cache_data(show_spinner=False, max_entries=512)
def _cached(path: str, version: float, name: str, args: tuple[Any, ...]) -> Any:
    return getattr(queries, name)(_connection(path, version), *args)


def query(name: str, *args: Any) -> Any:
    """Run `queries.<name>(con, *args)` on the public file, cached per publication."""
    path = public_db_path()
    return _cached(str(path), _version(path), name, args)


def public_db_ready() -> bool:
    """Whether the public file exists (the frame shows a clear message otherwise)."""
    return public_db_path().is_file()


def filters() -> Filters:
    """The sidebar selection of this run (set by the frame before the page runs)."""
    return st.session_state[SESSION_KEY]


def breakdown(f: Filters) -> tuple[str, str]:
    """The (dimension, category) the page's figures use, warning first when the chosen
    groups cannot be used here (figures then fall back to all survivors)."""
    if f.demographic_notice:
        st.warning(t(f.demographic_notice, f.lang))
    return f.breakdown


def showing(f: Filters, *what: str) -> None:
    """Caption naming what the figures are for: `what` (e.g. a measure), period, group."""
    dimension, category = f.breakdown
    group = (
        t("all_survivors", f.lang)
        if dimension == "all"
        else f"{label(dimension, f.lang)}: {label(category, f.lang)}"
    )
    parts = [*what, f"{label(f.period_type, f.lang)} {f.period_label()}", group]
    st.caption(f"{t('showing', f.lang)}: " + " · ".join(parts))
    if f.period_is_partial:
        st.warning(t("partial_period_note", f.lang, through=f.data_through))


def legend(f: Filters) -> None:
    """The legend shown under every set of figures: one symbol for every hidden cell (never
    the threshold, never why a cell was hidden), one for nothing published."""
    st.caption(
        f"{HIDDEN} {t('hidden', f.lang)} · {MISSING} {t('nothing_published', f.lang)} · "
        f"{t('ratios_note', f.lang)}"
    )


def table(frame: pd.DataFrame, key: str, f: Filters, data: pd.DataFrame | None = None) -> None:
    """Show a display table and offer its figures as data: `data` in the tidy layout of
    `dashboards.export` (or the display table converted, when a page passes none), with a
    header block naming the filters and the publication, as plain UTF-8 and as UTF-8 with a
    byte-order mark for Excel. The file name names the filters."""
    st.dataframe(frame, hide_index=True, width="stretch")
    tidy = data if data is not None else export.from_display(frame, f)
    name = export.file_name(key, f)
    left, right = st.columns(2)
    with left:
        st.download_button(
            t("download", f.lang),
            data=export.to_csv(tidy, f),
            file_name=name,
            mime="text/csv",
            key=f"download_{key}",
            on_click="ignore",
        )
    with right:
        st.download_button(
            t("download_excel", f.lang),
            data=export.to_csv(tidy, f, excel=True),
            file_name=name.replace(".csv", "_excel.csv"),
            mime="text/csv",
            key=f"download_excel_{key}",
            on_click="ignore",
        )
