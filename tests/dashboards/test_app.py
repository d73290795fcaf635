"""Every page renders with the fixture, shows the published figures, and never a 1-4 count."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dashboards.display import HIDDEN
from dashboards.server import APP
from tests.dashboards.scan import TEXT_ELEMENTS, small_counts

PAGES = (
    "app_pages/overview.py",
    "app_pages/where.py",
    "app_pages/services.py",
    "app_pages/reintegration.py",
    "app_pages/quality.py",
)


def _published(public_db: Path, sql: str, params: list) -> tuple:
    with duckdb.connect(str(public_db), read_only=True) as con:
        return con.execute(sql, params).fetchone()


def _cell(
    public_db: Path, period: str, level: str, code: str, dimension: str, category: str, measure: str
) -> str:
    value, suppressed = _published(
        public_db,
        "SELECT value, is_suppressed FROM survivor_statistics WHERE period_type = 'year' AND "
        "period = ? AND geo_level = ? AND geo_code = ? AND dimension = ? AND category = ? "
        "AND measure = ?",
        [period, level, code, dimension, category, measure],
    )
    return HIDDEN if suppressed else f"{value:,}"


def _app() -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=90)
    app.run()
    assert not app.exception, app.exception
    return app


def _metrics(app: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in app.metric}


def _rendered_text(app: AppTest) -> list[object]:
    texts: list[object] = []
    for kind in TEXT_ELEMENTS:
        texts += [element.value for element in getattr(app, kind)]
    texts += [m.value for m in app.metric]
    for frame in app.dataframe:
        texts += [str(v) for v in frame.value.to_numpy().ravel()]
        texts += [str(c) for c in frame.value.columns]
    return texts


def test_overview_shows_the_published_headline(app_env: Path) -> None:
    app = _app()
    metrics = _metrics(app)
    for label, measure in (
        ("Survivors identified", "survivors"),
        ("New this period", "new_survivors"),
        ("Returning after a gap", "returning_survivors"),
        ("Records received", "records"),
    ):
        assert metrics[label] == _cell(app_env, "2024", "national", "NP", "all", "all", measure)
    survivors, records, returning = (
        int(_cell(app_env, "2024", "national", "NP", "all", "all", m).replace(",", ""))
        for m in ("survivors", "records", "returning_survivors")
    )
    assert metrics["Records per survivor"] == f"{records / survivors:.2f}×"
    assert metrics["Share returning after a gap"] == f"{returning / survivors:.1%}"
    breakdown = next(
        df.value
        for df in app.dataframe
        if "Category" in df.value.columns and "Female" in set(df.value["Category"])
    )
    shown = dict(zip(breakdown["Category"], breakdown["Survivors identified"], strict=True))
    assert shown["Female"] == _cell(app_env, "2024", "national", "NP", "sex", "F", "survivors")
    assert shown["Other"] == HIDDEN  # suppressed in the fixture
    assert any(HIDDEN in c.value for c in app.caption)  # the legend


def test_suppressed_operand_hides_the_ratio(app_env: Path) -> None:
    app = _app()
    app.sidebar.selectbox(key="province").set_value("6").run()
    metrics = _metrics(app)
    assert metrics["Returning after a gap"] == HIDDEN
    assert metrics["Share returning after a gap"] == HIDDEN
    assert metrics["New this period"] == "0"
    assert metrics["Survivors identified"] == _cell(
        app_env, "2024", "province", "6", "all", "all", "survivors"
    )


def test_one_demographic_filter_selects_that_category(app_env: Path) -> None:
    app = _app()
    app.sidebar.selectbox(key="filter_sex").set_value("F").run()
    assert not app.exception
    assert _metrics(app)["Survivors identified"] == _cell(
        app_env, "2024", "national", "NP", "sex", "F", "survivors"
    )
    assert not app.warning


def test_two_demographic_filters_are_explained_not_computed(app_env: Path) -> None:
    app = _app()
    app.sidebar.selectbox(key="filter_sex").set_value("F")
    app.sidebar.selectbox(key="filter_age_band").set_value("18-24").run()
    assert any("not published" in w.value for w in app.warning)
    assert _metrics(app)["Survivors identified"] == _cell(
        app_env, "2024", "national", "NP", "all", "all", "survivors"
    )


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_small_counts(app_env: Path, page: str) -> None:
    app = _app()
    app.switch_page(page).run()
    assert not app.exception, app.exception
    assert app.header, f"{page} rendered no header"
    assert small_counts(_rendered_text(app)) == []


def test_where_page_lists_places_as_published(app_env: Path) -> None:
    app = _app()
    app.switch_page("app_pages/where.py").run()
    app.radio(key="map_level_NP").set_value("district").run()
    table = app.dataframe[0].value
    assert len(table) == 77  # districts of Nepal, published or not
    shown = dict(zip(table["Place"], table["Survivors identified"], strict=True))
    with duckdb.connect(str(app_env), read_only=True) as con:
        rows = con.execute(
            "SELECT g.name_en, s.value, s.is_suppressed FROM survivor_statistics s JOIN "
            "geography g USING (geo_level, geo_code) WHERE s.period_type = 'year' AND "
            "s.period = '2024' AND s.geo_level = 'district' AND s.dimension = 'all' "
            "AND s.measure = 'survivors'"
        ).fetchall()
    assert {name: (HIDDEN if sup else f"{value:,}") for name, value, sup in rows} == shown
    # Drill down: a district shows its local levels.
    app.sidebar.selectbox(key="province").set_value("3").run()
    app.sidebar.selectbox(key="district").set_value("303").run()
    assert not app.exception
    local = app.dataframe[0].value
    assert (
        len(local)
        == _published(app_env, "SELECT count(*) FROM geography WHERE parent_code = '303'", [])[0]
    )


def test_drill_down_goes_one_level_at_a_time(app_env: Path) -> None:
    """Issue 19: nation -> provinces -> a province's districts -> a district's local levels
    (choosing a province used to jump to the local-level map)."""
    app = _app()
    app.switch_page("app_pages/where.py").run()
    assert app.radio(key="map_level_NP").value == "province"
    assert len(app.dataframe[0].value) == 7
    app.sidebar.selectbox(key="province").set_value("3").run()
    assert not app.exception, app.exception
    assert app.radio(key="map_level_3").value == "district"
    districts = _published(
        app_env,
        "SELECT count(*) FROM geography WHERE geo_level = 'district' AND parent_code = '3'",
        [],
    )[0]
    assert len(app.dataframe[0].value) == districts == 13
    app.sidebar.selectbox(key="district").set_value("303").run()
    assert app.radio(key="map_level_303").value == "local_level"


def test_services_and_quality_pages_show_published_rows(app_env: Path) -> None:
    app = _app()
    app.switch_page("app_pages/services.py").run()
    immediate = app.dataframe[0].value
    value, suppressed = _published(
        app_env,
        "SELECT value, is_suppressed FROM service_statistics WHERE period_type = 'year' "
        "AND period = '2024' AND geo_level = 'national' AND service_code = 'shelter' "
        "AND measure = 'services_given'",
        [],
    )
    row = immediate[immediate["Service"] == "Shelter"].iloc[0]
    assert row["Services given"] == (HIDDEN if suppressed else f"{value:,}")
    app.switch_page("app_pages/quality.py").run()
    freshness = app.table[0].value
    assert freshness["Run"].tolist() == ["run-fixture"]
    assert freshness["Published at (UTC)"].tolist() == ["2025-01-05 06:30"]  # not cut off
    reasons = app.dataframe[-1].value
    assert dict(zip(reasons["Rule"], reasons["Rows"], strict=True))["unknown_district"] == HIDDEN


def test_language_switch_shows_nepali(app_env: Path) -> None:
    app = _app()
    app.sidebar.radio(key="lang").set_value("ne").run()
    assert not app.exception
    assert "पहिचान भएका प्रभावित" in _metrics(app)
    assert "नेपाल" in app.header[0].value
    app.sidebar.selectbox(key="province").set_value("3").run()
    assert "बागमती प्रदेश" in app.header[0].value


def _reintegration_cell(public_db: Path, score: str, measure: str) -> tuple:
    return _published(
        public_db,
        "SELECT value, is_suppressed FROM reintegration_statistics WHERE period_type = 'year' "
        "AND period = '2024' AND geo_level = 'national' AND dimension = 'all' "
        "AND score_dimension = ? AND measure = ?",
        [score, measure],
    )


def test_reintegration_page_shows_the_published_figures(app_env: Path) -> None:
    app = _app()
    app.switch_page("app_pages/reintegration.py").run()
    assert not app.exception, app.exception
    assert any("NOT IOM" in w.value and "provisional" in w.value for w in app.warning)
    metrics = _metrics(app)
    scored, _ = _reintegration_cell(app_env, "composite", "survivors_scored")
    mean, _ = _reintegration_cell(app_env, "composite", "mean_score_pct")
    assert metrics["Survivors scored"] == f"{scored:,}"
    assert metrics["Mean score (composite)"] == f"{mean}%"
    first, within_6m, within_12m = (
        _published(
            app_env,
            "SELECT value FROM followup_coverage WHERE period_type = 'year' "
            "AND period = '2024' AND geo_level = 'national' AND measure = ?",
            [m],
        )[0]
        for m in ("survivors_first_contact", "followed_within_6m", "followed_within_12m")
    )
    assert metrics["Followed up within six months"] == f"{within_6m / first:.1%}"
    assert metrics["Followed up within a year"] == f"{within_12m / first:.1%}"

    bands = next(df.value for df in app.dataframe if "Under 25" in df.value.columns)
    composite = bands[bands["Score"] == "Composite"].iloc[0]
    for band, header in (
        ("score_band_0_25", "Under 25"),
        ("score_band_50_75", "50 to under 75"),
        ("score_band_75_100", "75 to 100"),
    ):
        value, suppressed = _reintegration_cell(app_env, "composite", band)
        assert composite[header] == (HIDDEN if suppressed else f"{value:,}"), band
    assert composite["75 to 100"] == HIDDEN  # suppressed in the fixture
    assert list(bands["Score"]) == ["Composite", "Economic", "Social", "Psychosocial"]

    completion = next(df.value for df in app.dataframe if "Completion" in df.value.columns)
    by_pair = {(r["Referred from"], r["Referred to"]): r for _, r in completion.iterrows()}
    made, confirmed = (
        _published(
            app_env,
            "SELECT value FROM referral_statistics WHERE period_type = 'year' "
            "AND period = '2024' AND geo_level = 'national' AND from_agency_type = "
            "'shelter' AND to_agency_type = 'ocmc' AND measure = ?",
            [m],
        )[0]
        for m in ("referrals", "referrals_confirmed")
    )
    assert by_pair["Shelter", "OCMC"]["Completion"] == f"{confirmed / made:.1%}"
    # A suppressed operand: no ratio, and no count to work it out from.
    assert by_pair["Shelter", "Migration agency"]["Completion"] == HIDDEN
    assert by_pair["Shelter", "Migration agency"]["Referrals confirmed"] == HIDDEN
    assert any(HIDDEN in c.value for c in app.caption)  # the legend


def test_reintegration_page_in_nepali_and_for_a_district(app_env: Path) -> None:
    app = _app()
    app.sidebar.radio(key="lang").set_value("ne").run()
    app.switch_page("app_pages/reintegration.py").run()
    assert not app.exception, app.exception
    assert "पुनर्एकीकरण" in app.header[0].value
    assert any("IOM" in w.value for w in app.warning)
    assert "अङ्क पाएका प्रभावित" in _metrics(app)
    app.sidebar.selectbox(key="province").set_value("3").run()
    app.sidebar.selectbox(key="district").set_value("301").run()
    assert not app.exception, app.exception
    value, suppressed = _published(
        app_env,
        "SELECT value, is_suppressed FROM reintegration_statistics WHERE "
        "period_type = 'year' AND period = '2024' AND geo_level = 'district' AND geo_code = "
        "'301' AND dimension = 'all' AND score_dimension = 'composite' AND measure = "
        "'survivors_scored'",
        [],
    )
    assert _metrics(app)["अङ्क पाएका प्रभावित"] == (HIDDEN if suppressed else f"{value:,}")
    assert small_counts(_rendered_text(app)) == []


def test_period_types_follow_the_published_grid(app_env: Path) -> None:
    """A district offers only the period types published for districts, and a month chosen
    nationally falls back to the year when a district is picked (never an empty page)."""
    app = _app()
    national = app.sidebar.selectbox(key="period_type").options
    assert "Month" in national and "Year" in national
    app.sidebar.selectbox(key="period_type").set_value("month").run()
    app.sidebar.selectbox(key="province").set_value("3").run()
    app.sidebar.selectbox(key="district").set_value("301").run()
    assert not app.exception, app.exception
    period_type = app.sidebar.selectbox(key="period_type")
    assert period_type.options == ["Year", "Fiscal year (from Shrawan)"]
    assert period_type.value == "year"
    assert any("year and fiscal year" in c.value for c in app.sidebar.caption)


def test_a_breakdown_not_published_here_falls_back_to_all_survivors(app_env: Path) -> None:
    """Sex is published per province and year, not per district: the district headline is
    the all-survivors cell, with a warning saying why."""
    app = _app()
    app.sidebar.selectbox(key="filter_sex").set_value("F").run()
    app.sidebar.selectbox(key="province").set_value("3").run()
    app.sidebar.selectbox(key="district").set_value("301").run()
    assert not app.exception, app.exception
    assert any("nation and the provinces" in w.value for w in app.warning)
    expected = _cell(app_env, "2024", "district", "301", "all", "all", "survivors")
    assert _metrics(app)["Survivors identified"] == expected


def test_the_map_offers_only_levels_published_for_the_period_type(app_env: Path) -> None:
    app = _app()
    app.sidebar.selectbox(key="period_type").set_value("month").run()
    app.switch_page("app_pages/where.py").run()
    assert not app.exception, app.exception
    assert app.radio(key="map_level_NP").options == ["Province"]
