"""Census populations for rates per 100,000: the published `geography.population` where the
pipeline filled it, else the sourced reference table `schemas/reference/population_2021.csv`
(CBS, National Population and Housing Census 2021; source and licence in its `.md`).

Only places with a sourced figure get one; a level without any (districts, local levels
today) has no rate, and the dashboard hides the rate option there.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd

REFERENCE = Path(__file__).resolve().parents[1] / "schemas" / "reference" / "population_2021.csv"


@cache
def reference() -> pd.DataFrame:
    """One row per place with a sourced 2021 census population: geo_level, geo_code,
    name_en, population."""
    return pd.read_csv(REFERENCE, dtype={"geo_code": str, "population": "Int64"})


def with_population(places: pd.DataFrame) -> pd.DataFrame:
    """`places` (geo_level, geo_code, population, ...) with NULL populations filled from the
    reference table; a published population is kept as it is."""
    known = reference().set_index(["geo_level", "geo_code"])["population"]
    keys = pd.MultiIndex.from_arrays([places["geo_level"], places["geo_code"].astype(str)])
    filled = pd.Series(known.reindex(keys).to_numpy(), index=places.index, dtype="Float64")
    out = places.copy()
    out["population"] = out["population"].astype("Float64").fillna(filled)
    return out


def levels_with_population(places: pd.DataFrame) -> set[str]:
    """Place levels where at least one place has a population (where a rate can exist)."""
    return set(places.loc[places["population"].notna(), "geo_level"])
