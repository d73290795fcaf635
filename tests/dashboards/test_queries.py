"""Queries return published rows unchanged; derived numbers only from published values."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboards import queries
from dashboards.display import (
    HIDDEN,
    cell_text,
    download_frame,
    pivot_text,
    ratio_text,
    to_csv,
    value_table,
)
from dashboards.queries import Cell


def test_headline_returns_the_published_cells(public_con) -> None:
    cells = queries.headline(public_con, "year", "2024", "national", "NP")
    assert cells["survivors"] == Cell(1234, False)
    assert cells["records"] == Cell(1605, False)
    karnali = queries.headline(public_con, "year", "2024", "province", "6")
    assert karnali["returning_survivors"] == Cell(None, True)
    assert karnali["new_survivors"] == Cell(0, False)


def test_ratio_only_from_two_published_values() -> None:
    assert queries.safe_ratio(Cell(1605, False), Cell(1234, False)) == pytest.approx(1605 / 1234)
    assert queries.safe_ratio(Cell(None, True), Cell(37, False)) is None
    assert queries.safe_ratio(Cell(52, False), Cell(None, True)) is None
    assert queries.safe_ratio(Cell(0, False), Cell(0, False)) is None  # no division by zero


def test_rate_needs_a_published_count_and_a_population() -> None:
    assert queries.rate_per_100k(Cell(50, False), 200_000) == pytest.approx(25.0)
    assert queries.rate_per_100k(Cell(None, True), 200_000) is None
    assert queries.rate_per_100k(Cell(50, False), None) is None


def test_places_map_lists_every_place_with_rates_only_where_allowed(public_con) -> None:
    frame = queries.places_map(public_con, "year", "2024", "district", None)
    assert len(frame) == 77
    suppressed = frame[frame.is_suppressed]
    assert not suppressed.empty and suppressed.value.isna().all()
    assert suppressed.rate_per_100k.isna().all()
    sudurpashchim = frame[frame.geo_code.str.startswith("7")]
    assert sudurpashchim.rate_per_100k.isna().all()  # population unknown in the fixture
    # Local levels are published for two districts only: the others come back without rows.
    local = queries.places_map(public_con, "year", "2024", "local_level", "101")
    assert len(local) > 0 and not local.has_row.any()


def test_periods_are_newest_first(public_con) -> None:
    assert queries.periods(public_con, "bs_fiscal_year") == ["2081/82", "2080/81"]
    assert queries.periods(public_con, "month") == ["2024-12", "2024-11"]


def test_hidden_cells_show_one_symbol_never_the_threshold() -> None:
    assert cell_text(None, True) == HIDDEN == "✱"
    assert cell_text(0, False) == "0"
    assert cell_text(1234, False) == "1,234"
    assert cell_text(None, False) == "–"
    assert ratio_text(None) == HIDDEN
    assert ratio_text(0.0632, percent=True) == "6.3%"


def test_csv_has_the_table_shown_with_hidden_cells_empty_and_flagged() -> None:
    rows = pd.DataFrame(
        {
            "category": ["F", "M", "O", "X"],
            "value": [1987, 0, None, None],
            "is_suppressed": [False, False, True, False],
        }
    )
    shown = value_table(rows, {"category": "Category"})
    assert shown.to_dict("list") == {
        "Category": ["F", "M", "O", "X"],
        "Count": ["1,987", "0", HIDDEN, "–"],
    }
    csv_text = to_csv(shown).decode("utf-8-sig")
    assert csv_text.splitlines() == [
        "Category,Count,Count: hidden",
        "F,1987,False",
        "M,0,False",
        "O,,True",
        "X,,False",
    ]
    # Nothing hidden in this selection: the flag column is there all the same.
    published = value_table(rows.iloc[:2], {"category": "Category"})
    assert to_csv(published, " (लुकाइएको)").decode("utf-8-sig").splitlines()[0] == (
        "Category,Count,Count (लुकाइएको)"
    )


def test_pivot_spreads_without_adding() -> None:
    rows = pd.DataFrame(
        {
            "from": ["a", "a", "b"],
            "to": ["b", "c", "a"],
            "value": [7, None, 0],
            "is_suppressed": [False, True, False],
        }
    )
    wide = pivot_text(rows, ["from"], "to")
    assert wide.set_index("from").to_dict("index") == {
        "a": {"a": "–", "b": "7", "c": HIDDEN},
        "b": {"a": "0", "b": "–", "c": "–"},
    }
    assert download_frame(wide).to_dict("list") == {
        "from": ["a", "b"],
        "a": ["", "0"],
        "a: hidden": [False, False],
        "b": ["7", ""],
        "b: hidden": [False, False],
        "c": ["", ""],
        "c: hidden": [True, False],
    }
