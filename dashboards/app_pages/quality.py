"""Data quality, for data officers: freshness, batches, rows quarantined, linkage summary.

Reads `publication`, `quality_statistics` (month x source_type x metric) and
`quarantine_reasons`. Sources are shown side by side; nothing is summed across them.
"""

from __future__ import annotations

import streamlit as st

from dashboards import ui
from dashboards.display import pivot_text, value_table
from dashboards.i18n import label, t

GROUPS = {
    "batches": ("batches_received", "batches_accepted", "batches_rejected"),
    "rows": ("rows_received", "rows_loaded", "rows_quarantined"),
    "linkage_summary": ("auto_links", "review_pairs"),
}

f = ui.filters()
lang = f.lang
st.header(t("page_quality", lang))
st.caption(t("quality_intro", lang))

publication = ui.query("publication")
st.subheader(t("freshness", lang))
# A small table, not metrics: metric values were cut off ("2025-01-05 0...").
st.table(
    {
        t("published_at", lang): [str(publication["published_at"])[:16]],
        t("data_through", lang): [str(publication["data_through"])[:10]],
        t("run_id", lang): [str(publication["run_id"])],
        t("model_version", lang): [str(publication["model_version"])],
    }
)
st.info(t("operations_on_data_office", lang))

quality = ui.query("quality")
for group, metrics in GROUPS.items():
    st.subheader(t(group, lang))
    rows = quality[quality.metric.isin(metrics)]
    if rows.empty:
        st.info(t("no_data", lang))
        continue
    wide = pivot_text(rows, ["month", "source_type"], "metric")
    wide["source_type"] = wide.source_type.map(lambda c: label(c, lang))
    wide = wide.rename(
        columns={"month": t("month", lang), "source_type": t("source_type", lang)}
        | {m: label(m, lang) for m in metrics}
    )
    ui.table(wide, f"quality_{group}", f)

st.subheader(t("quarantine_title", lang))
reasons = ui.query("quarantine_reasons")
if reasons.empty:
    st.info(t("no_data", lang))
else:
    ui.table(
        value_table(
            reasons,
            {"source_type": t("source_type", lang), "rule": t("rule", lang)},
            value_header=t("rows", lang),
            labels={"source_type": lambda c: label(c, lang)},
        ),
        "quarantine_reasons",
        f,
    )
ui.legend(f)
