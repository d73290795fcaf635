"""Services: what survivors received, by service and tier, and referrals between agency types.

Reads `service_statistics` (national/province/district) and `referral_statistics`
(national/province). Tiers group the published rows; no tier total is computed, since
adding cells could undo suppression.
"""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from dashboards import export, ui
from dashboards.display import HIDDEN, pivot_text
from dashboards.i18n import label, t

TIERS = ("immediate", "short_term", "long_term")

f = ui.filters()
lang = f.lang
st.header(f"{t('page_services', lang)} — {f.place_name()}")
if f.period is None:
    st.info(t("no_data", lang))
    st.stop()
if f.demographics:
    st.info(t("no_demographics_here", lang))
st.caption(f"{t('showing', lang)}: {label(f.period_type, lang)} {f.period_label()}")
if f.period_is_partial:
    st.warning(t("partial_period_note", lang, through=f.data_through))

rows = ui.query("services", f.period_type, f.period, f.geo_level, f.geo_code)
st.subheader(t("services_by_type", lang))
if rows.empty:
    st.info(t("no_data", lang))
else:
    given = rows[rows.measure == "services_given"].assign(
        # A hidden service has no bar: its label carries the symbol, so it is not read as 0.
        service=lambda d: [
            label(c, lang) + (f" {HIDDEN}" if hidden else "")
            for c, hidden in zip(d.service_code, d.is_suppressed, strict=True)
        ],
        tier=lambda d: d.service_tier.map(lambda c: label(c, lang)),
        plotted_value=lambda d: d.value.astype("Float64").where(~d.is_suppressed),
    )
    bar = px.bar(
        given,
        x="plotted_value",
        y="service",
        color="tier",
        orientation="h",
        labels={
            "plotted_value": t("services_given", lang),
            "service": t("service", lang),
            "tier": t("tier", lang),
        },
    )
    st.plotly_chart(bar, key="services_chart")
    ui.legend(f)

    st.subheader(t("services_by_tier", lang))
    for tier in TIERS:
        tier_rows = rows[rows.service_tier == tier]
        if tier_rows.empty:
            continue
        st.markdown(f"**{label(tier, lang)}**")
        wide = pivot_text(tier_rows, ["service_code"], "measure")
        wide["service_code"] = wide.service_code.map(lambda c: label(c, lang))
        wide = wide.rename(
            columns={"service_code": t("service", lang)}
            | {m: t(m, lang) for m in ("survivors_served", "services_given")}
        )
        ui.table(
            wide,
            f"services_{tier}",
            f,
            data=export.tidy(
                tier_rows.rename(columns={"service_code": "category"}).assign(dimension="service"),
                f,
            ),
        )

st.subheader(t("referrals_title", lang))
referral_level, referral_code = f.geo_level, f.geo_code
if referral_level == "district":
    referral_level, referral_code = "province", f.province or "NP"
    st.caption(t("referrals_scope", lang) + f" {f.place_name('province', referral_code)}")
measure = st.radio(
    t("measure", lang),
    ["referrals", "referrals_confirmed"],
    horizontal=True,
    format_func=lambda m: t(m, lang),
    key="referral_measure",
)
referrals = ui.query("referrals", f.period_type, f.period, referral_level, referral_code, measure)
if referrals.empty:
    st.info(t("no_data", lang))
else:
    matrix = pivot_text(referrals, ["from_agency_type"], "to_agency_type")
    matrix["from_agency_type"] = matrix.from_agency_type.map(lambda c: label(c, lang))
    matrix = matrix.rename(
        columns={"from_agency_type": f"{t('from_agency', lang)} \\ {t('to_agency', lang)}"}
        | {c: label(c, lang) for c in matrix.columns if c != "from_agency_type"}
    )
    ui.table(
        matrix,
        f"referrals_{measure}",
        f,
        data=export.tidy(
            referrals.assign(
                dimension="referral",
                measure=measure,
                geo_level=referral_level,
                geo_code=referral_code,
                category=referrals.from_agency_type + ">" + referrals.to_agency_type,
            ),
            f,
        ),
    )
