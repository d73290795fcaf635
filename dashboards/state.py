"""The shared sidebar selection, as a plain object the pages read.

The frame (`streamlit_app.py`) builds a `Filters` each run and stores it in the session;
pages call `current()` and never read widgets of another page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from dashboards.queries import DEMOGRAPHIC_DIMENSIONS

SESSION_KEY = "pahichan_filters"


@dataclass(frozen=True)
class Filters:
    """What the sidebar selected. `geo_level`/`geo_code` is the place the figures are for."""

    lang: str
    period_type: str
    period: str | None
    province: str | None
    district: str | None
    demographics: dict[str, str] = field(default_factory=dict)
    threshold: int = 5
    places: pd.DataFrame | None = None  # the `geography` table
    # False when the one chosen group is not published at this place level and period type
    # (e.g. by sex per district, or per month): figures then fall back to all survivors.
    breakdown_published: bool = True
    # Periods of `period_type` the data do not cover to their end (dashboards.periods).
    partial_periods: frozenset[str] = frozenset()
    published_at: str = ""  # publication time (UTC), for downloads
    data_through: str = ""  # latest contact date in the data

    @property
    def period_is_partial(self) -> bool:
        return self.period in self.partial_periods

    def period_label(self, period: str | None = None) -> str:
        """A period label, with the partial mark when the data stop before its end."""
        from dashboards.i18n import t

        period = self.period if period is None else period
        return (
            f"{period} ({t('partial', self.lang)})"
            if period in self.partial_periods
            else str(period)
        )

    @property
    def geo_level(self) -> str:
        if self.district:
            return "district"
        return "province" if self.province else "national"

    @property
    def geo_code(self) -> str:
        return self.district or self.province or "NP"

    @property
    def too_many_demographics(self) -> bool:
        """Two or more demographic filters: their combination is not published."""
        return len(self.demographics) > 1

    @property
    def demographic_notice(self) -> str | None:
        """The i18n key of the warning to show when the chosen groups cannot be used."""
        if self.too_many_demographics:
            return "combination_not_published"
        if self.demographics and not self.breakdown_published:
            return "breakdown_not_published_here"
        return None

    @property
    def breakdown(self) -> tuple[str, str]:
        """The single (dimension, category) the figures use; ('all', 'all') otherwise."""
        if len(self.demographics) == 1 and self.breakdown_published:
            return next(iter(self.demographics.items()))
        return ("all", "all")

    def place_name(self, geo_level: str | None = None, geo_code: str | None = None) -> str:
        """Name of a place in the current language (the selected place by default)."""
        level, code = geo_level or self.geo_level, geo_code or self.geo_code
        if self.places is None:
            return code
        match = self.places[(self.places.geo_level == level) & (self.places.geo_code == code)]
        if match.empty:
            return code
        row = match.iloc[0]
        return str(row.name_ne if self.lang == "ne" and row.name_ne else row.name_en)


def demographic_selection(values: dict[str, str | None]) -> dict[str, str]:
    """Keep only the demographic filters that are set, in the published dimension order."""
    return {d: v for d in DEMOGRAPHIC_DIMENSIONS if (v := values.get(d))}
