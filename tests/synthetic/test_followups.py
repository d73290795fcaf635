"""Reintegration follow-up visits: who, when, and trajectories measured back from the answers.

Scores are computed from the extract text with `schemas.reintegration` (the scoring the
warehouse uses), and compared with each person's true trajectory from `data.people`: a
generator that wrote random answers, or mislabelled the trajectories, fails.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from linkage.encoding import encode_frame
from linkage.encoding.names import canonical_name
from linkage.synthetic import DEFAULT_CONFIG, SOURCE_TYPES, SyntheticData
from schemas.contract import followup_columns
from schemas.reintegration import answers_from_row, dimension_scores, reintegration_score
from schemas.vocabularies import resolve_record_kind

MONTH = 30.4369


@pytest.fixture(scope="module")
def visits(records: pd.DataFrame) -> pd.DataFrame:
    """Follow-up rows with their composite score and months since the person's first contact."""
    kinds = records["record_kind"].map(resolve_record_kind)
    assert kinds.notna().all()
    rows = records[kinds == "followup"].copy()
    first = pd.to_datetime(records[kinds == "episode"].groupby("person_id")["contact_date"].min())
    rows["months"] = (
        pd.to_datetime(rows["contact_date"]) - rows["person_id"].map(first)
    ).dt.days / MONTH
    scores = []
    for row in rows[list(followup_columns())].to_dict("records"):
        answers = {k: (v or None) for k, v in answers_from_row(row).items()}
        scores.append(reintegration_score(dimension_scores(answers)))
    rows["score"] = scores
    return rows.sort_values(["person_id", "contact_date"])


def test_followups_are_mostly_by_shelters_and_the_migration_agency(
    data: SyntheticData, visits: pd.DataFrame
) -> None:
    by_source = visits["source"].value_counts(normalize=True)
    assert by_source["shelter"] + by_source["migration"] > 0.9
    # Each person is followed by one agency, the one recorded as their monitoring agency.
    agencies = visits.groupby("person_id")["source"].agg(["nunique", "first"])
    assert (agencies["nunique"] == 1).all()
    monitoring = data.people.set_index("person_id")["followup_source"]
    assert (agencies["first"] == monitoring.reindex(agencies.index)).all()
    assert set(by_source.index) <= set(SOURCE_TYPES)


def test_followup_rows_are_not_new_cases(visits: pd.DataFrame) -> None:
    for column in (
        "exploitation_type",
        "destination_country",
        "services",
        "referred_from",
        "referred_to",
    ):
        assert (visits[column] == "").all(), column
    answered = (visits[list(followup_columns())] != "").mean(axis=None)
    assert abs(answered - (1 - DEFAULT_CONFIG.answer_missing_rate)) < 0.01


def test_episode_rows_carry_no_answers(episodes: pd.DataFrame) -> None:
    assert (episodes[list(followup_columns())] == "").all(axis=None)
    blank = (episodes["record_kind"] == "").mean()
    assert abs(blank - DEFAULT_CONFIG.episode_kind_blank_rate) < 0.03


def test_trajectory_shares_of_enrolled_persons(data: SyntheticData, visits: pd.DataFrame) -> None:
    people = data.people.set_index("person_id")
    enrolled = people[people["trajectory"] != ""]
    shares = enrolled["trajectory"].value_counts(normalize=True)
    for trajectory, share in DEFAULT_CONFIG.trajectory_shares.items():
        assert abs(shares[trajectory] - share) < 0.04, trajectory
    # Persons with visits are enrolled ones; enrolled persons met near the end have none yet.
    assert set(visits["person_id"]) <= set(enrolled.index)
    seen = people.loc[visits["person_id"].unique(), "trajectory"].value_counts(normalize=True)
    for trajectory, share in DEFAULT_CONFIG.trajectory_shares.items():
        assert abs(seen[trajectory] - share) < 0.05, trajectory


def test_visits_follow_the_schedule_with_attrition(visits: pd.DataFrame) -> None:
    schedule = np.array(DEFAULT_CONFIG.followup_months)
    nearest = schedule[np.abs(visits["months"].to_numpy()[:, None] - schedule).argmin(axis=1)]
    slack = DEFAULT_CONFIG.followup_jitter_days / MONTH + 4.5  # + days to the enrolling agency
    assert (np.abs(visits["months"] - nearest) <= slack).all()
    assert (visits["months"] > 0).all()
    held = pd.Series(nearest).value_counts()
    # Drop-out, missed visits and censoring: fewer visits at each later month.
    counts = [held.get(m, 0) for m in schedule]
    assert all(a > b for a, b in itertools.pairwise(counts)), counts
    assert counts[-1] < 0.6 * counts[0]


def _per_person(visits: pd.DataFrame, data: SyntheticData) -> pd.DataFrame:
    scored = visits.dropna(subset=["score"])
    groups = scored.groupby("person_id")
    early = scored[scored["months"] < 9].groupby("person_id")["score"].max()
    late = scored[scored["months"] >= 11].groupby("person_id")["score"].min()
    summary = pd.DataFrame(
        {
            "count": groups.size(),
            "first": groups["score"].first(),
            "last": groups["score"].last(),
            "span": groups["months"].max() - groups["months"].min(),
            "early_max": early,
            "late_min": late,
        }
    )
    trajectory = data.people.set_index("person_id")["trajectory"]
    return summary.assign(trajectory=trajectory.reindex(summary.index))


def test_scores_follow_each_trajectory(data: SyntheticData, visits: pd.DataFrame) -> None:
    assert visits["score"].notna().mean() > 0.98  # answers are on their scales
    people = _per_person(visits, data)
    long = people[(people["count"] >= 3) & (people["span"] >= 12)]
    change = (long["last"] - long["first"]).groupby(long["trajectory"])
    rises = change.apply(lambda c: (c > 0).mean())
    assert len(long) > 300
    assert rises["improving"] > 0.85
    assert rises["crisis"] < 0.15
    mean_change = change.mean()
    assert mean_change["improving"] > 0.2 and mean_change["crisis"] < -0.15
    assert abs(mean_change["stalling"]) < 0.05
    assert change.apply(lambda c: c.abs().mean())["stalling"] < 0.15
    # A setback: the best score in the first months is well above the worst after a year.
    both = people.dropna(subset=["early_max", "late_min"])
    fell = (both["early_max"] - both["late_min"] > 0.1).groupby(both["trajectory"]).mean()
    assert fell["setback"] > 0.8
    assert fell["improving"] < 0.15


def test_followup_rows_link_like_episodes(records: pd.DataFrame, visits: pd.DataFrame) -> None:
    """Names on follow-up rows are written with the same variants, scripts and typos."""

    def exact_share(rows: pd.DataFrame) -> float:
        return float(
            np.mean(
                [
                    canonical_name(g) in {canonical_name(t), canonical_name(n)}
                    for g, t, n in zip(
                        rows["given_name"],
                        rows["true_given_name"],
                        rows["true_given_name_ne"],
                        strict=True,
                    )
                ]
            )
        )

    episodes = records.loc[~records.index.isin(visits.index)]
    assert abs(exact_share(visits) - exact_share(episodes)) < 0.04
    shelter = visits[visits["source"] == "shelter"]
    share = shelter["given_name"].str.contains(r"[\u0900-\u097f]").mean()
    assert abs(share - DEFAULT_CONFIG.devanagari_rate["shelter"]) < 0.04


def test_encoder_accepts_every_followup_row(data: SyntheticData) -> None:
    for source, frame in data.extracts.items():
        batch = encode_frame(frame.head(1500), secret=bytes(32), agency_id="t", source_type=source)
        columns = {r.column for r in batch.rejects}
        assert not columns & {"record_kind", *followup_columns()}, source
