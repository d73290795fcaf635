"""Reference geography: counts, code scheme, resolvers from free text to codes."""

from __future__ import annotations

import csv
import re
from collections import Counter

import pytest

from schemas.geography import (
    GEOGRAPHY_CSV,
    LEVEL_TYPES,
    District,
    district_of,
    load_geography,
    province_of,
    resolve_district,
    resolve_local_level,
    resolve_province,
)
from schemas.text import normalise_key, phonetic_key, strip_affixes

GEO = load_geography()


def test_counts_are_exactly_7_77_753() -> None:
    assert (len(GEO.provinces), len(GEO.districts), len(GEO.local_levels)) == (7, 77, 753)


def test_codes_are_unique_well_formed_and_prefix_consistent() -> None:
    codes = [u.code for u in (*GEO.provinces, *GEO.districts, *GEO.local_levels)]
    assert len(codes) == len(set(codes))
    assert sorted(p.code for p in GEO.provinces) == [str(i) for i in range(1, 8)]
    province_codes = {p.code for p in GEO.provinces}
    district_codes = {d.code for d in GEO.districts}
    for d in GEO.districts:
        assert re.fullmatch(r"[1-7]\d\d", d.code)
        assert d.province_code in province_codes and d.code[0] == d.province_code
    for ll in GEO.local_levels:
        assert re.fullmatch(r"[1-7]\d{4}", ll.code)
        assert ll.district_code in district_codes and ll.code[:3] == ll.district_code
        assert ll.level_type in LEVEL_TYPES
        assert ll.ward_count >= 1


def test_every_district_has_local_levels_and_names_in_both_scripts() -> None:
    per_district = Counter(ll.district_code for ll in GEO.local_levels)
    assert set(per_district) == {d.code for d in GEO.districts}
    for unit in (*GEO.provinces, *GEO.districts, *GEO.local_levels):
        assert unit.name_en.isascii() and unit.name_en
        assert re.search(r"[\u0900-\u097f]", unit.name_ne), unit


def test_level_types_match_official_counts_and_ward_total() -> None:
    types = Counter(ll.level_type for ll in GEO.local_levels)
    assert types == {
        "metropolitan_city": 6,
        "sub_metropolitan_city": 11,
        "municipality": 276,
        "rural_municipality": 460,
    }
    # Nepal has 6,743 wards in total.
    assert sum(ll.ward_count for ll in GEO.local_levels) == 6743


def test_seed_type_errors_are_fixed() -> None:
    by_name = {ll.name_en: ll for ll in GEO.local_levels}
    assert by_name["Bhaktapur Municipality"].level_type == "municipality"
    assert by_name["Itahari Sub-Metropolitan City"].level_type == "sub_metropolitan_city"


def test_csv_records_its_source_and_version() -> None:
    with GEOGRAPHY_CSV.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {(r["source"], r["source_version"]) for r in rows} == {("nepali-address", "0.1.4")}


@pytest.mark.parametrize(
    "text",
    [
        "3",
        "Bagmati",
        "बागमती",
        "Province 3",
        "bagmati pradesh",
        "BAGMATI PROVINCE",
        "बागमती प्रदेश",
        "Province No. 3",
        "३",
        "NP-P3",
    ],
)
def test_province_resolves_from_many_spellings(text: str) -> None:
    assert resolve_province(text) == "3"


def test_every_province_resolves_from_its_names() -> None:
    for p in GEO.provinces:
        assert resolve_province(p.name_en) == p.code
        assert resolve_province(p.name_ne) == p.code
        assert resolve_province(f"Province {p.code}") == p.code


@pytest.mark.parametrize("district", GEO.districts, ids=lambda d: d.name_en)
def test_every_district_resolves_from_code_english_nepali_and_variants(district: District) -> None:
    assert resolve_district(district.code) == district.code
    assert resolve_district(district.name_en) == district.code
    assert resolve_district(f"  {district.name_en.upper()}  district ") == district.code
    assert resolve_district(district.name_ne) == district.code
    assert resolve_district(f"{district.name_ne} जिल्ला") == district.code
    for variant in district.variants:
        assert resolve_district(variant) == district.code, variant


def test_every_district_has_a_variant_in_latin_script_or_devanagari() -> None:
    # The done-when: every district resolves from its English name, its Nepali name
    # and at least one variant spelling (the parametrised test above resolves all of them).
    without = [d.name_en for d in GEO.districts if not d.variants]
    assert without == []
    devanagari_only = {d.name_en for d in GEO.districts if not any(v.isascii() for v in d.variants)}
    # Romanisation adds nothing new for these two (लमजुङ "Lamjung", मुगु "Mugu"); their
    # variants are the Devanagari spellings लमजुङ and मुगू.
    assert devanagari_only == {"Lamjung", "Mugu"}


def test_districts_with_variant_spellings_include_the_usual_suspects() -> None:
    expected = {
        "Sindhupalchowk": "Sindhupalchok",
        "Sindupalchok": "Sindhupalchok",
        "Kavre": "Kavrepalanchok",
        "Kabhrepalanchok": "Kavrepalanchok",
        "Makawanpur": "Makwanpur",
        "Chitawan": "Chitwan",
        "Dhanusa": "Dhanusha",
        "Kapilvastu": "Kapilbastu",
        "Tanahu": "Tanahun",
        "Bardia": "Bardiya",
        "kavre jilla": "Kavrepalanchok",
        "काठमाडौँ": "Kathmandu",
        "काठमाडौं": "Kathmandu",
        "Syanja": "Syangja",
        "Nawalpur": "Nawalparasi East",
        "Parasi": "Nawalparasi West",
        "Purba Rukum": "Rukum East",
        "Paschim Rukum": "Rukum West",
        "Parwat": "Parbat",
        "Tehrathum": "Terhathum",
        "Sankhuwasava": "Sankhuwasabha",
        "Udaypur": "Udayapur",
        "Okhaldunga": "Okhaldhunga",
        "Dadeldura": "Dadeldhura",
        "Kanchapur": "Kanchanpur",
        "Morung": "Morang",
        "Rauthat": "Rautahat",
        "Purbi Rukum": "Rukum East",
    }
    listed = {v for d in GEO.districts for v in d.variants}
    name_of = {d.code: d.name_en for d in GEO.districts}
    for text, name in expected.items():
        if not text.endswith("jilla") and text[0].isascii():
            assert text in listed, f"{text} should be a listed variant"
        assert name_of[resolve_district(text)] == name, text


# Variants that knowingly equal a name elsewhere: "Patan" is the old name of Lalitpur city
# and what registers write for the district, though Baitadi also has a Patan Municipality.
ALLOWED_COLLISIONS = {"patan"}


def _bare_keys(names: tuple[str, ...] | list[str], suffixes: tuple[str, ...]) -> set[str]:
    return {strip_affixes(normalise_key(n), suffixes) for n in names}


def test_no_district_variant_collides_with_another_unit() -> None:
    district_suffixes = tuple(normalise_key(s) for s in ("district", "jilla", "जिल्ला"))
    local_types = ("rural municipality", "municipality", "sub metropolitan city")
    local_types += ("metropolitan city",)
    local_suffixes = tuple(normalise_key(s) for s in local_types)
    own = {d.code: _bare_keys([d.name_en, d.name_ne], district_suffixes) for d in GEO.districts}
    spellings = {
        d.code: _bare_keys([d.name_en, d.name_ne, *d.variants], district_suffixes)
        for d in GEO.districts
    }
    province_keys = {
        k for p in GEO.provinces for k in _bare_keys([p.name_en, p.name_ne], local_suffixes)
    }
    for d in GEO.districts:
        variants = _bare_keys(list(d.variants), district_suffixes) - own[d.code]
        for other in GEO.districts:
            if other.code != d.code:
                assert not variants & spellings[other.code], (d.name_en, other.name_en)
        foreign_locals = set().union(
            *(
                _bare_keys([ll.name_en, ll.name_ne, *ll.variants], local_suffixes)
                for ll in GEO.local_levels
                if ll.district_code != d.code
            )
        )
        assert (variants & foreign_locals) - ALLOWED_COLLISIONS == set(), d.name_en
        assert not variants & province_keys, d.name_en
        for variant in d.variants:
            assert resolve_district(variant) == d.code, variant


def test_phonetic_keys_of_district_spellings_never_point_to_two_districts() -> None:
    owner: dict[str, str] = {}
    for d in GEO.districts:
        for spelling in (d.name_en, d.name_ne, *d.variants):
            key = phonetic_key(spelling)
            assert owner.setdefault(key, d.code) == d.code, (spelling, owner[key], d.code)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Kaaski", "Kaski"),
        ("Sindupalchowk", "Sindhupalchok"),
        ("Kathmaandu", "Kathmandu"),
        ("Jhaapa", "Jhapa"),
        ("Makwanpoor", "Makwanpur"),
        ("Tanahoon", "Tanahun"),
        ("Kanchanpoor", "Kanchanpur"),
        ("Bhojpoor", "Bhojpur"),
        ("Dholakha", "Dolakha"),
        ("Syangjaa", "Syangja"),
        ("Saptaree jilla", "Saptari"),
        ("KAPILWASTU DISTRICT", "Kapilbastu"),
        ("कास्कि", "Kaski"),
        ("सीन्धुपाल्चोक", "Sindhupalchok"),
        ("ईलाम", "Ilam"),
        ("Roopandehi", "Rupandehi"),
        ("Surkhett", "Surkhet"),
    ],
)
def test_unlisted_phonetic_variants_resolve(text: str, name: str) -> None:
    listed = {normalise_key(s) for d in GEO.districts for s in (d.name_en, d.name_ne, *d.variants)}
    assert normalise_key(text) not in listed, "the test needs a spelling nobody listed"
    code = resolve_district(text)
    assert code is not None, text
    assert next(d.name_en for d in GEO.districts if d.code == code) == name


@pytest.mark.parametrize(
    "text",
    ["Nawalparasi", "Rukum", "Itahari", "Birendranagar", "Ramgram", "Kathmandu Valley", "Sindhu"],
)
def test_phonetic_fallback_gives_no_guess_for_ambiguous_or_foreign_names(text: str) -> None:
    # Two districts share "Nawalparasi" and "Rukum"; the others are municipalities or regions.
    assert resolve_district(text) is None


def test_phonetic_key_folds_the_usual_romanisation_habits() -> None:
    same = [
        ("Sindhupalchowk", "Sindupalchok"),
        ("Kaaski", "Kaski"),
        ("Chitwan", "Chitvan"),
        ("Chitban", "Chitwan"),
        ("Dhanusha", "Dhanusa"),
        ("Ramechhap", "Ramechap"),
        ("Mahottari", "Mahotari"),
        ("Solu-Khumbu", "Solukhumbu"),
        ("Sindhulee", "Sinduli"),
        ("Tanahoon", "Tanahun"),
        ("कञ्चनपुर", "कंचनपुर"),
        ("ईलाम", "इलाम"),
        ("मुगू", "मुगु"),
    ]
    for left, right in same:
        assert phonetic_key(left) == phonetic_key(right), (left, right)
    different = [("Dang", "Banke"), ("Rukum East", "Rukum West"), ("Parsa", "Bara")]
    for left, right in different:
        assert phonetic_key(left) != phonetic_key(right)


def test_local_levels_resolve_with_district_disambiguation() -> None:
    names = Counter(ll.name_en for ll in GEO.local_levels)
    repeated = [ll for ll in GEO.local_levels if names[ll.name_en] > 1]
    assert repeated, "the reference has names that repeat across districts"
    for ll in repeated:
        assert resolve_local_level(ll.name_en) is None
        assert resolve_local_level(ll.name_en, ll.district_code) == ll.code
        # The district may also be given as a name.
        district = next(d for d in GEO.districts if d.code == ll.district_code)
        assert resolve_local_level(ll.name_en, district.name_en) == ll.code


def test_every_local_level_resolves_in_its_district_by_english_and_nepali() -> None:
    for ll in GEO.local_levels:
        assert resolve_local_level(ll.name_en, ll.district_code) == ll.code, ll
        assert resolve_local_level(ll.name_ne, ll.district_code) == ll.code, ll
        assert resolve_local_level(ll.code) == ll.code


@pytest.mark.parametrize(
    ("text", "district", "name"),
    [
        ("kathmandu mahanagarpalika", None, "Kathmandu Metropolitan City"),
        ("Kathmandu Metropolitan", "Kathmandu", "Kathmandu Metropolitan City"),
        ("काठमाडौं महानगरपालिका", None, "Kathmandu Metropolitan City"),
        ("Itahari", "Sunsari", "Itahari Sub-Metropolitan City"),
        ("bhaktapur nagarpalika", "Bhaktapur", "Bhaktapur Municipality"),
        ("Budhanilkhantha Municipality", "306", "Budhanilkantha Municipality"),
    ],
)
def test_local_level_suffixes_and_variants(text: str, district: str | None, name: str) -> None:
    code = resolve_local_level(text, district)
    assert code is not None
    assert next(ll.name_en for ll in GEO.local_levels if ll.code == code) == name


def test_local_level_code_that_contradicts_district_is_rejected() -> None:
    ktm = resolve_local_level("Kathmandu Metropolitan City")
    assert ktm is not None
    assert resolve_local_level(ktm, "Lalitpur") is None


@pytest.mark.parametrize("text", [None, "", "   ", "Atlantis", "999", "Province 9", "10199"])
def test_unknown_text_resolves_to_none(text: str | None) -> None:
    assert resolve_province(text) is None
    assert resolve_district(text) is None
    assert resolve_local_level(text) is None


def test_unknown_district_makes_local_level_none() -> None:
    assert resolve_local_level("Kathmandu Metropolitan City", "Atlantis") is None


def test_parent_lookups() -> None:
    ktm = resolve_local_level("Kathmandu Metropolitan City")
    assert ktm is not None
    assert district_of(ktm) == resolve_district("Kathmandu")
    assert province_of(district_of(ktm)) == "3"
    assert province_of(ktm) == "3"
    for ll in GEO.local_levels[::50]:
        assert district_of(ll.code) == ll.district_code
    with pytest.raises(ValueError, match="unknown"):
        district_of("99999")
    with pytest.raises(ValueError, match="unknown"):
        province_of("999")


def test_close_misspelling_resolves_only_within_a_district() -> None:
    melamchi = resolve_local_level("Melanchi Municipality", "Sindhupalchok")
    assert melamchi is not None
    assert resolve_local_level("Melamchi Municipality", "Sindhupalchok") == melamchi
    assert resolve_local_level("Melamchi Municipality") is None
    # Two similar names in one district (Mikwakhola / Maiwakhola): a spelling between them
    # is ambiguous, so no guess.
    assert resolve_local_level("Mikwakhola", "Taplejung") != resolve_local_level(
        "Maiwakhola", "Taplejung"
    )
    assert resolve_local_level("Miwakhola", "Taplejung") is None
    assert resolve_local_level("Kathmandu Metropolitan City", "Sindhupalchok") is None
