"""Every hidden cell is one symbol with a legend, never the threshold (issue 14, part D).

A cell hidden to protect survivors may hold 2 people or 33 (hidden so that it cannot be
worked out from other cells): writing "<5" gives officials a false number and tells everyone
which hidden cells are the small ones. These tests scan everything a page emits: text,
metrics, tables, chart specs (hover text included) and the CSV downloads.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboards.server import APP
from tests.dashboards.scan import TEXT_ELEMENTS, threshold_marks

# Spelled out here rather than imported, so the tests also run against a dashboard without it.
HIDDEN = "✱"
LEGEND = {"en": "not shown to protect survivors", "ne": "प्रभावितको सुरक्षाका लागि देखाइएको छैन"}
PAGES = (
    "app_pages/overview.py",
    "app_pages/where.py",
    "app_pages/services.py",
    "app_pages/reintegration.py",
    "app_pages/quality.py",
)


@pytest.fixture()
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """CSV text of every download button a run offers, by file name (a spy on the button)."""
    captured: dict[str, str] = {}
    original = st.download_button

    def spy(label: str, data: bytes, file_name: str, **kwargs: object) -> bool:
        captured[file_name] = data.decode("utf-8-sig")
        return original(label, data=data, file_name=file_name, **kwargs)

    monkeypatch.setattr(st, "download_button", spy)
    return captured


def _run(page: str, lang: str = "en", province: str | None = None) -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=90)
    app.run()
    if lang != "en":
        app.sidebar.radio(key="lang").set_value(lang).run()
    if province:
        app.sidebar.selectbox(key="province").set_value(province).run()
    app.switch_page(page).run()
    assert not app.exception, app.exception
    return app


def _everything_shown(app: AppTest) -> list[str]:
    """Text, metric values and help, table cells and headers, and chart specs (hover text)."""
    texts: list[str] = []
    for kind in TEXT_ELEMENTS:
        texts += [str(element.value) for element in getattr(app, kind)]
    for metric in app.metric:
        texts += [metric.label, str(metric.value), str(metric.proto.help)]
    for frame in app.dataframe:
        texts += [str(v) for v in frame.value.to_numpy().ravel()]
        texts += [str(c) for c in frame.value.columns]
    for chart in app.get("plotly_chart"):
        # The spec escapes "<" as \u003c: decode it so a hover "<5" cannot slip through.
        texts.append(json.dumps(json.loads(chart.proto.spec), ensure_ascii=False))
    return texts


@pytest.mark.parametrize("page", PAGES)
def test_no_page_writes_the_threshold_and_every_page_has_the_legend(
    app_env: Path, page: str, downloads: dict[str, str]
) -> None:
    app = _run(page)
    shown = _everything_shown(app) + list(downloads.values())
    assert threshold_marks(shown) == []
    assert any(LEGEND["en"] in c.value and HIDDEN in c.value for c in app.caption)


@pytest.mark.parametrize("page", ("app_pages/overview.py", "app_pages/where.py"))
def test_nepali_pages_have_the_legend_and_no_threshold(
    app_env: Path, page: str, downloads: dict[str, str]
) -> None:
    app = _run(page, lang="ne", province="6")
    assert threshold_marks(_everything_shown(app) + list(downloads.values())) == []
    assert any(LEGEND["ne"] in c.value and HIDDEN in c.value for c in app.caption)


def test_every_hidden_cell_shows_the_same_symbol(app_env: Path) -> None:
    # Karnali 2024: survivors published, returning hidden, new survivors 0.
    app = _run("app_pages/overview.py", province="6")
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["Returning after a gap"] == HIDDEN
    assert metrics["Share returning after a gap"] == HIDDEN  # hidden operand: no ratio
    assert metrics["New this period"] == "0"  # zero stays a number, distinct from hidden
    for frame in app.dataframe:
        cells = {str(v) for v in frame.value.to_numpy().ravel()}
        assert "suppressed" not in cells and not any(c.startswith("<") for c in cells)


def test_csv_download_has_an_empty_value_and_a_hidden_flag(
    app_env: Path, downloads: dict[str, str]
) -> None:
    # Tidy since issue 19: one row per figure, `value` empty and `hidden` true when hidden.
    _run("app_pages/overview.py")
    name = "pahichan_breakdown-sex_year-2024_national-np.csv"
    frame = pd.read_csv(io.StringIO(downloads[name]), comment="#", dtype=str, keep_default_na=False)
    rows = frame.set_index("category_label")
    assert rows.loc["Other", ["value", "hidden"]].tolist() == ["", "True"]  # hidden
    assert rows.loc["Female", ["value", "hidden"]].tolist() == ["987", "False"]
    for text in downloads.values():
        assert HIDDEN not in text and "<" not in text


def _legend_fills(app: AppTest) -> tuple[dict[str, tuple[int, ...]], set[tuple[int, ...]]]:
    """Legend name -> fill of the map's special traces, and the colours of the count scale."""
    spec = json.loads(app.get("plotly_chart")[0].proto.spec)
    fills = {
        tr["name"]: _rgb(tr["colorscale"][0][1]) for tr in spec["data"] if tr.get("showlegend")
    }
    scale = {_rgb(colour) for _, colour in spec["layout"]["coloraxis"]["colorscale"]}
    hidden = [tr for tr in spec["data"] if tr.get("name") == f"{HIDDEN} {LEGEND['en']}"]
    assert all(HIDDEN in text for tr in hidden for text in tr["text"])
    return fills, scale


def test_map_draws_hidden_zero_and_nothing_published_in_three_styles(app_env: Path) -> None:
    """Issue 19: hidden, zero and no data are three legend entries with three fills, none of
    them a colour of the count scale (zero used to be the scale's palest end)."""
    app = _run("app_pages/where.py")
    app.radio(key="map_level_NP").set_value("district").run()
    assert not app.exception, app.exception
    fills, scale = _legend_fills(app)
    hidden, zero = f"{HIDDEN} {LEGEND['en']}", "0 — zero"
    assert hidden in fills and zero in fills
    # Nothing is published for the local levels of district 101 in the fixture.
    app.sidebar.selectbox(key="province").set_value("1").run()
    app.sidebar.selectbox(key="district").set_value("101").run()
    assert not app.exception, app.exception
    absent, _ = _legend_fills(app)
    assert list(absent) == ["not published"]
    styles = {fills[hidden], fills[zero], absent["not published"]}
    assert len(styles) == 3 and not styles & scale


def test_rates_are_offered_only_where_populations_are_shipped(app_env: Path) -> None:
    app = _run("app_pages/where.py")
    assert app.radio(key="map_colour_province").options == ["Count", "Rate per 100,000"]
    app.radio(key="map_colour_province").set_value("rate").run()
    assert not app.exception, app.exception
    rates = app.dataframe[0].value["Per 100,000 people"].tolist()
    assert any(r not in ("–", HIDDEN) for r in rates)
    app.radio(key="map_level_NP").set_value("district").run()
    assert app.radio(key="map_colour_district").options == ["Count"]
    assert "Per 100,000 people" not in app.dataframe[0].value.columns


def _rgb(colour: str) -> tuple[int, ...]:
    """'#5f7396' or 'rgb(95,115,150)' -> (95, 115, 150)."""
    if colour.startswith("#"):
        return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return tuple(int(part) for part in colour[colour.index("(") + 1 : -1].split(","))


def test_a_hidden_bar_is_labelled_not_left_to_look_like_zero(app_env: Path) -> None:
    app = _run("app_pages/overview.py")
    specs = [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]
    labels = {
        str(y)
        for spec in specs
        for trace in spec["data"]
        if trace.get("type") == "bar"
        for y in trace.get("y", [])
    }
    assert f"Other {HIDDEN}" in labels  # sex O is hidden in the fixture
    assert "Female" in labels and f"Female {HIDDEN}" not in labels
