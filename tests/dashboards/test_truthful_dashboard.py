"""Issue 19: the dashboard tells the truth at every level, in both languages (AppTest)."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboards import i18n
from dashboards.export import TIDY_COLUMNS
from dashboards.server import APP
from schemas import vocabularies
from tests.dashboards.fixtures import write_public_db


def _app() -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=90)
    app.run()
    assert not app.exception, app.exception
    return app


@pytest.fixture()
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    captured: dict[str, bytes] = {}
    original = st.download_button

    def spy(label: str, data: bytes, file_name: str, **kwargs: object) -> bool:
        captured[file_name] = data
        return original(label, data=data, file_name=file_name, **kwargs)

    monkeypatch.setattr(st, "download_button", spy)
    return captured


def test_default_period_is_the_last_complete_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Data ending mid-2024: the year 2024 is partial, so 2023 is the default.
    path = write_public_db(tmp_path / "public.duckdb", data_through=dt.date(2024, 6, 30))
    monkeypatch.setenv("PAHICHAN_PUBLIC_DB", str(path))
    app = _app()
    assert app.sidebar.selectbox(key="period").value == "2023"
    # The partial year is still there, marked, with a warning when chosen.
    assert "2024 (partial)" in app.sidebar.selectbox(key="period").options
    app.sidebar.selectbox(key="period").set_value("2024").run()
    assert any("not complete" in w.value for w in app.warning)


def test_partial_fiscal_year_is_not_the_default(app_env: Path) -> None:
    # Data to 2024-12-31: fiscal year 2081/82 (from 2024-07-16) is partial.
    app = _app()
    app.sidebar.selectbox(key="period_type").set_value("bs_fiscal_year").run()
    assert app.sidebar.selectbox(key="period").value == "2080/81"
    trend = app.dataframe[0].value
    assert "2081/82 (partial)" in set(trend["Period"])


def test_every_string_and_code_has_a_nepali_label() -> None:
    missing = [key for key, entry in i18n.STRINGS.items() if not entry.get("ne")]
    assert missing == []
    codes = [
        *vocabularies.SERVICES,
        *vocabularies.EXPLOITATION_TYPES,
        *vocabularies.SEXES,
        *vocabularies.AGENCY_TYPES,
        *vocabularies.SERVICE_TIERS,
        *i18n.CODE_LABELS,
    ]
    untranslated = [
        c for c in codes if i18n.label(c, "ne") in (c, i18n.label(c, "en")) and c not in ("ocmc",)
    ]
    assert untranslated == []


def _english_only_strings() -> set[str]:
    english = {e["en"] for e in i18n.STRINGS.values() if e.get("ne") != e["en"]}
    english |= {e["en"] for e in i18n.ALL_CODE_LABELS.values() if e.get("ne") != e["en"]}
    return {text for text in english if len(text) > 3}


def test_nepali_screens_show_no_english_label_and_no_raw_code(app_env: Path) -> None:
    app = _app()
    app.sidebar.radio(key="lang").set_value("ne").run()
    english = _english_only_strings()
    for page in ("app_pages/overview.py", "app_pages/services.py", "app_pages/where.py"):
        app.switch_page(page).run()
        assert not app.exception, app.exception
        shown = [w.label for w in app.selectbox] + [w.label for w in app.radio]
        shown += [w.placeholder for w in app.selectbox if w.placeholder]
        shown += [m.label for m in app.metric] + [h.value for h in app.header]
        shown += [c.value for c in app.caption] + [s.value for s in app.subheader]
        for widget in [*app.selectbox, *app.radio]:
            shown += [str(o) for o in widget.options]
        for frame in app.dataframe:
            shown += [str(c) for c in frame.value.columns]
            shown += [str(v) for v in frame.value.to_numpy().ravel()]
        leaks = sorted({text for text in shown if text in english})
        assert leaks == [], (page, leaks)
        raw = sorted({text for text in shown if text in vocabularies.SERVICES})
        assert raw == [], (page, raw)


def test_language_switch_keeps_every_selection(app_env: Path) -> None:
    app = _app()
    app.sidebar.selectbox(key="province").set_value("6").run()
    app.sidebar.selectbox(key="filter_sex").set_value("M").run()
    app.switch_page("app_pages/where.py").run()
    app.radio(key="map_colour_district").set_value("count").run()
    app.sidebar.radio(key="lang").set_value("ne").run()
    assert not app.exception, app.exception
    assert app.sidebar.selectbox(key="province").value == "6"
    assert app.sidebar.selectbox(key="filter_sex").value == "M"
    assert app.sidebar.selectbox(key="period").value == "2024"
    assert app.radio(key="map_level_6").value == "district"
    assert "कर्णाली प्रदेश" in app.header[0].value


def test_overview_heading_names_the_place_and_empty_charts_are_not_drawn(app_env: Path) -> None:
    app = _app()
    app.sidebar.selectbox(key="province").set_value("6").run()
    app.sidebar.selectbox(key="filter_sex").set_value("M").run()
    assert not app.exception, app.exception
    assert app.header[0].value == "Overview — Karnali Province"
    assert "National" not in app.header[0].value


def test_csv_is_tidy_data_with_a_header_and_a_filter_named_file(
    app_env: Path, downloads: dict[str, bytes]
) -> None:
    app = _app()
    downloads.clear()
    app.sidebar.selectbox(key="province").set_value("6").run()
    name = "pahichan_trend_year-2024_province-6-karnali-province.csv"
    assert name in downloads and name.replace(".csv", "_excel.csv") in downloads
    plain, excel = downloads[name], downloads[name.replace(".csv", "_excel.csv")]
    assert not plain.startswith(b"\xef\xbb\xbf") and excel.startswith(b"\xef\xbb\xbf")
    text = plain.decode("utf-8")
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert any("published_at_utc: 2025-01-05 06:30" in line for line in header)
    assert any("place: province 6 Karnali Province" in line for line in header)
    assert any("period: year 2024" in line for line in header)
    frame = pd.read_csv(io.StringIO(text), comment="#", keep_default_na=False, dtype=str)
    assert tuple(frame.columns) == TIDY_COLUMNS
    returning = frame[(frame.period == "2024") & (frame.measure == "returning_survivors")]
    assert returning[["value", "hidden"]].values.tolist() == [["", "True"]]  # pinned hidden
    survivors = frame[(frame.period == "2024") & (frame.measure == "survivors")]
    assert survivors.value.tolist() == ["37"]
    # Every value is a plain number or empty: summable.
    assert all(v == "" or v.isdigit() for v in frame.value)
