"""The shipped census populations: sourced, consistent, used for rates only where they exist."""

from __future__ import annotations

import csv
from pathlib import Path

from dashboards import population, queries
from schemas.geography import load_geography

REFERENCE = Path("schemas/reference/population_2021.csv")
METADATA = REFERENCE.with_suffix(".md")


def _rows() -> list[dict[str, str]]:
    with REFERENCE.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_province_populations_sum_to_the_national_total_of_the_same_source() -> None:
    rows = _rows()
    national = [int(r["population"]) for r in rows if r["geo_level"] == "national"]
    provinces = {r["geo_code"]: int(r["population"]) for r in rows if r["geo_level"] == "province"}
    assert national == [29_192_480]  # CBS preliminary results, as cited in the metadata
    assert sorted(provinces) == sorted(p.code for p in load_geography().provinces)
    assert sum(provinces.values()) == national[0]


def test_every_row_names_a_known_place() -> None:
    geography = load_geography()
    names = {p.code: p.name_en for p in geography.provinces}
    for row in _rows():
        if row["geo_level"] == "province":
            assert names[row["geo_code"]] == row["name_en"]


def test_the_source_and_licence_are_recorded() -> None:
    text = METADATA.read_text(encoding="utf-8")
    for needed in (
        "Central Bureau of Statistics",
        "National Population and Housing Census 2021",
        "oldid=1221478192",
        "censusnepal.cbs.gov.np",
        "Licence",
        "preliminary",
    ):
        assert needed in text


def test_rates_use_the_census_population_where_the_file_has_none(public_con) -> None:
    # The fixture publishes NULL populations, as the pipeline does today.
    assert public_con.execute("SELECT count(population) FROM geography").fetchone() == (0,)
    places = queries.geography(public_con)
    assert population.levels_with_population(places) == {"national", "province"}
    provinces = queries.places_map(public_con, "year", "2024", "province", None)
    published = provinces[provinces.has_row & ~provinces.is_suppressed & (provinces.value > 0)]
    assert not published.empty
    for row in published.itertuples():
        assert row.rate_per_100k == row.value * 100_000 / row.population
    districts = queries.places_map(public_con, "year", "2024", "district", None)
    assert districts.rate_per_100k.isna().all() and districts.population.isna().all()
