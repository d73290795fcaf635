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
from dashboards.state import SESSION_KEY, Filters, demographic_selection

st.set_page_config(page_title="Pahichan", layout="wide")

lang = st.sidebar.radio(
    "Language / भाषा", list(LANGUAGES), format_func=LANGUAGES.get, horizontal=True, key="lang"
)
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
    t("province", lang), [None, *provinces], format_func=_place_label("province"), key="province"
)
districts = places[
    (places.geo_level == "district") & ((province is None) | (places.parent_code == province))
].geo_code.tolist()
district = sidebar.selectbox(
    t("district", lang), [None, *districts], format_func=_place_label("district"), key="district"
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
    t("period_type", lang), period_type_options,
    index=period_type_options.index("year") if "year" in period_type_options else 0,
    format_func=lambda code: label(code, lang), key="period_type",
)
if len(period_type_options) < len(queries.PERIOD_TYPES):
    sidebar.caption(t("period_types_here", lang))
period_options = ui.query("periods", period_type)
period = (
    sidebar.selectbox(t("period", lang), period_options, key="period") if period_options else None
)

chosen: dict[str, str | None] = {}
for dimension in queries.DEMOGRAPHIC_DIMENSIONS:
    categories = ui.query("categories", dimension)
    chosen[dimension] = sidebar.selectbox(
        label(dimension, lang), [None, *categories], key=f"filter_{dimension}",
        format_func=lambda code: t("any", lang) if code is None else label(code, lang),
    )

demographics = demographic_selection(chosen)
breakdown_published = len(demographics) != 1 or ui.query(
    "breakdown_published", geo_level, period_type, next(iter(demographics)))
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
)

pages = [
    st.Page("app_pages/overview.py", title=t("page_overview", lang), icon="📊", default=True),
    st.Page("app_pages/where.py", title=t("page_where", lang), icon="🗺️", url_path="where"),
    st.Page(
        "app_pages/services.py", title=t("page_services", lang), icon="🤝", url_path="services"
    ),
    st.Page(
        "app_pages/reintegration.py", title=t("page_reintegration", lang), icon="🌱",
        url_path="reintegration",
    ),
    st.Page("app_pages/quality.py", title=t("page_quality", lang), icon="🧪", url_path="quality"),
]
operations_db = operations_db_path()
if operations_db is not None and operations_db.is_file():
    # Only in a dashboard started for the data office (`pahichan dashboard --operations`).
    pages.append(
        st.Page("app_pages/operations.py", title=t("page_operations", lang), icon="📥",
                url_path="operations")
    )  # fmt: skip
st.navigation(pages).run()
