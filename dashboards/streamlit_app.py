"""The dashboard's frame: title, shared sidebar filters, language switch, navigation.

Run with `pahichan dashboard` (or `streamlit run dashboards/streamlit_app.py`). Reads only
the published `public.duckdb` named by `PAHICHAN_PUBLIC_DB`; every page sees the same
`Filters` through `dashboards.ui.filters()`.
"""

from __future__ import annotations

import streamlit as st

from dashboards import queries, ui
from dashboards.config import operations_db_path, public_db_path
from dashboards.i18n import LANGUAGES, label, t
from dashboards.periods import default_period, partial_periods
from dashboards.state import SESSION_KEY, Filters, demographic_selection

st.set_page_config(page_title="Pahichan", layout="wide")
ui.style()

# `?lang=ne` opens the dashboard in Nepali (a link to share; the switch still works).
if "lang" not in st.session_state and st.query_params.get("lang") in LANGUAGES:
    st.session_state["lang"] = st.query_params["lang"]
lang = st.sidebar.radio(
    "Language / भाषा", list(LANGUAGES), format_func=LANGUAGES.get, horizontal=True, key="lang"
)
ui.resend_choices_on_language_change(lang)
st.title(t("app_title", lang))

if not ui.public_db_ready():
    st.error(t("missing_db", lang, path=public_db_path()))
    st.stop()

publication = ui.query("publication")
places = ui.query("geography")


def _place_label(level: str):
    names = places[places.geo_level == level].set_index("geo_code")
    column = "name_ne" if lang == "ne" else "name_en"

    def fmt(code: str | None) -> str:
        if code is None:
            return t("all_places", lang)
        return str(names.at[code, column]) if code in names.index else code

    return fmt


sidebar = st.sidebar
sidebar.header(t("filters", lang))
provinces = places[places.geo_level == "province"].geo_code.tolist()
province = sidebar.selectbox(
    t("province", lang),
    [None, *provinces],
    format_func=_place_label("province"),
    key="province",
    placeholder=t("choose", lang),
)
districts = places[
    (places.geo_level == "district") & ((province is None) | (places.parent_code == province))
].geo_code.tolist()
district = sidebar.selectbox(
    t("district", lang),
    [None, *districts],
    format_func=_place_label("district"),
    key="district",
    placeholder=t("choose", lang),
)
if district is not None and province is None:
    # A district chosen first implies its province (keeps drill-down consistent).
    province = str(places.loc[places.geo_code == district, "parent_code"].iloc[0])

geo_level = "district" if district else "province" if province else "national"
# Only the period types published at the chosen place level are offered (published_grid).
period_type_options = ui.query("period_types", geo_level) or list(queries.PERIOD_TYPES)
if st.session_state.get("period_type") not in period_type_options:
    st.session_state.pop("period_type", None)  # e.g. months chosen, then a district
period_type = sidebar.selectbox(
    t("period_type", lang),
    period_type_options,
    # The default only for a first choice (a kept choice is valid here, see above).
    index=period_type_options.index("year")
    if "year" in period_type_options and "period_type" not in st.session_state
    else 0,
    format_func=lambda code: label(code, lang),
    key="period_type",
    placeholder=t("choose", lang),
)
if len(period_type_options) < len(queries.PERIOD_TYPES):
    sidebar.caption(t("period_types_here", lang))
period_options = ui.query("periods", period_type)
# The default is the newest *complete* period: the current one, with data ending part-way,
# would read as a collapse. Partial periods stay selectable, marked as such everywhere.
data_through = publication["data_through"]
partial = partial_periods(period_type, period_options, data_through)
if st.session_state.get("period") not in period_options:
    st.session_state.pop("period", None)
default = default_period(period_type, period_options, data_through)
period = (
    sidebar.selectbox(
        t("period", lang),
        period_options,
        key="period",
        index=period_options.index(default)
        if default in period_options and "period" not in st.session_state
        else 0,
        format_func=lambda p: f"{p} ({t('partial', lang)})" if p in partial else p,
        placeholder=t("choose", lang),
    )
    if period_options
    else None
)
if period in partial:
    sidebar.warning(t("partial_period_note", lang, through=str(data_through)[:10]))

chosen: dict[str, str | None] = {}
for dimension in queries.DEMOGRAPHIC_DIMENSIONS:
    categories = ui.query("categories", dimension)
    chosen[dimension] = sidebar.selectbox(
        label(dimension, lang),
        [None, *categories],
        key=f"filter_{dimension}",
        format_func=lambda code: t("any", lang) if code is None else label(code, lang),
        placeholder=t("choose", lang),
    )

demographics = demographic_selection(chosen)
breakdown_published = len(demographics) != 1 or ui.query(
    "breakdown_published", geo_level, period_type, next(iter(demographics))
)
st.session_state[SESSION_KEY] = Filters(
    lang=lang,
    period_type=period_type,
    period=period,
    province=province,
    district=district,
    demographics=demographics,
    breakdown_published=breakdown_published,
    threshold=int(publication["threshold"]),
    places=places,
    partial_periods=frozenset(partial),
    published_at=str(publication["published_at"])[:16],
    data_through=str(data_through)[:10],
)

# Material Symbols ship with Streamlit's own frontend: the icons render without any system
# emoji font (emoji icons showed as empty boxes on machines without one).
ICONS = {
    "overview": ":material/bar_chart:",
    "where": ":material/map:",
    "services": ":material/volunteer_activism:",
    "reintegration": ":material/eco:",
    "quality": ":material/fact_check:",
}
pages = [
    st.Page(
        "app_pages/overview.py",
        title=t("page_overview", lang),
        icon=ICONS["overview"],
        default=True,
    ),
    st.Page(
        "app_pages/where.py", title=t("page_where", lang), icon=ICONS["where"], url_path="where"
    ),
    st.Page(
        "app_pages/services.py",
        title=t("page_services", lang),
        icon=ICONS["services"],
        url_path="services",
    ),
    st.Page(
        "app_pages/reintegration.py",
        title=t("page_reintegration", lang),
        icon=ICONS["reintegration"],
        url_path="reintegration",
    ),
]
operations_db = operations_db_path()
if operations_db is not None and operations_db.is_file():
    # The data office's dashboard (`pahichan dashboard --operations`): its data-quality page
    # reads operations.duckdb, with batch ids, agencies, reasons and unsuppressed counts of
    # batches and rows (not people).
    pages.append(
        st.Page(
            "app_pages/operations.py",
            title=t("page_quality", lang),
            icon=ICONS["quality"],
            url_path="quality",
        )
    )
else:
    pages.append(
        st.Page(
            "app_pages/quality.py",
            title=t("page_quality", lang),
            icon=ICONS["quality"],
            url_path="quality",
        )
    )
st.navigation(pages).run()
