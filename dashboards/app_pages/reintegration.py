"""Reintegration: scores from follow-up visits, follow-up coverage and referral completion.

Reads `reintegration_statistics` (national/province/district), `followup_coverage` and
`referral_statistics` (national/province). Shares are ratios of two published, unsuppressed
counts (`queries.safe_ratio`), never computed from suppressed or summed cells. The score is
Pahichan's provisional score (equal weights), not IOM's: the page says so first.
"""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from dashboards import queries, ui
from dashboards.display import HIDDEN, cell_of, cell_text, mark_hideable, pivot_text, ratio_text
from dashboards.i18n import label, t

f = ui.filters()
lang = f.lang
st.header(f"{t('page_reintegration', lang)} — {f.place_name()}")
st.warning(t("provisional_note", lang))
if f.period is None:
    st.info(t("no_data", lang))
    st.stop()
if not all(
    ui.query("has_table", name) for name in ("reintegration_statistics", "followup_coverage")
):
    st.info(t("not_yet_published", lang))
    st.stop()
dimension, category = ui.breakdown(f)
ui.showing(f)


def score_label(code: str) -> str:
    # "psychosocial" also names a service (counselling); the score dimension has its own label.
    return label("psychosocial_score" if code == "psychosocial" else code, lang)


def mean_text(cell: queries.Cell) -> str:
    """A mean score out of 100, or the hidden symbol."""
    return f"{cell.value}%" if cell.published else HIDDEN


# Coverage and referrals are published for Nepal and provinces only.
wide_level, wide_code = f.geo_level, f.geo_code
if wide_level == "district":
    wide_level, wide_code = "province", f.province or "NP"

scores = ui.query(
    "reintegration", f.period_type, f.period, f.geo_level, f.geo_code, dimension, category
)
coverage = ui.query("followup_coverage", f.period_type, wide_level, wide_code)
cohort = coverage[coverage.period == f.period]
first_met = queries.cell_from(cohort, measure="survivors_first_contact")

composite_scored = queries.cell_from(
    scores, score_dimension="composite", measure="survivors_scored"
)
columns = st.columns(4)
columns[0].metric(t("survivors_scored", lang), cell_of(composite_scored))
columns[1].metric(
    t("mean_score", lang),
    mean_text(queries.cell_from(scores, score_dimension="composite", measure="mean_score_pct")),
    help=t("mean_score_help", lang),
)
for column, measure, key in (
    (columns[2], "followed_within_6m", "followed_6m"),
    (columns[3], "followed_within_12m", "followed_12m"),
):
    ratio = queries.safe_ratio(queries.cell_from(cohort, measure=measure), first_met)
    column.metric(t(key, lang), ratio_text(ratio, percent=True), help=t("followed_help", lang))
ui.legend(f)

st.subheader(t("score_distribution", lang))
bands = scores[scores.measure.isin(queries.SCORE_BANDS)]
if bands.empty:
    st.info(t("no_data", lang))
else:
    chart = bands.assign(
        score=bands.score_dimension.map(score_label),
        band=bands.measure.map(lambda m: label(m, lang)),
        plotted_value=bands.value.astype("Float64").where(~bands.is_suppressed),
    )
    figure = px.bar(
        chart,
        x="band",
        y="plotted_value",
        color="score",
        barmode="group",
        category_orders={"band": [label(b, lang) for b in queries.SCORE_BANDS]},
        labels={
            "band": t("band", lang),
            "plotted_value": t("survivors_scored", lang),
            "score": t("score_dimension", lang),
        },
    )
    st.plotly_chart(figure, key="score_bands_chart")
    order = {d: i for i, d in enumerate(queries.SCORE_DIMENSIONS)}
    wide = pivot_text(bands, ["score_dimension"], "measure")
    wide = wide.sort_values("score_dimension", key=lambda c: c.map(order))
    wide["score_dimension"] = wide.score_dimension.map(score_label)
    wide = wide.rename(
        columns={"score_dimension": t("score_dimension", lang)}
        | {b: label(b, lang) for b in queries.SCORE_BANDS}
    )[
        [
            t("score_dimension", lang),
            *(label(b, lang) for b in queries.SCORE_BANDS if b in wide.columns),
        ]
    ]
    ui.table(wide, "reintegration_score_bands", f)
ui.legend(f)

st.subheader(t("score_trend", lang))
trend = ui.query("reintegration_trend", f.period_type, f.geo_level, f.geo_code, dimension, category)
if trend.empty:
    st.info(t("no_data", lang))
else:
    means = trend[trend.measure == "mean_score_pct"].assign(
        score=lambda d: d.score_dimension.map(score_label),
        # A suppressed mean is a gap in the line, never a guess.
        plotted_value=lambda d: d.value.astype("Float64").where(~d.is_suppressed),
    )
    figure = px.line(
        means,
        x="period",
        y="plotted_value",
        color="score",
        markers=True,
        labels={
            "period": t("period", lang),
            "plotted_value": t("mean_score_pct", lang),
            "score": t("score_dimension", lang),
        },
    )
    figure.update_xaxes(type="category")
    figure.update_yaxes(range=[0, 100])
    st.plotly_chart(figure, key="score_trend_chart")
    rows = []
    for (period, score), group in trend.groupby(["period", "score_dimension"], sort=False):
        scored = queries.cell_from(group, measure="survivors_scored")
        rows.append(
            {
                t("period", lang): period,
                t("score_dimension", lang): score_label(score),
                t("survivors_scored", lang): cell_of(scored),
                t("mean_score_pct", lang): mean_text(
                    queries.cell_from(group, measure="mean_score_pct")
                ),
            }
        )
    ui.table(
        mark_hideable(pd.DataFrame(rows), [t("survivors_scored", lang), t("mean_score_pct", lang)]),
        "reintegration_trend",
        f,
    )

st.subheader(t("coverage_title", lang))
if wide_level != f.geo_level:
    st.caption(t("reintegration_scope", lang) + f" {f.place_name('province', wide_code)}")
if coverage.empty:
    st.info(t("no_data", lang))
else:
    rows = []
    for period, group in coverage.groupby("period", sort=False):
        cells = {m: queries.cell_from(group, measure=m) for m in queries.COVERAGE_MEASURES}
        base = cells["survivors_first_contact"]
        row = {t("cohort", lang): period}
        row |= {t(m, lang): cell_of(c) for m, c in cells.items()}
        for measure, key in (
            ("followed_within_6m", "share_6m"),
            ("followed_within_12m", "share_12m"),
        ):
            share = queries.safe_ratio(cells[measure], base)
            row[t(key, lang)] = ratio_text(share, percent=True)
        rows.append(row)
    coverage_table = pd.DataFrame(rows)
    ui.table(
        mark_hideable(
            coverage_table, [c for c in coverage_table.columns if c != t("cohort", lang)]
        ),
        "followup_coverage",
        f,
    )

st.subheader(t("referral_completion", lang))
st.caption(t("referral_completion_help", lang))
pairs = ui.query("referral_pairs", f.period_type, f.period, wide_level, wide_code)
if pairs.empty:
    st.info(t("no_data", lang))
else:
    rows = []
    for pair in pairs.itertuples():
        made = queries.Cell(
            None if pd.isna(pair.referrals) else int(pair.referrals),
            bool(pair.referrals_suppressed),
        )
        confirmed = queries.Cell(
            None if pd.isna(pair.confirmed) else int(pair.confirmed),
            bool(pair.confirmed_suppressed),
        )
        rows.append(
            {
                t("from_agency", lang): label(pair.from_agency_type, lang),
                t("to_agency", lang): label(pair.to_agency_type, lang),
                t("referrals", lang): cell_text(made.value, made.is_suppressed),
                t("referrals_confirmed", lang): cell_text(confirmed.value, confirmed.is_suppressed),
                t("completion", lang): ratio_text(
                    queries.safe_ratio(confirmed, made), percent=True
                ),
            }
        )
    ui.table(
        mark_hideable(
            pd.DataFrame(rows),
            [t(m, lang) for m in ("referrals", "referrals_confirmed", "completion")],
        ),
        "referral_completion",
        f,
    )
ui.legend(f)
