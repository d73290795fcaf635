"""Reader files: no tokens, no small counts, nothing recoverable, atomic and reproducible."""

from __future__ import annotations

import stat
import time

import duckdb
import pandas as pd
import pytest

from pipelines.defs.core.build import build_core
from pipelines.defs.marts.build import build_marts
from pipelines.defs.publish import build as publish_build
from pipelines.disclosure import find_recoverable_cells
from tests.pipelines.warehouse_fixtures import build_warehouse

THRESHOLD = 5


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    folder = tmp_path_factory.mktemp("publish")
    con = duckdb.connect()
    secrets = build_warehouse(con, people=40, span_days=200, followups=True)
    build_core(con)
    build_marts(con)
    publish_build.publish(con, folder, THRESHOLD, run_id="run-1")
    yield con, folder, secrets
    con.close()


def _tables(path):
    with duckdb.connect(str(path), read_only=True) as reader:
        names = [r[0] for r in reader.execute("SHOW TABLES").fetchall()]
        return {n: reader.execute(f"SELECT * FROM {n}").df() for n in names}  # noqa: S608


@pytest.mark.parametrize("file", ["public.duckdb", "analyst.duckdb"])
def test_no_token_bloom_filter_or_record_token(published, file):
    _, folder, secrets = published
    forbidden = secrets.tokens | secrets.record_tokens | secrets.batch_ids
    for name, frame in _tables(folder / file).items():
        for column in frame.columns:
            assert not column.endswith(("_bf", "_key", "_token", "_tokens")), (name, column)
            assert column not in ("record_token", "batch_id", "agency_id")
            values = set(frame[column].dropna().map(str))
            assert not values & forbidden, (name, column)
            assert not any(isinstance(v, bytes | bytearray) for v in frame[column].dropna())


def test_public_has_the_section_4_tables(published):
    _, folder, _ = published
    assert set(_tables(folder / "public.duckdb")) == {
        "survivor_statistics",
        "service_statistics",
        "referral_statistics",
        "quality_statistics",
        "quarantine_reasons",
        "reintegration_statistics",
        "followup_coverage",
        "geography",
        "publication",
        "published_grid",
    }


def test_no_published_count_below_threshold(published):
    _, folder, _ = published
    for name, frame in _tables(folder / "public.duckdb").items():
        if "value" in frame and name != "geography":
            counts = frame[
                frame.get("measure", pd.Series("", index=frame.index)) != "mean_score_pct"
            ]
            values = counts["value"].dropna()
            assert not ((values >= 1) & (values < THRESHOLD)).any(), name
            assert (frame["value"].isna() == frame["is_suppressed"]).all()


# followup_coverage is published for the nation and provinces by year only: this fixture
# has no cell of it to hide (the joint attack tests cover it with the other tables).
@pytest.mark.parametrize(
    "kind",
    [
        "survivor_statistics",
        "service_statistics",
        "referral_statistics",
        "quality_statistics",
        "reintegration_statistics",
    ],
)
def test_auditor_recovers_nothing(published, kind):
    con, folder, _ = published
    public = _tables(folder / "public.duckdb")[kind]
    mart = con.execute(f"SELECT * FROM marts.{kind}").df()  # noqa: S608
    if kind == "reintegration_statistics":  # means are not counts: checked on their own
        public = public[public["measure"] != "mean_score_pct"]
        mart = mart[mart["measure"] != "mean_score_pct"]
    # Not vacuous: something is hidden, or left out with its sparse slice (grid.dense_slices).
    assert public["is_suppressed"].any() or len(public) < len(mart)
    assert find_recoverable_cells(public, mart, kind, threshold=THRESHOLD).empty


def test_publish_twice_gives_identical_contents(published, tmp_path):
    con, folder, _ = published
    publish_build.publish(con, tmp_path, THRESHOLD, run_id="run-2")
    for file in ("public.duckdb", "analyst.duckdb"):
        first, second = _tables(folder / file), _tables(tmp_path / file)
        first.pop("publication", None)
        second.pop("publication", None)
        for name in first:
            assert first[name].equals(second[name]), (file, name)


def test_crash_mid_publish_keeps_previous_file(published, tmp_path, monkeypatch):
    con, _, _ = published
    publish_build.publish(con, tmp_path, THRESHOLD, run_id="good")
    before = (tmp_path / "public.duckdb").read_bytes()
    analyst_before = (tmp_path / "analyst.duckdb").read_bytes()

    def crash(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(publish_build, "_comment", crash)
    with pytest.raises(RuntimeError):
        publish_build.publish(con, tmp_path, THRESHOLD, run_id="bad")
    assert (tmp_path / "public.duckdb").read_bytes() == before
    assert (tmp_path / "analyst.duckdb").read_bytes() == analyst_before
    assert [p.name for p in tmp_path.iterdir()] and not any(
        p.name.endswith(".tmp") for p in tmp_path.iterdir()
    )
    rows = con.execute("SELECT run_id FROM ops.publications").fetchall()
    assert ("bad",) not in rows


def test_a_failed_protection_leaves_the_written_analyst_file_out(published, tmp_path, monkeypatch):
    """The analyst file is written while the public file is protected; when the protection
    fails, its temp file is removed and neither file is replaced."""
    con, _, _ = published
    publish_build.publish(con, tmp_path, THRESHOLD, run_id="good")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    public_tables = publish_build.public_tables

    def failing(*args, **kwargs):
        public_tables(*args, **kwargs)
        _wait_for_analyst_temp(tmp_path)
        raise RuntimeError("protection failed")

    monkeypatch.setattr(publish_build, "public_tables", failing)
    with pytest.raises(RuntimeError, match="protection failed"):
        publish_build.publish(con, tmp_path, THRESHOLD, run_id="bad")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_the_analyst_temp_file_is_private_until_it_is_in_place(published, tmp_path, monkeypatch):
    """Written early (beside the protection), the analyst file waits owner-only; it gets the
    reader mode only when it is moved into place."""
    con, _, _ = published
    public_tables = publish_build.public_tables
    modes = []

    def watching(*args, **kwargs):
        tables = public_tables(*args, **kwargs)
        modes.append(stat.S_IMODE(_wait_for_analyst_temp(tmp_path).stat().st_mode))
        return tables

    monkeypatch.setattr(publish_build, "public_tables", watching)
    publish_build.publish(con, tmp_path, THRESHOLD, run_id="private", file_mode=0o644)
    assert modes == [0o600]
    assert stat.S_IMODE((tmp_path / "analyst.duckdb").stat().st_mode) == 0o644


def _wait_for_analyst_temp(folder, seconds: float = 60.0):
    """The analyst side's temp file, once it is complete (its writer has closed it)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        temps = [p for p in folder.glob(".analyst.duckdb.*.tmp")]
        if temps and not list(folder.glob(".analyst.duckdb.*.tmp.wal")):
            try:
                duckdb.connect(str(temps[0]), read_only=True).close()
            except duckdb.Error:
                pass  # still being written
            else:
                return temps[0]
        time.sleep(0.05)
    raise AssertionError("the analyst side wrote no temp file")


def test_analyst_file_has_ctdc_view(published):
    _, folder, _ = published
    with duckdb.connect(str(folder / "analyst.duckdb"), read_only=True) as reader:
        survivors = reader.execute("SELECT count(*) FROM survivors").fetchone()[0]
        view = reader.execute("SELECT * FROM ctdc_survivors").df()
        first_years = reader.execute(
            "SELECT left(first_contact_period, 4) FROM survivors ORDER BY survivor_id"
        ).fetchall()
    assert len(view) == survivors > 0
    # The view reads the file's own (coarsened, partly suppressed) periods.
    assert [None if pd.isna(y) else str(y) for y in view["yearOfRegistration"]] == [
        y[0] for y in first_years
    ]


def test_means_only_where_their_count_is_published(published):
    _, folder, _ = published
    frame = _tables(folder / "public.duckdb")["reintegration_statistics"]
    keys = ["period_type", "period", "geo_code", "dimension", "category", "score_dimension"]
    means = frame[frame["measure"] == "mean_score_pct"]
    counts = frame[frame["measure"] == "survivors_scored"][[*keys, "value"]]
    joined = means.merge(counts, on=keys, suffixes=("", "_count"))
    assert len(joined) == len(means) > 0
    shown = joined["value"].notna()
    assert (joined.loc[shown, "value_count"] >= THRESHOLD).all()
    assert joined.loc[joined["value_count"].isna(), "value"].isna().all()
