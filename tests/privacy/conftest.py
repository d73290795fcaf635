"""A small linked, encrypted, published warehouse built once per test module.

Two agencies (a shelter and an OCMC) send batches of synthetic people encoded with the
matching tests' keyed fake encoder (real Bloom-filter shapes, random-looking tokens); half
of the people are seen by both, so the linkage clusters records across agencies. A linkage
model trained on a separate synthetic population is stored in the warehouse first (the
pipeline would otherwise train on too few records). Then `run_pipeline` runs as
`pahichan run` does: load, link, core, marts, publish, with the warehouse encrypted at rest.
"""

from __future__ import annotations

import dataclasses
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pytest

from linkage.encoding.keyed import encoder_for
from pipelines.resources import resources_from_env
from tests.agency_signing import register_test_agencies
from tests.matching.fake_encoder import encode_records
from tests.matching.people import people, record
from tests.pipelines.conftest import TEST_KEY_ID, write_batch

WAREHOUSE_KEY = "5f" * 32
# The agencies' linkage secret: record tokens are the real encoder's (so the agency-side
# withdrawal tool finds them); the other encodings come from the fake encoder.
SECRET = bytes(range(40, 72))
FILTER_COLUMNS = ("given_name_bf", "family_name_bf", "father_name_bf", "full_name_bf")
TOKEN_COLUMNS = (
    "record_token",
    "given_name_key",
    "family_name_key",
    "full_name_key",
    "name_set_key",
    "birth_year_token",
    "birth_date_token",
    "sex_token",
    "district_token",
    "ward_token",
    "citizenship_token",
    "passport_token",
    "phone_token",
)
TOKEN_LIST_COLUMNS = ("citizenship_edit_tokens", "passport_edit_tokens")


@dataclass
class World:
    """Paths, resources and the secrets (tokens, filters) that went into the warehouse."""

    root: Path
    inbox: Path
    warehouse: Path
    key_file: Path
    publish_dir: Path
    resources: dict[str, Any]
    first_run: Any
    tokens: set[str] = field(default_factory=set)
    filters: set[bytes] = field(default_factory=set)
    # person_id -> {agency_id: (record_id, record_token)}
    persons: dict[int, dict[str, tuple[str, str]]] = field(default_factory=dict)
    snapshot: Path | None = None  # copy of the warehouse file right after the first run

    def connect(self) -> Any:
        return self.resources["warehouse"].connect()


def _train_model_json() -> str:
    import linkage.matching as lm

    rng = random.Random(5)
    persons = people(300, seed=5)
    first = [record(p, f"a{p['person_id']}", rng, noisy=False) for p in persons]
    second = [record(p, f"b{p['person_id']}", rng) for p in persons if p["person_id"] % 2 == 0]
    con = duckdb.connect()
    for batch_id, records in (("t1", first), ("t2", second)):
        lm.add_records(
            con,
            encode_records(records),
            batch_id=batch_id,
            source_type="shelter",
            agency_id="T",
            key_id="training",
        )
    model = lm.train_model(con)
    con.close()
    return dataclasses.replace(model, key_id=TEST_KEY_ID).to_json()


@pytest.fixture(scope="session")
def model_json() -> str:
    return _train_model_json()


def add_missing_staging_columns(con: duckdb.DuckDBPyConnection) -> None:
    """Create the ingest tables; staging is generated from the batch definition, so it has
    every batch column (`ri_*` included) and nothing is left to add."""
    from pipelines.defs.ingest.warehouse import ensure_ingest_schema

    ensure_ingest_schema(con)


def write_inbox(inbox: Path, world: World | None = None, people_count: int = 60) -> None:
    """Two agencies' batches of `people_count` synthetic people (half seen by both)."""
    rng = random.Random(11)
    persons = people(people_count, seed=11)
    batches = {
        ("shelter", "shelter-a"): [
            record(p, f"s{p['person_id']}", rng, noisy=False) for p in persons
        ],
        ("ocmc", "ocmc-b"): [
            record(p, f"o{p['person_id']}", rng) for p in persons if p["person_id"] % 2 == 0
        ],
    }
    encoder = encoder_for(SECRET)
    for (source_type, agency_id), records in batches.items():
        rows = encode_records(records, agency_id=agency_id).to_pylist()
        for clear, row in zip(records, rows, strict=True):
            row["record_token"] = encoder.record_token(agency_id, clear["record_id"])
            if world is not None:
                world.persons.setdefault(clear["person_id"], {})[agency_id] = (
                    clear["record_id"],
                    row["record_token"],
                )
                world.tokens.update(row[c] for c in TOKEN_COLUMNS if row[c])
                world.tokens.update(t for c in TOKEN_LIST_COLUMNS for t in row[c] or ())
                world.filters.update(row[c] for c in FILTER_COLUMNS if row[c])
        write_batch(
            inbox,
            source_type=source_type,
            agency_id=agency_id,
            batch_id=f"{agency_id}-000000000001",
            rows=rows,
        )


def seed_model(warehouse: Any, model_json: str) -> None:
    """Store the model and register the test agencies' signing keys in the warehouse (and add
    staging columns the DDL may lack)."""
    from linkage.matching import TrainedModel, ensure_linkage_schema
    from linkage.matching.store import save_model_row

    model = TrainedModel.from_json(model_json)
    with warehouse.connect() as con:
        ensure_linkage_schema(con)
        add_missing_staging_columns(con)
        save_model_row(con, model.model_version, model.trained_at, TEST_KEY_ID, model_json)
        register_test_agencies(con)


def build_world(root: Path, model_json: str) -> World:
    """Write the inbox, seed the model, run the pipeline once; returns the world."""
    from pipelines.commands.run import run_pipeline

    inbox, publish_dir = root / "inbox", root / "published"
    key_file = root / "warehouse.key"
    key_file.write_text(WAREHOUSE_KEY + "\n", encoding="ascii")
    warehouse = root / "warehouse" / "pahichan.duckdb"
    resources = resources_from_env(
        {},
        inbox=str(inbox),
        warehouse=str(warehouse),
        publish_dir=str(publish_dir),
        warehouse_key_file=str(key_file),
    )
    world = World(root, inbox, warehouse, key_file, publish_dir, resources, None)
    write_inbox(inbox, world)
    seed_model(resources["warehouse"], model_json)
    world.first_run = run_pipeline(resources)
    assert not world.first_run.failed_steps, world.first_run.failed_steps
    world.snapshot = root / "snapshot.duckdb"
    shutil.copyfile(warehouse, world.snapshot)
    return world


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory, model_json: str) -> World:
    return build_world(tmp_path_factory.mktemp("world"), model_json)
