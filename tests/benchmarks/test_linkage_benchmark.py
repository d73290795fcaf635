"""The linkage benchmark command: arguments, output shape, and real accuracy on FEBRL4."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from benchmarks.linkage.bench_data import _febrl_birth_dates, _postcode_place, load_dataset
from benchmarks.linkage.benchmark import benchmark_linkage, scores


def test_scores_are_pairwise_precision_recall_f1():
    got = scores({("a", "b"), ("a", "c")}, {("a", "b"), ("b", "c")})
    assert got == {"precision": 0.5, "recall": 0.5, "f1": 0.5}


def test_help_has_an_example():
    result = CliRunner().invoke(benchmark_linkage, ["--help"])
    assert result.exit_code == 0 and "Example: pahichan benchmark linkage" in result.output


def test_bad_size_is_a_clear_message():
    result = CliRunner().invoke(benchmark_linkage, ["--dataset", "synthetic", "--size", "3"])
    assert result.exit_code == 2 and "size must be at least 10" in result.output


@pytest.mark.slow
def test_febrl4_encoded_end_to_end():
    result = CliRunner().invoke(benchmark_linkage, ["--dataset", "febrl4", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["dataset"] == "febrl4" and out["records"] == 10_000
    assert out["pahichan"]["precision"] >= 0.99
    assert out["pahichan"]["f1"] >= 0.99
    assert out["pahichan"]["blocking_recall"] >= 0.99
    assert out["pahichan"]["threshold"]["rule"] == "expected_f1"
    assert "postcode->ward" in out["mapping"]


def test_febrl_birth_dates_keep_the_year_of_impossible_dates():
    raw = pd.Series(["19900215", "19561331", "19001301", None, "18500101", "1990"])
    got = _febrl_birth_dates(raw).tolist()
    # A valid date stays a date; an impossible one keeps its year; out of range is blank.
    assert got == ["1990-02-15", "1956", "1900", "", "", ""]


def test_postcode_stand_in_place_is_deterministic_and_resolvable():
    from schemas.geography import district_of, resolve_district, ward_count

    place = _postcode_place(pd.Series(["4223", "4223", "4224", "", None, str(4223 + 6743)]))
    wards = list(zip(place.local_level, place.ward, strict=True))
    assert wards[0] == wards[1] and wards[0] != wards[2]
    assert wards[0] == wards[5]  # postcodes 6,743 apart are the one collision
    assert place.local_level[3] == place.local_level[4] == place.ward[3] == ""
    assert resolve_district(place.district[0]) == district_of(place.local_level[0])
    ward = int(place.ward[0])
    assert 1 <= ward <= ward_count(place.local_level[0])


def test_synthetic_size_is_in_records():
    data = load_dataset("synthetic", 400)
    records = sum(len(frame) for _, _, frame in data.frames)
    assert 380 <= records <= 400
    assert all((agency, r) in data.truth for agency, _, f in data.frames for r in f["record_id"])
