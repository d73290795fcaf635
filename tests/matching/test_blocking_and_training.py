"""Blocking rules catch pairs that agree on one strong field; the trained model records a
label-free auto-link threshold; the swapped-names level fires on swapped names."""

from __future__ import annotations

import duckdb
import pytest

import linkage.matching as lm
from benchmarks.linkage.benchmark import blocking_recall
from linkage.matching.prepare import prepare_input
from linkage.matching.spec import (
    LinkageSettings,
    TrainedModel,
    blocking_rule_settings,
    calibration_blocking_rule_settings,
    em_blocking_rules,
    name_comparison,
    place_comparison,
)
from linkage.matching.threshold import probability_to_weight
from tests.matching.conftest import KEY_ID, PLAIN_FILTER_SETTINGS, load
from tests.matching.fake_encoder import TEST_KEY, _token, bloom_filter


def _record_token(record_id: str) -> str:
    return _token("record", f"A1|{record_id}", TEST_KEY, 32)


BASE = {"sex": "F", "district": "101"}
LOCAL = {"local_level": "10101"}


@pytest.mark.parametrize(
    ("left", "right", "caught"),
    [
        # Only the citizenship number agrees (both names and the birth date corrupted).
        (
            {
                "given_name": "sunita",
                "family_name": "tamang",
                "date_of_birth": "1990-01-02",
                "citizenship_no": "27-01-543",
            },
            {
                "given_name": "xunitq",
                "family_name": "damangk",
                "date_of_birth": "1993-05-06",
                "citizenship_no": "27-01-543",
                "district": "102",
            },
            True,
        ),
        # The birth date and the district agree (names corrupted, no ID number).
        (
            {"given_name": "sunita", "family_name": "tamang", "date_of_birth": "1990-01-02"},
            {"given_name": "xunitq", "family_name": "damangk", "date_of_birth": "1990-01-02"},
            True,
        ),
        # The birth date and one name key agree, in another district.
        (
            {"given_name": "sunita", "family_name": "tamang", "date_of_birth": "1990-01-02"},
            {
                "given_name": "xunitq",
                "family_name": "tamang",
                "date_of_birth": "1990-01-02",
                "district": "102",
            },
            True,
        ),
        # Only the birth date agrees (both names beyond their keys, another district): left
        # out on purpose since pahichan-link-9 (spec.blocking_rules: at 1M records such
        # pairs were a quarter of all candidate pairs, for 13 true pairs at the auto-link
        # weight).
        (
            {"given_name": "sunita", "family_name": "tamang", "date_of_birth": "1990-01-02"},
            {
                "given_name": "xunitq",
                "family_name": "damangk",
                "date_of_birth": "1990-01-02",
                "district": "102",
            },
            False,
        ),
        # Only the family name key, district and birth year agree: left out on purpose
        # (spec.blocking_rules: family names are shared by whole districts, and such rules
        # formed a quarter of the candidate pairs at scale for 0.002 of pairwise F1).
        (
            {"given_name": "sunita", "family_name": "tamang", "birth_year": 1990},
            {"given_name": "xyz", "family_name": "tamang", "birth_year": 1990},
            False,
        ),
        # Same ward and family name key, nothing else: namesakes of one ward are compared.
        (
            {
                "given_name": "sunita",
                "family_name": "tamang",
                "birth_year": 1990,
                "local_level": "10101",
                "ward": "3",
            },
            {
                "given_name": "xyz",
                "family_name": "tamang",
                "birth_year": 1960,
                "local_level": "10101",
                "ward": "3",
            },
            True,
        ),
        # Given name key, local level and sex agree, birth years 1 apart, family name
        # differs; and the same with the family name key instead of the given name's
        # (spec pahichan-link-7).
        (
            {"given_name": "sunita", "family_name": "tamang", "birth_year": 1990, **LOCAL},
            {"given_name": "sunita", "family_name": "xyz", "birth_year": 1991, **LOCAL},
            True,
        ),
        (
            {"given_name": "sunita", "family_name": "tamang", "birth_year": 1990, **LOCAL},
            {"given_name": "xyz", "family_name": "tamang", "birth_year": 1991, **LOCAL},
            True,
        ),
        # One record has no birth date or year: given name key and district hold the pair.
        (
            {"given_name": "sunita", "family_name": "tamang", "date_of_birth": "1990-01-02"},
            {"given_name": "sunita", "family_name": "damangk"},
            True,
        ),
        # No birth year on one side and a given name mistyped beyond its key: the family
        # name key and the district hold the pair (spec pahichan-link-6).
        (
            {"given_name": "sunita", "family_name": "tamang", "date_of_birth": "1990-01-02"},
            {"given_name": "xunitq", "family_name": "tamang"},
            True,
        ),
        # No birth year on one side, names swapped and another district: both names hold it.
        (
            {"given_name": "sunita", "family_name": "tamang", "date_of_birth": "1990-01-02"},
            {"given_name": "tamang", "family_name": "sunita", "district": "102"},
            True,
        ),
        # Names swapped, same birth year, another district (spec pahichan-link-7).
        (
            {"given_name": "sunita", "family_name": "tamang", "birth_year": 1990},
            {
                "given_name": "tamang",
                "family_name": "sunita",
                "birth_year": 1990,
                "district": "102",
            },
            True,
        ),
        # Nothing strong agrees: not a candidate.
        (
            {"given_name": "sunita", "family_name": "tamang", "birth_year": 1990},
            {"given_name": "bishnu", "family_name": "karki", "birth_year": 1960, "district": "405"},
            False,
        ),
    ],
)
@pytest.mark.parametrize("encoding", [1, 2])
def test_blocking_rules_catch_one_strong_field(con, model, left, right, caught, encoding):
    records = [{**BASE, **left, "record_id": "l"}, {**BASE, **right, "record_id": "r"}]
    load(con, records, "b1", encoding=encoding)
    pair = tuple(sorted((_record_token("l"), _record_token("r"))))
    assert blocking_recall(con, model, {pair}) == (1.0 if caught else 0.0)


def _rules_holding(con, rules: list[dict], left: str, right: str) -> list[str]:
    """The rules (all but the exploded one) that make the two prepared records a pair."""
    held = []
    for rule in rules:
        if "arrays_to_explode" in rule:
            continue
        sql = f"""SELECT coalesce({rule["blocking_rule"]}, FALSE) FROM __rules_input AS l,
            __rules_input AS r WHERE l.record_token = ? AND r.record_token = ?"""  # noqa: S608 - rules are code constants
        if con.execute(sql, [left, right]).fetchone()[0]:
            held.append(rule["blocking_rule"])
    return held


@pytest.mark.parametrize("encoding", [1, 2])
def test_calibration_scores_the_pairs_of_the_wide_birth_date_rule(con, model, encoding):
    """Calibration's rules (pahichan-link-8's date rule) hold the pair that only a birth date
    and sex join, which the prediction rules leave out since pahichan-link-9."""
    only_birth_date = {
        "given_name": "xunitq",
        "family_name": "damangk",
        "date_of_birth": "1990-01-02",
        "district": "102",
    }
    records = [
        {**BASE, "given_name": "sunita", "family_name": "tamang", "date_of_birth": "1990-01-02"},
        {**BASE, **only_birth_date},
    ]
    load(
        con,
        [{**r, "record_id": i} for r, i in zip(records, "lr", strict=True)],
        "b1",
        encoding=encoding,
    )
    prepare_input(con, "__rules_input", model.settings, "all")
    left, right = _record_token("l"), _record_token("r")
    prediction = blocking_rule_settings(model.settings)
    calibration = calibration_blocking_rule_settings(model.settings)
    assert _rules_holding(con, prediction, left, right) == []
    assert _rules_holding(con, calibration, left, right) == [
        "l.birth_date_token = r.birth_date_token AND l.sex_token IS NOT DISTINCT FROM r.sex_token"
    ]
    # Every other rule is the same in both sets, in the same order.
    wide = [r for r in calibration if "birth_date_token" not in r["blocking_rule"]]
    assert wide == [r for r in prediction if "birth_date_token" not in r["blocking_rule"]]


def _level_label(comparison: dict, row: dict) -> str:
    con = duckdb.connect()
    bits = [name for name in row if "_bits" in name]
    columns = ", ".join(
        f"CAST(? AS BIT) AS {name}" if name in bits else f"CAST(? AS VARCHAR) AS {name}"
        for name in row
    )
    con.execute(f"CREATE TABLE raw AS SELECT {columns}", list(row.values()))
    ones = "".join(f", bit_count({name}) AS {name.replace('_bits', '_ones')}" for name in bits)
    con.execute(f"CREATE TABLE p AS SELECT *{ones} FROM raw")  # noqa: S608
    con.execute("ALTER TABLE p ADD COLUMN given_name_key_l VARCHAR")
    con.execute("ALTER TABLE p ADD COLUMN given_name_key_r VARCHAR")
    # Batches without name edit tokens (older tools) pass over the "one letter apart" level.
    con.execute("ALTER TABLE p ADD COLUMN name_edit_tokens_l UBIGINT[]")
    con.execute("ALTER TABLE p ADD COLUMN name_edit_tokens_r UBIGINT[]")
    whens = " ".join(
        f"WHEN {lv['sql_condition']} THEN '{lv['label_for_charts']}'"
        for lv in comparison["comparison_levels"]
        if lv["sql_condition"] != "ELSE"
    )
    return con.execute(f"SELECT CASE {whens} ELSE 'else' END FROM p").fetchone()[0]  # noqa: S608


def _bits(name: str) -> str:
    return "".join(f"{byte:08b}" for byte in bloom_filter(name))


def test_swapped_names_reach_the_swap_levels():
    # Plain (fake) filters: swapping changes 4 of 14 bigrams, full-name Dice ~0.71.
    settings = LinkageSettings(**{**PLAIN_FILTER_SETTINGS.to_dict(), "full_name_dice": 0.65})
    comparison = name_comparison("given_name", settings, swapped_level=True)
    swapped = {
        "given_name_bits_l": _bits("sunita"),
        "given_name_bits_r": _bits("tamang"),
        "full_name_bits_l": _bits("sunita tamang"),
        "full_name_bits_r": _bits("tamang sunita"),
        # The order-free key agrees on a clean swap.
        "name_set_key_l": "sunita|tamang",
        "name_set_key_r": "sunita|tamang",
    }
    assert _level_label(comparison, swapped) == "given and family name swapped"
    # A swap with a misspelling the phonetic key does not absorb: the full-name filters.
    misspelt = {**swapped, "name_set_key_r": "sunyta|tamang"}
    assert _level_label(comparison, misspelt).startswith("full name dice")
    # From a tool that sends no order-free key, the full-name level still applies.
    older = {**swapped, "name_set_key_l": None, "name_set_key_r": None}
    assert _level_label(comparison, older).startswith("full name dice")
    unrelated = {**misspelt, "full_name_bits_r": _bits("bishnu karki")}
    assert _level_label(comparison, unrelated) == "else"
    # The family comparison has no such level: the evidence is counted once.
    family = name_comparison("family_name", PLAIN_FILTER_SETTINGS)
    assert not any("full name" in lv["label_for_charts"] for lv in family["comparison_levels"])


def test_place_levels_prefer_the_ward_and_fall_back_without_one():
    same_ward = {
        "district_token_l": "d1",
        "district_token_r": "d1",
        "local_level_code_l": "10101",
        "local_level_code_r": "10101",
        "ward_token_l": "w3",
        "ward_token_r": "w3",
    }
    comparison = place_comparison()
    assert _level_label(comparison, same_ward) == "same ward"
    other_ward = {**same_ward, "ward_token_r": "w4"}
    assert _level_label(comparison, other_ward) == "same local level"
    # Records from a tool that sends no ward compare by local level as before.
    no_ward = {**same_ward, "ward_token_l": None, "ward_token_r": None}
    assert _level_label(comparison, no_ward) == "same local level"
    other_level = {**other_ward, "local_level_code_r": "10102"}
    assert _level_label(comparison, other_level) == "same district"


def test_trained_model_records_its_expected_f1_threshold(model):
    chosen = model.training_log["threshold"]
    assert chosen["rule"] == "expected_f1"
    settings = model.settings
    assert settings.min_auto_link_probability <= chosen["probability"]
    assert chosen["probability"] <= settings.max_auto_link_probability
    assert model.upper_match_weight == pytest.approx(probability_to_weight(chosen["probability"]))
    # Pairs scored exactly at the chosen probability (a whole agreement pattern ties there)
    # are linked, whatever the rounding of Splink's sums.
    assert model.upper_match_weight < probability_to_weight(chosen["probability"])
    assert model.lower_match_weight <= model.upper_match_weight
    assert 0 < chosen["expected_f1"] <= 1
    again = TrainedModel.from_json(model.to_json())
    assert again.training_log["threshold"] == chosen
    # u was cleaned of matches with the model's own expected match rate (no labels).
    assert model.training_log["lambda"]["match_rate_for_u"] > 0


def test_probability_rule_and_unknown_rule(population):
    con = duckdb.connect()
    load(con, population["batch1"], "b1")
    load(con, population["batch2"], "b2")
    fixed = LinkageSettings(**{**PLAIN_FILTER_SETTINGS.to_dict(), "threshold_rule": "probability"})
    model = lm.train_model(con, settings=fixed)
    assert model.training_log["threshold"]["rule"] == "probability"
    assert model.upper_match_weight == pytest.approx(probability_to_weight(0.99))
    assert model.key_id == KEY_ID
    bad = LinkageSettings(**{**PLAIN_FILTER_SETTINGS.to_dict(), "threshold_rule": "oracle"})
    with pytest.raises(ValueError, match="Unknown threshold_rule 'oracle'"):
        lm.train_model(con, settings=bad)


@pytest.mark.parametrize(
    ("right", "caught_with_edit_tokens"),
    [
        # A given name mistyped beyond its key, same district and birth cell: only the name
        # edit tokens hold the pair (the family name key alone is never a rule).
        ({"given_name": "sunitx", "family_name": "tamang", "birth_year": 1990}, True),
        # The same in another district: the edit rule fixes the district and the birth cell
        # together (spec._EDIT_PLACE: looser keys made its join grow with the square of a
        # common name's records), so the pair is left to the other rules.
        (
            {
                "given_name": "sunitx",
                "family_name": "tamang",
                "birth_year": 1990,
                "district": "405",
            },
            False,
        ),
        # A birth year far off: like every name rule, the edit-token rule needs a birth
        # neighbourhood (without it, FEBRL3 linked namesakes one letter apart born decades
        # apart).
        ({"given_name": "sunitx", "family_name": "tamang", "birth_year": 1960}, False),
        # One letter off in both fields: not within one letter in one field.
        ({"given_name": "sunitx", "family_name": "tanang", "birth_year": 1990}, False),
    ],
)
def test_name_edit_tokens_block_typos(con, model, right, caught_with_edit_tokens):
    left = {**BASE, "given_name": "sunita", "family_name": "tamang", "birth_year": 1990}
    records = [{**left, "record_id": "l"}, {**BASE, **right, "record_id": "r"}]
    pair = tuple(sorted((_record_token("l"), _record_token("r"))))
    load(con, records, "b2", encoding=2)  # an older batch: no tokens, never caught
    assert blocking_recall(con, model, {pair}) == 0.0
    con.execute("DELETE FROM linkage.records")
    load(con, records, "b3", encoding=3)
    assert blocking_recall(con, model, {pair}) == (1.0 if caught_with_edit_tokens else 0.0)


def test_training_again_while_the_models_expected_f1_is_too_low(population, monkeypatch):
    """A model whose own expected F1 is under the floor is trained again with other seeds
    and the match rate fixed in EM; the best attempt is kept and every attempt is logged."""
    from splink.internals.linker_components.training import LinkerTraining

    con = duckdb.connect()
    load(con, population["batch1"], "b1")
    load(con, population["batch2"], "b2")
    base = PLAIN_FILTER_SETTINGS.to_dict()
    unreachable = LinkageSettings(**{**base, "min_expected_f1": 1.01, "training_attempts": 3})
    real = LinkerTraining.estimate_parameters_using_expectation_maximisation
    em_rates: list[bool] = []

    def em(self, rule, *args, **kwargs):
        em_rates.append(kwargs["fix_probability_two_random_records_match"])
        return real(self, rule, *args, **kwargs)

    monkeypatch.setattr(LinkerTraining, "estimate_parameters_using_expectation_maximisation", em)
    model = lm.train_model(con, settings=unreachable)
    sessions = len(em_rates) // 3  # EM sessions tried per attempt
    attempts = model.training_log["training_attempts"]
    assert [a["seed"] for a in attempts] == [base["seed"], base["seed"] + 1, base["seed"] + 2]
    # The later attempts hold the match rate fixed in EM (a session that fails whatever
    # the seed gets another way to train).
    assert [a["match_rate_fixed"] for a in attempts] == [False, True, True]
    assert sessions >= 2
    assert em_rates == [False] * sessions + [True] * (2 * sessions)
    best = max(a["expected_f1"] for a in attempts)
    assert model.training_log["threshold"]["expected_f1"] == best
    # A model above the floor is kept at the first attempt.
    reachable = LinkageSettings(**{**base, "min_expected_f1": 0.0})
    once = lm.train_model(con, settings=reachable)
    assert len(once.training_log["training_attempts"]) == 1


def test_an_em_session_splink_stops_is_skipped_and_too_few_left_is_an_error(
    population, monkeypatch
):
    """Splink stops a session whose m fell below 1e-300 (ValueError): the session is skipped
    and the others train the model; with fewer than two left, training says so."""
    from splink.internals.linker_components.training import LinkerTraining

    con = duckdb.connect()
    load(con, population["batch1"], "b1")
    load(con, population["batch2"], "b2")
    real = LinkerTraining.estimate_parameters_using_expectation_maximisation
    citizenship = em_blocking_rules()[3]
    tried: list[str] = []

    def em(self, rule, *args, **kwargs):
        tried.append(rule)
        if rule == citizenship:
            raise ValueError("m_probability value 1.7e-301 is below the minimum allowed value")
        return real(self, rule, *args, **kwargs)

    monkeypatch.setattr(LinkerTraining, "estimate_parameters_using_expectation_maximisation", em)
    # The small population trains two sessions (names and citizenship): one stopped leaves
    # one, too few to give every comparison an m from pairs not blocked on it.
    with pytest.raises(ValueError, match="Only 1 EM training session"):
        lm.train_model(con, settings=PLAIN_FILTER_SETTINGS)
    assert citizenship in tried
