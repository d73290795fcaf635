"""Build step 2 of the reference geography: romanised district spellings and their vetting."""

from __future__ import annotations

import pytest

from schemas.reference.build_district_variants import (
    GEOGRAPHY_CSV,
    _read,
    generated_variants,
    romanisations,
)


@pytest.mark.parametrize(
    ("name_ne", "expected"),
    [
        ("तनहुँ", {"Tanahun", "Tanahu"}),  # final chandrabindu as "n" or nothing
        ("रौतहट", {"Rautahat", "Rauthat"}),  # medial schwa kept or dropped
        ("मकवानपुर", {"Makwanpur", "Makawanpur", "Makbanpur", "Makvanpur", "Makwaanpur"}),
        ("पर्वत", {"Parbat", "Parwat", "Parvat"}),  # व as b/w/v, final schwa dropped
        ("धनुषा", {"Dhanusha", "Dhanusa", "Dhanushaa", "Danusha"}),  # ष sh/s, long ā, aspirate
        ("ओखलढुङ्गा", {"Okhaldhunga", "Okaldunga"}),  # ङ्ग typed "ng"
        ("पूर्वी रुकुम", {"Purbi Rukum", "Poorwee Rukum", "Puurwii Rukum"}),
        ("कपिलवस्तु", {"Kapilbastu", "Kapilvastu", "Kapilwastu"}),
    ],
)
def test_romanisations_follow_the_typing_habits(name_ne: str, expected: set[str]) -> None:
    spellings = set(romanisations(name_ne))
    assert expected <= spellings, expected - spellings


def test_romanisations_keep_a_spoken_final_vowel_and_never_type_ngg() -> None:
    assert "Parbata" not in romanisations("पर्वत")
    assert "Purb Rukum" not in romanisations("पूर्व रुकुम")  # after a cluster it is spoken
    assert not [s for s in romanisations("ओखलढुङ्गा") if "ngg" in s]


def _row(level: str, code: str, parent: str, en: str, ne: str, variants: str = "") -> dict:
    return {
        "level": level,
        "code": code,
        "parent_code": parent,
        "name_en": en,
        "name_ne": ne,
        "variants": variants,
    }


def test_vetting_drops_spellings_that_collide_with_another_unit() -> None:
    rows = [
        _row("province", "1", "NP", "Koshi Province", "कोशी प्रदेश"),
        # Romanisations of बारा include "Bara" (its own name: nothing new) and "Baaraa".
        _row("district", "101", "1", "Bara", "बारा"),
        # A district named like another's spelling: "Baaraa" must go for both.
        _row("district", "102", "1", "Baaraa", "बाराा"),
        # परसा would give "Parasa"/"Parsa"; a local level elsewhere is called Parsa.
        _row("district", "103", "1", "Parasa", "परसा"),
        _row("local_level", "10101", "101", "Parsa Rural Municipality", "पर्सा गाउँपालिका"),
        _row("local_level", "10301", "103", "Other Municipality", "अर्को नगरपालिका"),
    ]
    out = generated_variants(rows)
    assert "Baaraa" not in out["101"]
    assert "Parsa" not in out["103"]
    assert "Parasaa" in out["103"]  # unambiguous spellings stay
    for spellings in out.values():
        assert len({s.casefold() for s in spellings}) == len(spellings)


def test_vendored_csv_already_holds_every_generated_spelling() -> None:
    # Step 2 is idempotent: run on the committed CSV it finds nothing new to add. If this
    # fails, build_geography.py was rerun without build_district_variants.py.
    added = generated_variants(_read(GEOGRAPHY_CSV))
    assert {code: spellings for code, spellings in added.items() if spellings} == {}
