"""Where: choropleth maps of provinces, districts and local levels, drilling down from the
sidebar's province -> district selection.

Reads `survivor_statistics` (one place level at a time) and `geography` (names,
populations). Hidden, zero and nothing published are three styles of their own on the map
(slate blue with "✱", pale yellow "0", light grey) and three texts in the table; rates per
100,000 exist only where the count was published and the population is known, and the rate
option is offered only at levels with census populations (`dashboards.population`).
The drill-down goes one level at a time: nation -> provinces, a province -> its districts,
a district -> its local levels. Boundaries are the vendored
files in `dashboards/geo/` (no tile basemap: that would need the internet).
"""

from __future__ import annotations

import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from dashboards import export, geo, ui
from dashboards.display import HIDDEN, cell_text, mark_hideable, rate_text
from dashboards.i18n import t
from dashboards.population import levels_with_population
from dashboards.queries import HEADLINE_MEASURES

# Counts from pale salmon (zero, visibly a value) to dark red; hidden places slate blue, a
# hue the count scale never takes; nothing published light grey.
COUNT_SCALE = px.colors.sequential.Reds[2:]
HIDDEN_FILL = "#5f7396"
ZERO_FILL = "#fff3b0"  # pale yellow: a published zero, not a shade of the count scale
ABSENT_FILL = "#e6e6e6"
TOPOJSON_URL = "/app/static/"  # dashboards/static/world_110m.json (server.enableStaticServing)

f = ui.filters()
lang = f.lang
st.header(f"{t('page_where', lang)} — {f.place_name()}")
if f.period is None:
    st.info(t("no_data", lang))
    st.stop()
dimension, category = ui.breakdown(f)

# Which level to map under which parent: the drill-down follows the sidebar.
if f.district:
    level_options, parent = ["local_level"], f.district
elif f.province:
    level_options, parent = ["district", "local_level"], f.province
else:
    level_options, parent = ["province", "district", "local_level"], None
# Map only the levels that publish this period type (districts: years and fiscal years).
level_options = [
    level for level in level_options if f.period_type in ui.query("period_types", level)
] or level_options
left, middle, right = st.columns(3)
# The level right below the selection first (nation -> provinces -> districts -> local
# levels); the key follows the selection so that a new province starts at its districts.
map_level = left.radio(
    t("map_level", lang),
    level_options,
    format_func=lambda v: t(v, lang),
    horizontal=True,
    key=f"map_level_{parent or 'NP'}",
    index=0,
)
measure = middle.selectbox(
    t("measure", lang), HEADLINE_MEASURES, format_func=lambda m: t(m, lang), key="map_measure"
)
# Rates only where census populations are shipped; elsewhere the option is not offered.
colour_options = ["count"]
if map_level in levels_with_population(f.places):
    colour_options.append("rate")
colour = right.radio(
    t("map_colour", lang),
    colour_options,
    horizontal=True,
    key=f"map_colour_{map_level}",
    format_func=lambda v: t("map_counts" if v == "count" else "map_rates", lang),
)
if len(colour_options) == 1:
    right.caption(t("rate_not_here", lang))
ui.showing(f, t(measure, lang))

frame = ui.query(
    "places_map",
    f.period_type,
    f.period,
    map_level,
    parent if map_level != "local_level" or parent is None or len(parent) == 3 else None,
    dimension,
    category,
    measure,
)
if map_level == "local_level" and parent is not None and len(parent) == 1:
    # Local levels of a whole province: their parents are the province's districts.
    districts = f.places[(f.places.geo_level == "district") & (f.places.parent_code == parent)]
    frame = frame[frame.geo_code.str[:3].isin(set(districts.geo_code))]
name_column = "name_ne" if lang == "ne" else "name_en"
frame = frame.assign(
    place=frame[name_column].fillna(frame["name_en"]),
    shown=[
        cell_text(v, s, missing=t("not_published", lang))
        for v, s in zip(frame.value, frame.is_suppressed, strict=True)
    ],
    # A hidden count has a hidden rate (the rate and the population would give the count).
    rate=[
        HIDDEN if s else rate_text(r)
        for r, s in zip(frame.rate_per_100k, frame.is_suppressed, strict=True)
    ],
)
boundaries = geo.subset(geo.load_boundaries(map_level), set(frame.geo_code))

colour_column = "value" if colour == "count" else "rate_per_100k"
is_zero = frame.has_row & ~frame.is_suppressed & (frame.value == 0)
published = frame[~frame.is_suppressed & frame.has_row & ~is_zero]
published = published[published[colour_column].notna()]
figure = px.choropleth(
    published,
    geojson=boundaries,
    locations="geo_code",
    featureidkey="properties.code",
    color=colour_column,
    hover_name="place",
    hover_data={"shown": True, "rate": True, "geo_code": False, colour_column: False},
    color_continuous_scale=COUNT_SCALE,
    labels={
        "value": t("value", lang),
        "rate_per_100k": t("rate", lang),
        "shown": t("value", lang),
        "rate": t("rate", lang),
    },
)
# Hidden places, zeros and places with nothing published each have a fill and a legend
# entry of their own: never coloured as if they had a value, never confused with each other.
for mask, fill, name in (
    (frame.is_suppressed, HIDDEN_FILL, f"{HIDDEN} {t('hidden', lang)}"),
    (is_zero.fillna(False), ZERO_FILL, f"0 — {t('zero', lang)}"),
    (
        ~frame.is_suppressed
        & ~is_zero.fillna(False)
        & (~frame.has_row | frame[colour_column].isna()),
        ABSENT_FILL,
        f"{t('not_published', lang)}" if colour == "count" else t("no_rate", lang),
    ),
):
    rest = frame[mask & ~frame.geo_code.isin(published.geo_code)]
    if not rest.empty:
        figure.add_trace(
            go.Choropleth(
                geojson=boundaries,
                locations=rest.geo_code,
                featureidkey="properties.code",
                z=[0] * len(rest),
                colorscale=[[0, fill], [1, fill]],
                showscale=False,
                text=rest.place + ": " + rest.shown,
                hoverinfo="text",
                name=name,
                showlegend=True,
            )
        )
figure.update_geos(fitbounds="locations", visible=False)
figure.update_layout(
    margin={"l": 0, "r": 0, "t": 0, "b": 0},
    height=520,
    legend={"orientation": "h", "y": 0, "yanchor": "top"},
)
# Plotly fetches a world base map (topojson) for every geo chart, even with the base map
# hidden; point it at the empty one served locally so nothing contacts the internet.
st.plotly_chart(figure, key="map_chart", config={"topojsonURL": TOPOJSON_URL})
st.caption(t("map_note", lang) + " " + t("drill_hint", lang))
ui.legend(f)

shown_table = frame[["place", "shown", "rate"]].rename(
    columns={
        "place": t("place", lang),
        "shown": t(measure, lang),
        "rate": t("rate", lang),
    }
)
if "rate" not in colour_options:
    shown_table = shown_table.drop(columns=t("rate", lang))
data = export.tidy(
    frame.assign(geo_level=map_level, measure=measure)
    .astype({"value": "Float64"})
    .drop(columns=["place"]),
    f,
)
ui.table(
    mark_hideable(
        shown_table, [c for c in (t(measure, lang), t("rate", lang)) if c in shown_table.columns]
    ),
    f"places_{map_level}_{measure}",
    f,
    data=data,
)
