"""National overview: headline figures, trend and breakdowns for the selected place/period.

Reads `survivor_statistics` only. The demographic filter (one at most) selects the
(dimension, category) rows; breakdowns always use the place's published rows per dimension.
"""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from dashboards import export, queries, ui
from dashboards.display import HIDDEN, cell_of, ratio_text, value_table
from dashboards.i18n import label, t

f = ui.filters()
lang = f.lang
st.header(f"{t('page_overview', lang)} — {f.place_name()}")

if f.period is None:
    st.info(t("no_data", lang))
    st.stop()

dimension, category = ui.breakdown(f)
ui.showing(f)

cells = ui.query("headline", f.period_type, f.period, f.geo_level, f.geo_code, dimension, category)
# Two rows of three: six columns cut the labels off at 1280 px.
columns = [*st.columns(3), *st.columns(3)]
for column, measure in zip(columns, queries.HEADLINE_MEASURES, strict=False):
    column.metric(t(measure, lang), cell_of(cells[measure]))
columns[4].metric(
    t("records_per_survivor", lang),
    ratio_text(queries.safe_ratio(cells["records"], cells["survivors"])),
    help=t("records_per_survivor_help", lang),
)
columns[5].metric(
    t("share_returning", lang),
    ratio_text(
        queries.safe_ratio(cells["returning_survivors"], cells["survivors"]),
        percent=True,
    ),
    help=t("share_returning_help", lang),
)
ui.legend(f)

st.subheader(t("trend", lang))
trend = ui.query("trend", f.period_type, f.geo_level, f.geo_code, dimension, category)
if trend.empty:
    st.info(t("no_data", lang))
else:
    plotted = trend[trend.measure != "records"].assign(
        measure_label=lambda d: d.measure.map(lambda m: t(m, lang)),
        # A partial period is named so on the axis: its lower count is not a fall.
        period_shown=lambda d: d.period.map(f.period_label),
        # A suppressed point is a gap in the line, never a guess.
        plotted_value=lambda d: d.value.astype("Float64").where(~d.is_suppressed),
    )
    if plotted.plotted_value.isna().all():
        st.info(t("no_values_to_plot", lang))
    else:
        figure = px.line(
            plotted,
            x="period_shown",
            y="plotted_value",
            color="measure_label",
            markers=True,
            labels={
                "period_shown": t("period", lang),
                "plotted_value": t("value", lang),
                "measure_label": t("measure", lang),
            },
        )
        figure.update_xaxes(type="category")  # labels such as 2024 or 2081/82, not numbers
        figure.update_yaxes(rangemode="nonnegative")
        st.plotly_chart(figure, key="trend_chart")
    if set(trend.period) & f.partial_periods:
        st.caption(t("partial_in_chart", lang, through=f.data_through))
    ui.table(
        value_table(
            trend.assign(period=trend.period.map(f.period_label)),
            {"period": t("period", lang), "measure": t("measure", lang)},
            value_header=t("value", lang),
            labels={"measure": lambda m: t(m, lang)},
        ),
        "trend",
        f,
        data=export.tidy(trend, f),
    )

st.subheader(t("breakdown", lang))
if dimension != "all" or f.demographic_notice:
    st.caption(t("breakdown_not_filtered", lang))
tabs = st.tabs([label(d, lang) for d in queries.BREAKDOWN_DIMENSIONS])
for tab, breakdown_dimension in zip(tabs, queries.BREAKDOWN_DIMENSIONS, strict=True):
    with tab:
        rows = ui.query(
            "breakdown", f.period_type, f.period, f.geo_level, f.geo_code, breakdown_dimension
        )
        if rows.empty:
            st.info(t("no_data", lang))
            continue
        shown = rows.assign(
            # A hidden category has no bar: its label carries the symbol, so the gap is not
            # read as zero.
            category_label=[
                label(c, lang) + (f" {HIDDEN}" if hidden else "")
                for c, hidden in zip(rows.category, rows.is_suppressed, strict=True)
            ],
            plotted_value=rows.value.astype("Float64").where(~rows.is_suppressed),
        )
        if shown.plotted_value.isna().all():
            st.info(t("no_values_to_plot", lang))
        else:
            bar = px.bar(
                shown,
                x="plotted_value",
                y="category_label",
                orientation="h",
                labels={"plotted_value": t("value", lang), "category_label": t("category", lang)},
            )
            bar.update_yaxes(categoryorder="total ascending")
            bar.update_xaxes(rangemode="nonnegative")
            st.plotly_chart(bar, key=f"breakdown_chart_{breakdown_dimension}")
        ui.table(
            value_table(
                rows,
                {"category": t("category", lang)},
                value_header=t("survivors", lang),
                labels={"category": lambda c: label(c, lang)},
            ),
            f"breakdown_{breakdown_dimension}",
            f,
            data=export.tidy(rows.assign(dimension=breakdown_dimension, measure="survivors"), f),
        )
