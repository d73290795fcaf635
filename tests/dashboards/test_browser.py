"""A real browser against a real server: overview, map and reintegration render, a filter works.

Debian's Chromium (never a downloaded browser) driven by Playwright; the Streamlit server is
started here on a free 127.0.0.1 port in its own process session and stopped by PID.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from dashboards import server
from tests.dashboards.fixtures import write_public_db
from tests.dashboards.scan import small_counts, threshold_marks

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TIMEOUT_MS = 60_000
# A page has finished rendering once one of these shows (the quality page has no metric).
READY = '[data-testid="stMetric"], .js-plotly-plot, [data-testid="stTable"]'

pytestmark = pytest.mark.browser


@pytest.fixture()
def dashboard_url(public_db: Path, tmp_path: Path) -> Iterator[str]:
    port = server.free_port()
    process = server.start(public_db, port, log_file=tmp_path / "streamlit.log")
    try:
        server.wait_until_healthy(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop(process)


@pytest.fixture()
def browser():
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium "
            "(apt-get install -y chromium, or `make browser-deps`)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield instance
        instance.close()


def _page_text(page) -> str:
    """Visible text of the app outside charts (axis ticks are scales, not counts)."""
    return page.evaluate(
        """() => {
            const root = document.querySelector('[data-testid="stAppViewContainer"]');
            const copy = root.cloneNode(true);
            copy.querySelectorAll('.js-plotly-plot, [data-testid="stPlotlyChart"]')
                .forEach(e => e.remove());
            document.body.appendChild(copy);
            copy.style.position = 'absolute'; copy.style.left = '-99999px';
            const text = copy.innerText; copy.remove(); return text;
        }"""
    )


def _chart_text(page) -> str:
    """Every chart's data and layout as JSON: hover text lives there, not in the page text."""
    return page.evaluate(
        """() => JSON.stringify(Array.from(document.querySelectorAll('.js-plotly-plot'))
            .map(g => ({data: g.data, layout: g.layout})))"""
    )


def _open(page, url: str) -> None:
    # The first loads after a start can come out unfinished: load, wait, reload once.
    for _ in range(2):
        page.goto(url, wait_until="domcontentloaded")
        try:
            page.wait_for_selector(READY, timeout=TIMEOUT_MS)
            return
        except Exception:
            continue
    page.wait_for_selector(READY, timeout=TIMEOUT_MS)


def test_pages_render_in_chromium(dashboard_url: str, browser, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    _open(page, dashboard_url)
    page.get_by_text("Survivors identified").first.wait_for(timeout=TIMEOUT_MS)
    page.wait_for_selector('[data-testid="stMetricValue"]:has-text("1,234")', timeout=TIMEOUT_MS)
    page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)
    assert small_counts([_page_text(page)]) == []

    _open(page, f"{dashboard_url}/where")
    page.wait_for_selector(".js-plotly-plot .choroplethlocation", timeout=TIMEOUT_MS)
    # The nation's map shows its provinces first (issue 19: one level at a time).
    page.wait_for_function(
        "document.querySelectorAll('.js-plotly-plot path.choroplethlocation').length >= 7",
        timeout=TIMEOUT_MS,
    )
    shapes = page.locator(".js-plotly-plot path.choroplethlocation").count()
    assert shapes == 7, f"expected 7 province shapes, found {shapes}"
    page.screenshot(path=str(tmp_path / "map_provinces.png"), full_page=True)
    assert small_counts([_page_text(page)]) == []

    # Change a filter: the province drill-down leaves only that province's districts.
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(
        has_text="Province"
    ).first.click()
    page.get_by_role("option", name="Bagmati Province").click()
    page.wait_for_function(
        "document.querySelectorAll('.js-plotly-plot path.choroplethlocation').length === 13",
        timeout=TIMEOUT_MS,
    )
    page.wait_for_selector("h2:has-text('Bagmati Province')", timeout=TIMEOUT_MS)
    page.screenshot(path=str(tmp_path / "map_bagmati.png"), full_page=True)
    assert small_counts([_page_text(page)]) == []

    # Reintegration: the provisional-score note, the pinned national figures, no small count.
    _open(page, f"{dashboard_url}/reintegration")
    page.wait_for_selector('[data-testid="stMetricValue"]:has-text("310")', timeout=TIMEOUT_MS)
    page.get_by_text("NOT IOM", exact=False).first.wait_for(timeout=TIMEOUT_MS)
    page.wait_for_selector('[data-testid="stMetricValue"]:has-text("58%")', timeout=TIMEOUT_MS)
    page.wait_for_selector(".js-plotly-plot", timeout=TIMEOUT_MS)
    page.screenshot(path=str(tmp_path / "reintegration.png"), full_page=True)
    assert small_counts([_page_text(page)]) == []
    keep = Path("/tmp/dashboard-screenshots")
    keep.mkdir(exist_ok=True)
    for png in tmp_path.glob("*.png"):
        shutil.copy(png, keep / png.name)


HIDDEN_LEGEND = "not shown to protect survivors"


def test_hidden_cells_show_one_symbol_and_a_legend_in_chromium(dashboard_url: str, browser) -> None:
    """Issue 14 part D: the legend is visible and no threshold ("<5") is written on the
    overview (with a hidden headline cell: Karnali) or the map, hover text included."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    _open(page, dashboard_url)
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(
        has_text="Province"
    ).first.click()
    page.get_by_role("option", name="Karnali Province").click()
    page.wait_for_selector("h2:has-text('Karnali Province')", timeout=TIMEOUT_MS)
    page.wait_for_selector('[data-testid="stMetricValue"]:has-text("37")', timeout=TIMEOUT_MS)
    legend = page.get_by_text(HIDDEN_LEGEND, exact=False).first
    legend.wait_for(state="visible", timeout=TIMEOUT_MS)
    assert "✱" in legend.inner_text()
    assert page.locator('[data-testid="stMetricValue"]:has-text("✱")').count() >= 1
    assert threshold_marks([_page_text(page), _chart_text(page)]) == []

    # The map of Karnali's districts: hidden places have their own style and hover text.
    page.get_by_role("link", name="Where").first.click()
    page.wait_for_selector(".js-plotly-plot .choroplethlocation", timeout=TIMEOUT_MS)
    page.get_by_text(HIDDEN_LEGEND, exact=False).first.wait_for(state="visible", timeout=TIMEOUT_MS)
    assert threshold_marks([_page_text(page), _chart_text(page)]) == []


# --- issue 19: a real browser at 1280 px and 390 px, in both languages -----------------------
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"  # git-ignored, kept by CI
PAGES19 = ("", "/where", "/services", "/reintegration", "/quality")


@contextmanager
def _serve(public_db: Path, log_file: Path) -> Iterator[str]:
    port = server.free_port()
    process = server.start(public_db, port, log_file=log_file)
    try:
        server.wait_until_healthy(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop(process)


@pytest.fixture()
def partial_year_url(tmp_path: Path) -> Iterator[str]:
    """A publication whose data end mid-2024: the year 2024 is partial."""
    public_db = write_public_db(tmp_path / "public.duckdb", data_through=dt.date(2024, 6, 30))
    with _serve(public_db, tmp_path / "streamlit.log") as url:
        yield url


def _select(page, label: str, option: str) -> None:
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(
        has_text=label
    ).first.click()
    page.get_by_role("option", name=option, exact=True).click()


def _chosen(page, label: str) -> str:
    """The value a sidebar select box shows (Streamlit renders it in a combobox input)."""
    return (
        page.locator('[data-testid="stSidebar"]')
        .get_by_role("combobox", name=label, exact=True)
        .input_value()
    )


def _idle(page) -> None:
    """Wait until the script run has finished (Streamlit's running indicator is gone)."""
    page.wait_for_function(
        "!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=TIMEOUT_MS
    )


def test_default_period_is_the_last_complete_one_in_chromium(
    partial_year_url: str, browser
) -> None:
    """Data end on 2024-06-30: the default is 2023, and 2024 is offered marked partial."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _open(page, partial_year_url)
    page.wait_for_function(
        """() => document.querySelector('[data-testid="stSidebar"] input[aria-label="Period"]')
            ?.value === '2023'""",
        timeout=TIMEOUT_MS,
    )
    assert _chosen(page, "Period") == "2023"
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(
        has_text="Period"
    ).last.click()
    options = page.get_by_role("option").all_inner_texts()
    assert "2024 (partial)" in options and "2023" in options
    page.get_by_role("option", name="2024 (partial)", exact=True).click()
    page.get_by_text("not complete", exact=False).first.wait_for(timeout=TIMEOUT_MS)


def test_drill_down_legend_and_language_in_chromium(dashboard_url: str, browser) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _open(page, dashboard_url)
    # No truncated metric label at 1280 px: every label fits its box.
    page.wait_for_selector('[data-testid="stMetricLabel"]', timeout=TIMEOUT_MS)
    cut = page.evaluate(
        """() => Array.from(document.querySelectorAll('[data-testid="stMetricLabel"] p'))
            .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.innerText)"""
    )
    assert cut == []
    # Icons: Material Symbols from Streamlit's bundle, not emoji that need a system font.
    icons = page.locator('[data-testid="stSidebarNav"] [data-testid="stIconMaterial"]').count()
    assert icons >= 5

    # Drill-down: provinces first, then a province's districts.
    _open(page, f"{dashboard_url}/where")
    page.wait_for_function(
        "document.querySelectorAll('.js-plotly-plot path.choroplethlocation').length === 7",
        timeout=TIMEOUT_MS,
    )
    _select(page, "Province", "Bagmati Province")
    page.wait_for_function(
        "document.querySelectorAll('.js-plotly-plot path.choroplethlocation').length === 13",
        timeout=TIMEOUT_MS,
    )
    # Legend: hidden, zero and not published are distinct entries with distinct fills.
    legend = page.evaluate(
        """() => Array.from(document.querySelectorAll('.js-plotly-plot')).flatMap(
            g => g.data.filter(t => t.showlegend).map(t => [t.name, t.colorscale[0][1]]))"""
    )
    names = dict(legend)
    assert any(name.startswith("✱") for name in names)
    assert len(set(names.values())) == len(names)

    # Language switch keeps the province and the map level.
    page.get_by_text("नेपाली").first.click()
    page.wait_for_selector("h2:has-text('बागमती प्रदेश')", timeout=TIMEOUT_MS)
    page.wait_for_function(
        "document.querySelectorAll('.js-plotly-plot path.choroplethlocation').length === 13",
        timeout=TIMEOUT_MS,
    )
    _idle(page)
    checked = page.locator('[data-testid="stRadio"] input:checked').count()
    radios = page.locator('[data-testid="stRadio"]').count()
    assert checked == radios  # every radio group still has its selection
    # Every select box shows its kept choice in Nepali (not the English text it had).
    shown = page.evaluate(
        """() => Array.from(document.querySelectorAll(
            '[data-testid="stSidebar"] input[role="combobox"]')).map(e => e.value)"""
    )
    assert shown and shown[0] == "बागमती प्रदेश", shown
    assert [value for value in shown if re.search("[A-Za-z]", value)] == [], shown
    assert "Choose an option" not in _page_text(page)


def test_screenshot_every_page(dashboard_url: str, browser) -> None:
    """Every page in both languages at 1280 px and 390 px, in one browser session: saved
    under tests/artifacts/, no traceback, no untranslated placeholder, no sideways scroll."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    for lang in ("en", "ne"):
        for path in PAGES19:
            name = path.strip("/") or "overview"
            page.set_viewport_size({"width": 1280, "height": 900})
            _open(page, f"{dashboard_url}{path}?lang={lang}")
            if lang == "ne":
                page.wait_for_selector("h1:has-text('पहिचान')", timeout=TIMEOUT_MS)
            _idle(page)
            for width in (1280, 390):
                page.set_viewport_size({"width": width, "height": 900})
                page.wait_for_timeout(300)  # let the layout settle at the new width
                page.screenshot(path=str(ARTIFACTS / f"{name}_{lang}_{width}.png"), full_page=True)
                text = _page_text(page)
                assert "Traceback" not in text and "Choose an option" not in text, name
                # Nothing wider than the screen (no sideways scrolling on a phone).
                overflow = page.evaluate(
                    "document.querySelector('[data-testid=\"stMain\"]').scrollWidth"
                    " - window.innerWidth"
                )
                assert overflow <= 1, f"{name} ({lang}) overflows by {overflow} px at {width} px"
