"""Shape, contract and determinism of `linkage.synthetic.generate` and `write`."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from linkage.synthetic import CONTRACT_COLUMNS, SOURCE_TYPES, SyntheticData, generate, write
from schemas.contract import followup_columns, load_contract

INTERFACES = Path(__file__).resolve().parents[2] / "docs" / "interfaces.md"


def _contract_columns_from_docs() -> list[str]:
    text = INTERFACES.read_text(encoding="utf-8")
    section = text.split("## 1.")[1].split("## 2.")[0]
    columns_part = section.split("Columns")[1].split("Required:")[0]
    return re.findall(r"`([a-z_]+)`", columns_part)


def test_contract_columns_match_the_interface_document(data: SyntheticData) -> None:
    # Contract 1.2: the version-1 columns of the document, then record_kind and ri_* (1.1),
    # then consent_scope.
    assert list(CONTRACT_COLUMNS) == [
        *_contract_columns_from_docs(),
        "record_kind",
        *followup_columns(),
        "consent_scope",
    ]
    assert list(CONTRACT_COLUMNS) == [c.name for c in load_contract()]
    assert set(data.extracts) == set(SOURCE_TYPES)
    for frame in data.extracts.values():
        assert list(frame.columns) == list(CONTRACT_COLUMNS)


def test_record_ids_are_unique_prefixed_and_all_in_truth(data: SyntheticData) -> None:
    prefixes = {"shelter": "SH-", "ocmc": "OC-", "migration": "MG-"}
    for source, frame in data.extracts.items():
        assert frame["record_id"].is_unique
        assert frame["record_id"].str.startswith(prefixes[source]).all()
        truth = data.truth[data.truth["source"] == source]
        assert set(truth["record_id"]) == set(frame["record_id"])
        # Registers list contacts in date order.
        assert frame["contact_date"].is_monotonic_increasing
    assert len(data.truth) == data.record_count
    assert data.truth["person_id"].isin(data.people["person_id"]).all()
    assert data.people["person_id"].isin(data.truth["person_id"]).all()


def test_every_record_has_a_name_and_contact_date(data: SyntheticData) -> None:
    for frame in data.extracts.values():
        assert (frame["given_name"] != "").all()
        assert (frame["family_name"] != "").all()
        assert frame["contact_date"].str.fullmatch(r"20(19|2[0-6])-\d\d-\d\d").all()


def test_same_seed_gives_same_data_and_another_seed_does_not() -> None:
    first, second, other = generate(800, 5), generate(800, 5), generate(800, 6)
    for source in SOURCE_TYPES:
        pd.testing.assert_frame_equal(first.extracts[source], second.extracts[source])
        assert not first.extracts[source].equals(other.extracts[source])
    pd.testing.assert_frame_equal(first.truth, second.truth)


def test_write_gives_byte_identical_files_per_seed(tmp_path: Path) -> None:
    a = write(generate(600, 9), tmp_path / "a")
    b = write(generate(600, 9), tmp_path / "b", truth_dir=tmp_path / "b-truth")
    for key in (*SOURCE_TYPES, "truth"):
        assert a[key].read_bytes() == b[key].read_bytes(), key
    assert b["truth"].parent == tmp_path / "b-truth"
    assert not (tmp_path / "b" / "truth.csv").exists()
    reread = pd.read_csv(a["shelter"], dtype=str, keep_default_na=False)
    assert list(reread.columns) == list(CONTRACT_COLUMNS)
