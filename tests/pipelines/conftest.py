"""Fixtures and synthetic batch writers for the pipeline tests.

Batches follow docs/interfaces.md section 2 with random hex tokens and random 128-byte
filters: the pipeline stages check shapes and codes, so no encoder (and no key) is needed.
Everything is seeded and deterministic. Test modules import the writers from here
(`from tests.pipelines.conftest import write_batch`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from linkage.encoding.schema import BATCH_SCHEMA
from linkage.encoding.signing import sign_manifest
from pipelines.resources import resources_from_env
from tests.agency_signing import register_test_agencies, signing_key_for

TEST_KEY_ID = "pk1-0123456789abcdef"
DISTRICTS = ("101", "102", "103")
LOCAL_LEVELS = {"101": "10101", "102": "10201", "103": "10301"}


def _hex(rng: random.Random, chars: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(chars))


def make_rows(count: int, *, seed: int = 1) -> list[dict[str, Any]]:
    """`count` valid batch rows (dicts with every section-2 column)."""
    rng = random.Random(seed)
    rows = []
    for index in range(1, count + 1):
        district = rng.choice(DISTRICTS)
        yob = rng.randint(1970, 2008)
        rows.append(
            {
                "record_token": _hex(rng, 32),
                "record_kind": "episode",
                "source_row": index,
                "given_name_bf": rng.randbytes(128),
                "family_name_bf": rng.randbytes(128),
                "father_name_bf": rng.randbytes(128) if rng.random() < 0.5 else None,
                "full_name_bf": rng.randbytes(128),
                "given_name_key": _hex(rng, 16),
                "family_name_key": _hex(rng, 16),
                "full_name_key": _hex(rng, 16),
                "birth_year_token": _hex(rng, 16),
                "birth_year_pm1_tokens": [_hex(rng, 16) for _ in range(3)],
                "birth_year_pm2_tokens": [_hex(rng, 16) for _ in range(5)],
                "birth_date_token": None,
                "sex_token": _hex(rng, 16),
                "district_token": _hex(rng, 16),
                "citizenship_token": None,
                "passport_token": _hex(rng, 16) if rng.random() < 0.3 else None,
                "phone_token": None,
                "sex": rng.choice(("F", "M", "O")),
                "age_band": "18-24" if yob > 2000 else "25-34",
                "birth_precision": "year",
                "province_code": "1",
                "district_code": district,
                "local_level_code": LOCAL_LEVELS[district],
                "caste_ethnicity": "hill_janajati",
                "contact_date": dt.date(2024, 1, 1) + dt.timedelta(days=rng.randint(0, 300)),
                "exploitation_type": rng.choice(("forced_labour", "sexual_exploitation")),
                "destination_country": rng.choice(("IN", "MY", "NP")),
                "services": ["counselling", "shelter"],
                "referred_from": None,
                "referred_to": "ocmc",
            }
        )
    return rows


def write_batch(
    inbox: Path,
    *,
    source_type: str = "shelter",
    agency_id: str = "agency-a",
    batch_id: str | None = None,
    rows: list[dict[str, Any]] | None = None,
    count: int = 20,
    seed: int = 1,
    key_id: str = TEST_KEY_ID,
    manifest_edit: Callable[[dict[str, Any]], None] | None = None,
    write_manifest: bool = True,
    sign: bool = True,
) -> tuple[Path, Path]:
    """Write `<batch_id>.parquet` + `.manifest.json` into the inbox; returns both paths.

    The manifest is signed (after `manifest_edit`) with the agency's test signing key, as
    the agency tool would sign it; `sign=False` leaves it unsigned.
    """
    rows = make_rows(count, seed=seed) if rows is None else rows
    batch_id = batch_id or f"{agency_id}-{seed:012x}"
    folder = inbox / source_type / agency_id
    folder.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist(rows, schema=_loose_schema())
    data_path = folder / f"{batch_id}.parquet"
    pq.write_table(table, data_path)
    data = data_path.read_bytes()
    manifest = {
        "batch_id": batch_id,
        "contract_version": "1",
        "encoding_version": "pahichan-enc-1",
        "source_type": source_type,
        "agency_id": agency_id,
        "key_id": key_id,
        "row_count": table.num_rows,
        "rejected_count": 0,
        "data_file": data_path.name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "created_at": "2024-11-01T00:00:00+00:00",
    }
    if manifest_edit:
        manifest_edit(manifest)
    if sign:
        manifest = sign_manifest(manifest, signing_key_for(agency_id))
    manifest_path = folder / f"{batch_id}.manifest.json"
    if write_manifest:
        manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    return data_path, manifest_path


def resign_manifest(manifest_path: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    """Edit a written manifest and sign it again, as its agency's tool would have."""
    fields = json.loads(manifest_path.read_text(encoding="utf-8"))
    fields.pop("signature", None)
    edit(fields)
    signed = sign_manifest(fields, signing_key_for(fields["agency_id"]))
    manifest_path.write_text(json.dumps(signed), encoding="utf-8")


def _loose_schema() -> pa.Schema:
    """The contract schema with variable-length, nullable columns, so tests can break rows."""
    return pa.schema(
        [
            pa.field(
                f.name,
                pa.binary() if pa.types.is_fixed_size_binary(f.type) else f.type,
                nullable=True,
            )
            for f in BATCH_SCHEMA
        ]
    )


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    path = tmp_path / "inbox"
    path.mkdir()
    return path


@pytest.fixture
def warehouse_path(tmp_path: Path) -> Path:
    return tmp_path / "warehouse" / "pahichan.duckdb"


@pytest.fixture
def resources(inbox: Path, warehouse_path: Path) -> dict:
    """Resources as `pahichan run` builds them, ignoring the caller's environment.

    The warehouse is created with the test agencies' signing keys registered.
    """
    built = resources_from_env({}, inbox=str(inbox), warehouse=str(warehouse_path))
    with built["warehouse"].connect() as connection:
        register_test_agencies(connection)
    return built


@pytest.fixture
def con(warehouse_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A warehouse connection with the test agencies' signing keys registered."""
    warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect(str(warehouse_path))
    register_test_agencies(connection)
    yield connection
    connection.close()
