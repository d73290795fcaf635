"""Streamlit plumbing shared by the pages: the cached connection, cached queries, tables
with their CSV download, and the legend of hidden cells."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from dashboards import queries
from dashboards.config import public_db_path
from dashboards.display import HIDDEN, MISSING, to_csv
from dashboards.i18n import label, t
from dashboards.state import SESSION_KEY, Filters


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
    group = (t("all_survivors", f.lang) if dimension == "all"
             else f"{label(dimension, f.lang)}: {label(category, f.lang)}")
    parts = [*what, f"{label(f.period_type, f.lang)} {f.period}", group]
    st.caption(f"{t('showing', f.lang)}: " + " · ".join(parts))


def legend(f: Filters) -> None:
    """The legend shown under every set of figures: one symbol for every hidden cell (never
    the threshold, never why a cell was hidden), one for nothing published."""
    st.caption(f"{HIDDEN} {t('hidden', f.lang)} · {MISSING} {t('nothing_published', f.lang)} · "
               f"{t('ratios_note', f.lang)}")


def table(frame: pd.DataFrame, key: str, f: Filters) -> None:
    """Show a display table and offer it as CSV: the same rows and columns, with hidden
    cells empty and flagged in a column of their own (`display.download_frame`)."""
    st.dataframe(frame, hide_index=True, width="stretch")
    st.download_button(
        t("download", f.lang), data=to_csv(frame, t("hidden_flag", f.lang)),
        file_name=f"{key}.csv", mime="text/csv", key=f"download_{key}", on_click="ignore",
    )
