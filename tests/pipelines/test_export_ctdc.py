"""`pahichan export ctdc`: CTDC layout, k-anonymity over every column, and the analyst view."""

from __future__ import annotations

import csv
import datetime as dt
import random
import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from click.testing import CliRunner

from pipelines.commands.export import (
    ctdc_select_sql,
    ctdc_view_sql,
    export,
    k_anonymise,
)
from schemas.ctdc import CTDC_COLUMNS, to_ctdc_row
from schemas.vocabularies import AGE_BANDS

CORE_SQL = Path(__file__).resolve().parents[2] / "schemas" / "warehouse" / "core.sql"
EXPLOITATION = [
    "sexual_exploitation",
    "forced_labour",
    "servitude",
    "forced_marriage",
    "child_labour",
    "organ_removal",
    "forced_begging",
    None,
]
COUNTRIES = ["IN", "IN", "IN", "NP", "NP", "MY", "SA", "QA", "AE", "KR", "LB", None]


def _survivors_and_episodes(count: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = random.Random(seed)
    survivors, episodes = [], []
    for index in range(count):
        survivor_id = f"S{index:06d}"
        first = dt.date(2019, 1, 1) + dt.timedelta(days=rng.randint(0, 6 * 365))
        visits = rng.choice([1, 1, 1, 2, 2, 3])
        # One story per survivor (as registers tell it), sometimes a second type later.
        stories = [rng.choice(EXPLOITATION)] * 3
        if rng.random() < 0.1:
            stories[2] = rng.choice(EXPLOITATION)
        dates = sorted(first + dt.timedelta(days=rng.randint(0, 400)) for _ in range(visits - 1))
        dates = [first, *dates]
        survivors.append(
            {
                "survivor_id": survivor_id,
                "first_contact_date": first,
                "last_contact_date": dates[-1],
                "sex": rng.choices(["F", "M", "O", None], weights=[75, 20, 3, 2])[0],
                "age_band_at_first_contact": rng.choice([*AGE_BANDS, None]),
                "province_code": "3",
                "district_code": "301",
                "local_level_code": None,
                "records_count": visits,
                "agencies_count": 1,
                "is_returning": False,
            }
        )
        for number, (date, story) in enumerate(zip(dates, stories, strict=False), start=1):
            episodes.append(
                {
                    "episode_id": len(episodes) + 1,
                    "record_token": f"{len(episodes):032x}",
                    "survivor_id": survivor_id,
                    "agency_id": "sh-1",
                    "agency_type": rng.choice(["shelter", "ocmc", "migration"]),
                    "contact_date": date,
                    "exploitation_type": story,
                    "destination_country": rng.choice(COUNTRIES),
                    "episode_number": number,
                    "is_first_episode": number == 1,
                    "is_returning": False,
                }
            )
    return pd.DataFrame(survivors), pd.DataFrame(episodes)


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """A warehouse file with the real core DDL and 900 synthetic survivors."""
    path = tmp_path / "pahichan.duckdb"
    survivors, episodes = _survivors_and_episodes(900, seed=4)
    con = duckdb.connect(str(path))
    con.execute(CORE_SQL.read_text(encoding="utf-8"))
    con.register("new_survivors", survivors)
    con.register("new_episodes", episodes)
    con.execute("INSERT INTO core.survivors BY NAME SELECT * FROM new_survivors")
    con.execute("INSERT INTO core.episodes BY NAME SELECT * FROM new_episodes")
    con.close()
    return path


def _read(path: Path) -> tuple[list[str], pd.DataFrame]:
    with path.open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    return header, pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.mark.parametrize("k", [11, 25])
def test_export_is_k_anonymous_over_every_column(warehouse: Path, tmp_path: Path, k: int) -> None:
    out = tmp_path / "ctdc.csv"
    result = CliRunner().invoke(
        export, ["ctdc", "--warehouse", str(warehouse), "--out", str(out), "--k", str(k)]
    )
    assert result.exit_code == 0, result.output
    header, rows = _read(out)
    assert header == list(CTDC_COLUMNS)
    sizes = rows.groupby(list(rows.columns)).size()
    assert sizes.min() >= k
    summary = result.output.strip().splitlines()[-1]
    match = re.search(r"Exported ([\d,]+) of ([\d,]+) survivors.*: ([\d,]+) suppressed", summary)
    assert match, summary
    exported, total, suppressed = (int(g.replace(",", "")) for g in match.groups())
    assert (exported, total) == (len(rows), 900) and exported + suppressed == total
    # Either the target share (5%) was met, or every generalisation step was needed.
    assert suppressed <= 0.05 * total or "majorityStatus blanked" in summary
    assert suppressed < 0.2 * total
    # What CTDC publishes for: exploitation flags are kept, never generalised away.
    assert set(rows["isForcedLabour"]) >= {"0", "1"}
    assert set(rows["isSexualExploit"]) >= {"0", "1"}
    assert set(rows["citizenship"]) == {"NP"}
    assert (rows["meansOfControlDebtBondage"] == "").all()


def test_without_anonymisation_the_rows_would_be_unique(warehouse: Path) -> None:
    """The test data are risky as they stand, so the export really has work to do."""
    con = duckdb.connect(str(warehouse), read_only=True)
    raw = con.execute(ctdc_select_sql()).df().astype(str)
    con.close()
    sizes = raw.groupby(list(raw.columns)).size()
    assert (sizes < 11).sum() > 50


def test_analyst_view_matches_the_python_layout(warehouse: Path) -> None:
    survivors, episodes = _survivors_and_episodes(900, seed=4)
    con = duckdb.connect(str(warehouse))
    con.execute(ctdc_view_sql())
    view = con.execute("SELECT * FROM ctdc_survivors").df()
    con.close()
    assert list(view.columns) == list(CTDC_COLUMNS)
    assert len(view) == 900
    by_survivor = episodes.sort_values(["survivor_id", "contact_date"]).groupby("survivor_id")
    for position, survivor in enumerate(
        survivors.sort_values("survivor_id").head(200).itertuples()
    ):
        own = by_survivor.get_group(survivor.survivor_id)
        countries = own["destination_country"].dropna()
        expected = to_ctdc_row(
            registration_date=survivor.first_contact_date,
            sex=survivor.sex,
            age_band=survivor.age_band_at_first_contact,
            exploitation_types=own["exploitation_type"].dropna().tolist(),
            destination_country=countries.iloc[0] if len(countries) else None,
            citizenship="NP",
        )
        got = {c: (None if pd.isna(v) else v) for c, v in view.iloc[position].items()}
        assert got == expected, survivor.survivor_id


def test_generalisation_blanks_rare_values_before_suppressing() -> None:
    frame = pd.DataFrame(
        [{"CountryOfExploitation": "IN", "ageBroad": "9--17"}] * 30
        + [{"CountryOfExploitation": None, "ageBroad": "9--17"}] * 12
        + [{"CountryOfExploitation": "KR", "ageBroad": "9--17"}] * 2  # a rare country
    )
    result = k_anonymise(frame, k=11, max_suppressed=0.0)
    assert result.suppressed == 0 and len(result.rows) == 44
    assert result.rows["CountryOfExploitation"].isna().sum() == 14
    assert result.steps == ("countries of exploitation with fewer than k survivors blanked",)
    alone = k_anonymise(pd.DataFrame([{"a": 1}] * 11 + [{"a": 2}]), k=11, max_suppressed=0.0)
    assert alone.suppressed == 1 and set(alone.rows["a"]) == {1}


def test_export_refuses_to_write_rows_below_k(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broken anonymiser (here: none at all) cannot get a file out: the shared checker
    stops the export before anything is written."""
    import pipelines.commands.export as export_module

    def no_anonymisation(frame: pd.DataFrame, k: int, max_suppressed: float):
        return export_module.Anonymised(frame, len(frame), 0, ())

    monkeypatch.setattr(export_module, "k_anonymise", no_anonymisation)
    out = tmp_path / "ctdc.csv"
    result = CliRunner().invoke(
        export, ["ctdc", "--warehouse", str(warehouse), "--out", str(out), "--k", "11"]
    )
    print(result.output)
    assert result.exit_code == 1 and "not 11-anonymous" in result.output
    assert not out.exists() and "Traceback" not in result.output


def test_bad_warehouse_is_a_clear_message(tmp_path: Path) -> None:
    out = tmp_path / "ctdc.csv"
    missing = CliRunner().invoke(
        export, ["ctdc", "--warehouse", str(tmp_path / "none.duckdb"), "--out", str(out)]
    )
    # Cannot open the warehouse: exit 2, as for every warehouse command (issue 16).
    assert missing.exit_code == 2 and "no warehouse" in missing.output
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    result = CliRunner().invoke(export, ["ctdc", "--warehouse", str(empty), "--out", str(out)])
    assert result.exit_code == 1 and "pahichan run" in result.output
    assert "Traceback" not in result.output and not out.exists()


def test_help_has_an_example() -> None:
    for args in (["--help"], ["ctdc", "--help"]):
        result = CliRunner().invoke(export, args)
        assert result.exit_code == 0 and "Example: pahichan export ctdc" in result.output
