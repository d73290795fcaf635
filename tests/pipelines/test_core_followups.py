"""core.followups: one row per visit, scored by schemas.reintegration, never an episode."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from pipelines.defs.core.build import build_core
from schemas.reintegration import (
    answers_from_row,
    dimension_scores,
    load_indicator_config,
    reintegration_score,
    weighted_answer,
)
from tests.pipelines.warehouse_fixtures import build_warehouse


@pytest.fixture(scope="module")
def con():
    connection = duckdb.connect()
    build_warehouse(connection, people=60, followups=True)
    build_core(connection)
    yield connection
    connection.close()


def test_one_row_per_followup_record_and_none_in_episodes(con):
    staged = con.execute(
        "SELECT count(*) FROM (SELECT record_token FROM staging.shelter WHERE record_kind = "
        "'followup' UNION ALL SELECT record_token FROM staging.ocmc WHERE record_kind = "
        "'followup' UNION ALL SELECT record_token FROM staging.migration WHERE record_kind = "
        "'followup')"
    ).fetchone()[0]
    assert staged > 5
    assert con.execute("SELECT count(*) FROM core.followups").fetchone()[0] == staged
    overlap = con.execute(
        "SELECT count(*) FROM core.episodes JOIN core.followups USING (record_token)"
    ).fetchone()[0]
    assert overlap == 0
    records = con.execute("SELECT sum(records_count) FROM core.survivors").fetchone()[0]
    assert records == con.execute("SELECT count(*) FROM core.episodes").fetchone()[0]


def test_scores_match_schemas_reintegration(con):
    config = load_indicator_config("v1")
    codes = ", ".join(config.codes)
    staged = con.execute(
        f"SELECT record_token, {codes} FROM staging.shelter WHERE record_kind = 'followup' "  # noqa: S608 - codes from the config
        f"UNION ALL SELECT record_token, {codes} FROM staging.ocmc "
        f"WHERE record_kind = 'followup' UNION ALL SELECT record_token, {codes} "
        f"FROM staging.migration WHERE record_kind = 'followup'"
    ).df()
    core = con.execute("SELECT * FROM core.followups").df().set_index("record_token")
    assert core["composite_score"].notna().any()
    for row in staged.to_dict("records"):
        expected = dimension_scores(answers_from_row(row, config), config)
        got = core.loc[row["record_token"]]
        for dimension in ("economic", "social", "psychosocial"):
            if expected[dimension] is None:
                assert got[f"{dimension}_score"] != got[f"{dimension}_score"]  # NaN
            else:
                assert got[f"{dimension}_score"] == pytest.approx(expected[dimension])
        composite = reintegration_score(expected, config)
        if composite is not None:
            assert got["composite_score"] == pytest.approx(composite)
        assert got["config_version"] == "v1"


def test_hand_checked_visit():
    """A visit whose score is worked out by hand from the v1 scales."""
    config = load_indicator_config("v1")
    connection = duckdb.connect()
    build_warehouse(connection, people=5, followups=True)
    token = connection.execute(
        "SELECT record_token FROM staging.shelter WHERE record_kind = 'episode' LIMIT 1"
    ).fetchone()[0]
    survivor = connection.execute(
        "SELECT survivor_id FROM linkage.memberships WHERE record_token = ?", [token]
    ).fetchone()[0]
    economic = [i for i in config.indicators if i.dimension == "economic"]
    social = [i for i in config.indicators if i.dimension == "social"]
    first, second = economic[0], social[0]
    top = config.scales[first.scale][-1].value  # the highest option
    bottom = config.scales[second.scale][0].value  # the lowest option
    connection.execute(
        f"INSERT INTO staging.shelter (record_token, record_kind, source_row, contact_date, "  # noqa: S608 - codes from the config
        f"batch_id, agency_id, source_type, loaded_at, services, {first.code}, {second.code}) "
        "VALUES ('f0', 'followup', 9999, ?, 'b-hand', 'shelter-1', 'shelter', ?, [], ?, ?)",
        [dt.date(2024, 5, 1), dt.datetime(2024, 5, 1, tzinfo=dt.UTC), str(top), str(bottom)],
    )
    connection.execute("INSERT INTO linkage.memberships VALUES ('f0', ?)", [survivor])
    build_core(connection)
    row = connection.execute(
        "SELECT economic_score, social_score, psychosocial_score, composite_score, "
        "answered_count, survivor_id FROM core.followups WHERE record_token = 'f0'"
    ).fetchone()
    # Highest option on a higher-is-better scale = 1, lowest = 0 (flipped when worse).
    expected_economic = 1.0 if first.direction == "higher_is_better" else 0.0
    expected_social = 0.0 if second.direction == "higher_is_better" else 1.0
    weights = config.dimension_weights
    composite = (weights["economic"] * expected_economic + weights["social"] * expected_social) / (
        weights["economic"] + weights["social"]
    )
    assert row[:3] == (pytest.approx(expected_economic), pytest.approx(expected_social), None)
    assert row[3] == pytest.approx(composite)  # 2 of 3 dimensions meet min_dimensions (v1)
    assert row[4:] == (2, survivor)
    connection.close()


def test_core_builds_without_indicator_columns():
    """Older staging without ri_ columns: follow-ups are kept, unscored."""
    connection = duckdb.connect()
    build_warehouse(connection, people=5)
    codes = ", ".join(load_indicator_config("v1").codes)
    for source in ("shelter", "ocmc", "migration"):
        # Names from a fixed tuple and the config: rebuild the table as it was before ri_.
        connection.execute(
            f"CREATE TABLE staging.old_{source} AS SELECT * EXCLUDE ({codes}) "  # noqa: S608
            f"FROM staging.{source}"
        )
        connection.execute(f"DROP TABLE staging.{source}")
        connection.execute(f"ALTER TABLE staging.old_{source} RENAME TO {source}")
    connection.execute(
        "INSERT INTO staging.shelter (record_token, record_kind, source_row, contact_date, "
        "batch_id, agency_id, source_type, loaded_at, services) "
        "VALUES ('f1', 'followup', 9998, DATE '2024-05-01', 'b-x', 'shelter-1', 'shelter', "
        "TIMESTAMPTZ '2024-05-01 00:00:00+00', [])"
    )
    survivor = connection.execute("SELECT min(survivor_id) FROM linkage.memberships").fetchone()
    connection.execute("INSERT INTO linkage.memberships VALUES ('f1', ?)", [survivor[0]])
    build_core(connection)
    assert connection.execute(
        "SELECT answered_count, composite_score FROM core.followups WHERE record_token = 'f1'"
    ).fetchone() == (0, None)
    connection.close()


def test_score_visits_scores_repeated_answer_patterns_and_counts_every_off_scale_answer(caplog):
    """Visits sharing an answer pattern get the same scores as scored one by one; an
    off-scale answer counts as unanswered each time it occurs (one warning with the total)."""
    import pandas as pd

    from pipelines.defs.core.followups import score_visits

    config = load_indicator_config("v1")
    first, second = config.indicators[0], config.indicators[1]
    low = config.scales[first.scale][0]
    answers = pd.DataFrame(
        {
            "record_token": ["a", "b", "c", "d"],
            # A label and its value are one answer; "not-an-answer" is off the scale.
            first.code: [low.label_en, str(low.value), "not-an-answer", "not-an-answer"],
            second.code: [None, None, str(config.scales[second.scale][-1].value), None],
        }
    )
    with caplog.at_level("WARNING"):
        scored = score_visits(answers).set_index("record_token")
    assert "2 follow-up answers were off their scale" in caplog.text
    assert list(scored["answered_count"]) == [1, 1, 1, 0]
    for token, row in answers.set_index("record_token").iterrows():
        clean = {
            first.code: None if row[first.code] == "not-an-answer" else row[first.code],
            second.code: row[second.code],
        }
        expected = dimension_scores(clean, config)
        for dimension in ("economic", "social", "psychosocial"):
            got = scored.loc[token, f"{dimension}_score"]
            if expected[dimension] is None:
                assert pd.isna(got)
            else:
                assert got == pytest.approx(expected[dimension])


def test_score_visits_equals_scoring_each_visit_alone():
    """The column-wise sums give each visit exactly what `dimension_scores` and
    `reintegration_score` give it alone, over random spellings, blanks, missing and
    off-scale answers, and visits answering too few dimensions."""
    import random

    import pandas as pd

    from pipelines.defs.core.followups import score_visits

    config = load_indicator_config("v1")
    rng = random.Random(20261207)

    def spelling(code: str) -> object:
        option = rng.choice(config.scales[config.indicator(code).scale])
        return rng.choice(
            [
                option.value,
                str(option.value),
                option.label_en,
                option.label_ne,
                *option.aliases,
                None,
                float("nan"),
                " ",
                "off-the-scale",
            ]
        )

    codes = list(config.codes)
    visits = [
        {code: spelling(code) for code in rng.sample(codes, rng.randint(0, len(codes)))}
        for _ in range(400)
    ]
    answers = pd.DataFrame(
        [{"record_token": f"v{i}", **visit} for i, visit in enumerate(visits)],
        columns=["record_token", *codes],
    )
    scored = score_visits(answers).set_index("record_token")
    for i, visit in enumerate(visits):
        clean = {c: (None if a == "off-the-scale" else a) for c, a in visit.items()}
        expected = dimension_scores(clean, config)
        row = scored.loc[f"v{i}"]
        for dimension, score in expected.items():
            got = row[f"{dimension}_score"]
            assert (pd.isna(got) and score is None) or got == score, (i, dimension)
        composite = reintegration_score(expected, config)
        got = row["composite_score"]
        assert (pd.isna(got) and composite is None) or got == composite, i
        answered = sum(weighted_answer(c, a, config) is not None for c, a in clean.items())
        assert row["answered_count"] == answered, i
