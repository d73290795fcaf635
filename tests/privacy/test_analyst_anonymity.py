"""analyst.duckdb singles nobody out: the re-identification attack on the whole history.

The attacker knows some facts about a survivor (district, sex, age band, when she came,
where she was taken, which agencies she went to) and has analyst.duckdb. She joins every
table on survivor_id and looks for the rows that fit. The attack here is written from the
file alone (every column but the random ids and the sensitive columns), independently of
the anonymiser and of the checker: each survivor's whole history (own row + episodes +
each episode's referrals) must be shared by at least k = 5 survivors.
"""

from __future__ import annotations

import json
from collections import Counter
from itertools import combinations
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines.defs.core.build import build_core
from pipelines.defs.marts.build import build_marts
from pipelines.defs.publish import build as publish_build
from tests.pipelines.warehouse_fixtures import build_warehouse

K = 5
PEOPLE = 600
# What the attacker cannot use: random join keys, and what outsiders do not know.
NOT_KNOWN = {"survivor_id", "episode_id", "is_confirmed"}


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("publish")
    con = duckdb.connect()
    build_warehouse(con, people=PEOPLE, span_days=640)
    build_core(con)
    build_marts(con)
    publish_build.publish(con, folder, K, run_id="attack")
    yield con, folder
    con.close()


def _read(path: Path) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(path), read_only=True) as reader:
        return {
            t: reader.execute(f"SELECT * FROM {t}").df()  # noqa: S608 - fixed names
            for t in ("survivors", "episodes", "referrals")
        }


def _key(frame: pd.DataFrame) -> pd.Series:
    known = [c for c in frame.columns if c not in NOT_KNOWN]
    values = frame[known].astype(object).where(frame[known].notna(), None)
    return pd.Series(
        [json.dumps(row, default=str) for row in values.itertuples(index=False)], index=frame.index
    )


def attacker_histories(path: Path) -> pd.Series:
    """Per survivor_id: her whole known history as one string (episode order ignored)."""
    tables = _read(path)
    referrals = tables["referrals"].assign(key=_key(tables["referrals"]))
    per_episode = referrals.groupby("episode_id")["key"].agg(lambda k: sorted(k))
    episodes = tables["episodes"].assign(key=_key(tables["episodes"]))
    episodes["key"] = [
        json.dumps([k, per_episode.get(e, [])])
        for k, e in zip(episodes["key"], episodes["episode_id"], strict=True)
    ]
    per_survivor = episodes.groupby("survivor_id")["key"].agg(lambda k: sorted(k))
    survivors = tables["survivors"].assign(key=_key(tables["survivors"]))
    return pd.Series(
        [
            json.dumps([k, per_survivor.get(s, [])])
            for k, s in zip(survivors["key"], survivors["survivor_id"], strict=True)
        ],
        index=survivors["survivor_id"],
    )


def test_attack_singles_out_no_survivor_by_her_whole_history(published) -> None:
    _, folder = published
    histories = attacker_histories(folder / "analyst.duckdb")
    sizes = histories.map(histories.value_counts())
    unique = int((sizes == 1).sum())
    print(
        f"{len(sizes)} survivors; {unique} unique ({unique / len(sizes):.0%}), "
        f"{int((sizes < K).sum())} in classes below {K}; smallest class {sizes.min()}"
    )
    assert len(sizes) > 0.9 * PEOPLE  # the file still holds nearly everyone
    assert sizes.min() >= K


def test_attack_with_two_known_episodes_finds_k_candidates(published) -> None:
    """The attack "she came back from Saudi Arabia in 2023 and was at an OCMC in 2024":
    any two of a survivor's episodes (period, destination, agency type, place) fit >= k
    survivors."""
    _, folder = published
    episodes = _read(folder / "analyst.duckdb")["episodes"]
    period = "contact_period" if "contact_period" in episodes else "contact_month"  # old name
    fields = [
        period,
        "destination_country",
        "agency_type",
        "district_code",
        "province_code",
        "exploitation_type",
    ]
    fact = episodes[fields].astype(object).where(episodes[fields].notna(), None)
    episodes = episodes.assign(fact=[json.dumps(list(r)) for r in fact.itertuples(index=False)])
    pairs: Counter[tuple[str, str]] = Counter()
    own: dict[str, set[tuple[str, str]]] = {}
    for survivor_id, facts in episodes.groupby("survivor_id")["fact"]:
        mine = {tuple(sorted(p)) for p in combinations(facts, 2)}
        own[survivor_id] = mine
        pairs.update(mine)
    fewest = min((pairs[p] for mine in own.values() for p in mine), default=K)
    print(
        f"{sum(len(m) for m in own.values())} known episode pairs; fewest fitting "
        f"survivors: {fewest}"
    )
    assert fewest >= K


def test_checker_agrees_with_the_attack(published) -> None:
    from pipelines.anonymity import survivor_class_sizes

    _, folder = published
    histories = attacker_histories(folder / "analyst.duckdb")
    attack = histories.map(histories.value_counts())
    with duckdb.connect(str(folder / "analyst.duckdb"), read_only=True) as reader:
        checked = survivor_class_sizes(reader).set_index("survivor_id")["class_size"]
        summary = reader.execute("SELECT * FROM anonymity_summary").df().iloc[0]
    assert checked.sort_index().tolist() == attack.sort_index().tolist()
    assert summary["smallest_class"] == attack.min() >= summary["k"] == K
    assert summary["survivors_published"] == len(attack)
    assert summary["survivors_published"] + summary["survivors_left_out"] == PEOPLE


def test_publish_refuses_a_file_below_k_and_keeps_the_old_ones(published, tmp_path, monkeypatch):
    import pipelines.anonymity.anonymiser as anonymiser
    from pipelines.anonymity import KAnonymityError

    con, _ = published
    publish_build.publish(con, tmp_path, K, run_id="good")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    # A broken anonymiser: no coarsening, no suppression (the old analyst file).
    monkeypatch.setattr(
        anonymiser,
        "choose_levels",
        lambda search, policy: ({d: 0 for d in anonymiser.DIMENSION_NAMES}, ()),
    )
    monkeypatch.setattr(
        anonymiser,
        "suppress_locally",
        lambda search, levels: pd.Series(0, index=search.survivor_index),
    )
    with pytest.raises(KAnonymityError, match="not 5-anonymous"):
        publish_build.publish(con, tmp_path, K, run_id="bad")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    assert ("bad",) not in con.execute("SELECT run_id FROM ops.publications").fetchall()


def test_the_file_check_runs_on_what_is_written(published, tmp_path, monkeypatch):
    """Even when the in-memory check is bypassed, the written file is checked before it
    replaces the old one."""
    import pipelines.defs.publish.analyst as analyst
    from pipelines.anonymity import KAnonymityError

    con, _ = published
    release = analyst.prepare_analyst(con, analyst.analyst_policy(K))
    tables = dict(release.anonymised.tables)
    survivors = tables["survivors"].copy()
    survivors.loc[0, "sex"] = "X"  # one survivor made unique after the check
    tables["survivors"] = survivors
    tampered = analyst.AnalystRelease(
        analyst.AnonymisedTables(tables, release.anonymised.report), release.check
    )
    monkeypatch.setattr(publish_build, "prepare_analyst", lambda con, policy: tampered)
    with pytest.raises(KAnonymityError):
        publish_build.publish(con, tmp_path, K, run_id="tampered")
    # The analyst file is checked before either file is replaced: no public file either.
    assert not (tmp_path / "analyst.duckdb").exists()
    assert not (tmp_path / "public.duckdb").exists()
    assert not any(p.name.endswith(".tmp") for p in tmp_path.iterdir())


def _tiny(con: duckdb.DuckDBPyConnection, episodes: list[tuple]) -> None:
    """Two survivors with identical own rows; `episodes` as (episode_id, survivor_id, period,
    agency)."""
    con.execute(
        "CREATE TABLE survivors AS SELECT * FROM (VALUES ('a', 'F', '18-24', '3', "
        "NULL, '2024', false), ('b', 'F', '18-24', '3', NULL, '2024', false)) AS t("
        "survivor_id, sex, age_band, province_code, district_code, "
        "first_contact_period, is_returning)"
    )
    con.execute(
        "CREATE TABLE episodes (episode_id BIGINT, survivor_id VARCHAR, contact_period "
        "VARCHAR, agency_type VARCHAR, province_code VARCHAR, district_code VARCHAR, "
        "age_band VARCHAR, exploitation_type VARCHAR, destination_country VARCHAR, "
        "is_first_episode BOOLEAN, is_returning BOOLEAN)"
    )
    con.executemany(
        "INSERT INTO episodes (episode_id, survivor_id, contact_period, agency_type) "
        "VALUES (?, ?, ?, ?)",
        episodes,
    )
    con.execute(
        "CREATE TABLE services (episode_id BIGINT, survivor_id VARCHAR, "
        "service_code VARCHAR, service_tier VARCHAR)"
    )
    con.execute(
        "CREATE TABLE referrals (episode_id BIGINT, survivor_id VARCHAR, contact_period "
        "VARCHAR, direction VARCHAR, from_agency_type VARCHAR, to_agency_type VARCHAR, "
        "is_confirmed BOOLEAN)"
    )


def test_checker_counts_the_episode_set_not_the_survivor_row() -> None:
    from pipelines.anonymity import check_analyst_k_anonymity

    con = duckdb.connect()
    # Same own rows, same episodes in another order: one class of 2.
    _tiny(
        con,
        [
            (1, "a", "2024", "ocmc"),
            (2, "a", "2024", "shelter"),
            (3, "b", "2024", "shelter"),
            (4, "b", "2024", "ocmc"),
        ],
    )
    assert check_analyst_k_anonymity(con, 2).smallest_class == 2
    # One episode differs (or is missing): each survivor is alone.
    con.execute("UPDATE episodes SET agency_type = 'migration' WHERE episode_id = 4")
    assert check_analyst_k_anonymity(con, 2).unique_survivors == 2
    con.execute("UPDATE episodes SET agency_type = 'ocmc' WHERE episode_id = 4")
    con.execute(
        "INSERT INTO referrals VALUES (1, 'a', '2024', 'outgoing', 'ocmc', 'police', true)"
    )  # a referral is part of the history too
    assert check_analyst_k_anonymity(con, 2).unique_survivors == 2


def test_checker_refuses_an_unclassified_column() -> None:
    from pipelines.anonymity import KAnonymityError, check_analyst_k_anonymity

    con = duckdb.connect()
    _tiny(con, [(1, "a", "2024", "ocmc"), (2, "b", "2024", "ocmc")])
    con.execute("ALTER TABLE episodes ADD COLUMN caste_ethnicity VARCHAR")
    with pytest.raises(KAnonymityError, match="not classified"):
        check_analyst_k_anonymity(con, 2)


def _base(people: list[dict]) -> dict[str, pd.DataFrame]:
    """Anonymiser input: one episode per survivor, no services or referrals."""
    survivors, episodes = [], []
    for number, person in enumerate(people, start=1):
        survivor_id = f"S{number:04d}"
        date = pd.Timestamp(person["date"])
        survivors.append(
            {
                "survivor_id": survivor_id,
                "sex": "F",
                "age_band": "18-24",
                "province_code": "3",
                "district_code": person["district"],
                "first_contact_period": date,
                "is_returning": False,
            }
        )
        episodes.append(
            {
                "episode_id": number,
                "survivor_id": survivor_id,
                "contact_period": date,
                "agency_type": "shelter",
                "province_code": "3",
                "district_code": person["district"],
                "age_band": "18-24",
                "exploitation_type": "forced_labour",
                "destination_country": "IN",
                "is_first_episode": True,
                "is_returning": False,
            }
        )
    return {
        "survivors": pd.DataFrame(survivors),
        "episodes": pd.DataFrame(episodes),
        "services": pd.DataFrame(
            columns=["episode_id", "survivor_id", "service_code", "service_tier"]
        ),
        "referrals": pd.DataFrame(
            columns=[
                "episode_id",
                "survivor_id",
                "direction",
                "from_agency_type",
                "to_agency_type",
                "is_confirmed",
            ]
        ),
    }


def test_anonymiser_coarsens_only_what_it_must() -> None:
    """Common histories keep every detail; one rare survivor is suppressed, not everyone's
    data coarsened for her sake."""
    from pipelines.anonymity import AnonymityPolicy, anonymise

    common = [
        {"district": d, "date": "2024-03-05"} for d in ("301", "302", "303") for _ in range(20)
    ]
    result = anonymise(
        _base([*common, {"district": "304", "date": "2021-07-01"}]), AnonymityPolicy(K)
    )
    report = result.report
    assert set(report.levels.values()) == {
        "month",
        "district",
        "country",
        "age_band",
        "htcds_type",
        "agency_type",
        "sex",
    }
    assert report.survivors_left_out == 1 and report.survivors_published == 60
    assert set(result.tables["survivors"]["district_code"]) == {"301", "302", "303"}
    assert set(result.tables["episodes"]["contact_period"]) == {"2024-03"}


def test_anonymiser_coarsens_when_every_class_is_small() -> None:
    """36 survivors, three per month (below k): months become quarters (nine per class),
    not years, and nobody is suppressed."""
    from pipelines.anonymity import AnonymityPolicy, anonymise

    people = [
        {"district": "301", "date": f"2024-{month:02d}-10"}
        for month in range(1, 13)
        for _ in range(3)
    ]
    result = anonymise(_base(people), AnonymityPolicy(K))
    assert result.report.levels["period"] == "quarter"
    assert set(result.tables["episodes"]["contact_period"]) == {f"2024-Q{q}" for q in range(1, 5)}
    assert result.report.survivors_left_out == 0 and result.report.qi_values_suppressed == 0
