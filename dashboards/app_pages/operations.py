"""Data quality for the data office: batches received, accepted and rejected (with batch id,
agency, time and reason), rows quarantined by rule, the review queue, the last run and the
last publication, withdrawals and runs. Replaces the public "Data quality" page in a
dashboard started with `--operations`.

Reads operations.duckdb (PAHICHAN_OPERATIONS_DB), never the warehouse. Operational counts
(batches, rows) are shown as they are: they count files and rows, not people, and this page
is only in a dashboard started for the data office.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import streamlit as st

from dashboards import ui
from dashboards.config import operations_db_path
from dashboards.i18n import label, t

f = ui.filters()
lang = f.lang
st.header(t("page_quality", lang))
st.caption(t("operations_intro", lang))


@st.cache_data(show_spinner=False)
def _tables(path: str, version: float) -> dict[str, pd.DataFrame]:
    with duckdb.connect(path, read_only=True) as con:
        names = [row[0] for row in con.execute("SHOW TABLES").fetchall()]
        return {name: con.execute(f'SELECT * FROM "{name}"').df() for name in names}  # noqa: S608


path = operations_db_path()
assert path is not None  # the frame adds this page only when the file is configured
tables = _tables(str(path), path.stat().st_mtime)
batches = tables["batches"]
queue = tables["review_queue"]

first, second, third = st.columns(3)
first.metric(t("operations_batches", lang), len(batches))
second.metric(label("batches_accepted", lang), int((batches.status == "accepted").sum()))
third.metric(t("operations_rejected", lang), int((batches.status == "rejected").sum()))
fourth, fifth, sixth = st.columns(3)
fourth.metric(label("rows_quarantined", lang), int(batches.rows_quarantined.fillna(0).sum()))
fifth.metric(t("operations_review_queue", lang), int(queue.pairs_awaiting_review.iloc[0]))
runs = tables["runs"]
sixth.metric(t("last_run", lang), str(runs.started_at.max())[:16] if not runs.empty else "–")
# Full values, not metrics: metric values are cut off when long (run ids, timestamps).
publication = ui.query("publication")
st.markdown(
    f"**{t('last_publication', lang)}:** {str(publication['published_at'])[:16]} · "
    f"**{t('run_id', lang)}:** `{publication['run_id']}` · "
    f"**{t('data_through', lang)}:** {str(publication['data_through'])[:10]}"
)

sections = {
    "operations_rejected": batches[batches.status == "rejected"][
        ["received_at", "batch_id", "source_type", "agency_id", "reason"]
    ],
    "operations_batches": batches.drop(columns=["failed_checks"]),
    "operations_quarantine": tables["quarantine_by_rule"],
    "operations_withdrawals": tables["withdrawals"],
    "operations_runs": tables["runs"],
}
for key, frame in sections.items():
    st.subheader(t(key, lang))
    if frame.empty:
        st.caption(t("operations_none", lang))
    else:
        ui.table(frame, key, f)
