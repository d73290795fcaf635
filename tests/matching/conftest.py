"""Fixtures: a model trained once per session (it is data), fresh DuckDB per test."""

from __future__ import annotations

import random

import duckdb
import pytest

import linkage.matching as lm
from linkage.matching.spec import LinkageSettings, TrainedModel
from tests.matching.fake_encoder import encode_records
from tests.matching.people import people, record

KEY_ID = "test-key-1"
# The fake encoder's filters are not hardened (~15% of bits set, unrelated names Dice ~0.2),
# so the Dice levels of plain filters apply, not the defaults tuned for hardened ones.
PLAIN_FILTER_SETTINGS = LinkageSettings(
    dice_high=0.85, dice_low=0.7, father_dice=0.8, full_name_dice=0.8
)


def load(con: duckdb.DuckDBPyConnection, records: list[dict], batch_id: str, **kw) -> int:
    return lm.add_records(
        con,
        encode_records(records, encoding=kw.get("encoding", 1)),
        batch_id=batch_id,
        source_type=kw.get("source_type", "shelter"),
        agency_id=kw.get("agency_id", "A1"),
        key_id=kw.get("key_id", KEY_ID),
    )


@pytest.fixture(scope="session")
def population() -> dict[str, list[dict]]:
    """Batch 1: one clean record per person; batch 2: noisy duplicates of half of them."""
    rng = random.Random(5)
    persons = people(300, seed=5)
    first = [record(p, f"a{p['person_id']}", rng, noisy=False) for p in persons]
    second = [record(p, f"b{p['person_id']}", rng) for p in persons if p["person_id"] % 2 == 0]
    return {"batch1": first, "batch2": second}


@pytest.fixture(scope="session")
def model_json(population: dict[str, list[dict]]) -> str:
    con = duckdb.connect()
    load(con, population["batch1"], "b1")
    load(con, population["batch2"], "b2")
    trained = lm.train_model(con, settings=PLAIN_FILTER_SETTINGS)
    leftovers = con.execute(
        "SELECT list(table_name) FROM duckdb_tables() WHERE starts_with(table_name, '__splink')"
    ).fetchone()[0]
    assert not leftovers, f"training left Splink working tables: {leftovers}"
    return trained.to_json()


@pytest.fixture
def model(model_json: str) -> TrainedModel:
    return TrainedModel.from_json(model_json)


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute("SET threads = 2")
    lm.ensure_linkage_schema(connection)
    yield connection
    connection.close()
