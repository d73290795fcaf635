"""Vendored administrative boundaries for the dashboard's maps (built by build_boundaries.py)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

GEO_DIR = Path(__file__).parent
LAYER_FILES = {
    "province": GEO_DIR / "provinces.geojson",
    "district": GEO_DIR / "districts.geojson",
    "local_level": GEO_DIR / "local_levels.geojson",
}


@cache
def load_boundaries(geo_level: str) -> dict[str, Any]:
    """One GeoJSON FeatureCollection per level; each feature's `properties.code` is the
    project's reference code (province `1`..`7`, 3-digit district, 5-digit local level)."""
    path = LAYER_FILES[geo_level]
    with path.open(encoding="utf-8") as f:
        return json.load(f)


def subset(collection: dict[str, Any], codes: set[str]) -> dict[str, Any]:
    """The features whose code is in `codes` (drill-down draws only the chosen area)."""
    features = [f for f in collection["features"] if f["properties"]["code"] in codes]
    return {"type": "FeatureCollection", "features": features}
