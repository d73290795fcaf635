"""Fuzzing the ingest load path with malformed batches: every batch is loaded (rows in
staging or quarantine, nothing lost) or rejected whole with a reason; never a crash.
Prints how many batches it tried and what became of them."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from collections import Counter
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linkage.encoding.signing import sign_manifest
from pipelines.defs.ingest.contract import OPTIONAL_COLUMNS
from pipelines.defs.ingest.inbox import find_batches
from pipelines.defs.ingest.load import load_batch
from tests.agency_signing import register_test_agencies, signing_key_for
from tests.pipelines.conftest import make_rows, resign_manifest, write_batch
from tests.privacy.conftest import add_missing_staging_columns

TODAY = dt.date(2025, 6, 1)
FILE_MUTATIONS = (
    "none",
    "truncate",
    "truncate_and_rehash",
    "random_bytes",
    "wrong_sha",
    "wrong_count",
    "extra_column",
    "missing_column",
    "wrong_type",
    "non_json",
    "manifest_field_type",
    "manifest_not_object",
    "empty_file",
    "wrong_agency_in_manifest",
    "unsigned",
    "signed_by_another_agency",
    "altered_after_signing",
)
ROW_MUTATIONS = (
    "bad_sex",
    "short_filter",
    "unknown_district",
    "duplicate_token",
    "future_contact",
    "no_names",
    "unknown_service",
)
outcomes: Counter[str] = Counter()


def _rehash(data_path: Path, manifest_path: Path, **changes: object) -> None:
    """Re-hash the data file into the manifest and sign it again, as a (faulty) agency tool
    would: the mutation itself, not a broken signature, is what the ingest must catch."""
    digest = hashlib.sha256(data_path.read_bytes()).hexdigest()
    resign_manifest(manifest_path, lambda manifest: manifest.update(sha256=digest, **changes))


def _mutate_rows(rows: list[dict], mutations: list[tuple[str, int]]) -> None:
    for name, index in mutations:
        row = rows[index % len(rows)]
        if name == "bad_sex":
            row["sex"] = "X"
        elif name == "short_filter":
            row["given_name_bf"] = b"\x01" * 10
        elif name == "unknown_district":
            row["district_code"] = "999"
        elif name == "duplicate_token":
            row["record_token"] = rows[0]["record_token"]
        elif name == "future_contact":
            row["contact_date"] = dt.date(2031, 1, 1)
        elif name == "no_names":
            for column in ("given_name_bf", "family_name_bf", "father_name_bf", "full_name_bf"):
                row[column] = None
        elif name == "unknown_service":
            row["services"] = ["teleportation"]


def _mutate_files(data_path: Path, manifest_path: Path, mutation: str, rng: random.Random) -> None:
    data = data_path.read_bytes()
    if mutation == "truncate":
        data_path.write_bytes(data[: rng.randrange(1, len(data))])
    elif mutation == "truncate_and_rehash":
        data_path.write_bytes(data[: rng.randrange(1, len(data))])
        _rehash(data_path, manifest_path)
    elif mutation == "random_bytes":
        data_path.write_bytes(rng.randbytes(rng.randrange(1, 4000)))
        _rehash(data_path, manifest_path)
    elif mutation == "empty_file":
        data_path.write_bytes(b"")
        _rehash(data_path, manifest_path)
    elif mutation == "wrong_sha":
        _rehash(data_path, manifest_path, sha256=hashlib.sha256(b"other").hexdigest())
    elif mutation == "wrong_count":
        count = pq.read_metadata(data_path).num_rows
        _rehash(data_path, manifest_path, row_count=count + rng.choice([-2, -1, 1, 5]))
    elif mutation in ("extra_column", "missing_column", "wrong_type"):
        table = pq.read_table(data_path)
        if mutation == "extra_column":  # e.g. a clear name column slipped in
            table = table.append_column("given_name", pa.array(["Sita"] * table.num_rows))
        elif mutation == "missing_column":
            # Only required columns: a contract-1.0 batch legitimately lacks the optional
            # follow-up columns and is accepted with them null.
            required = [name for name in table.column_names if name not in OPTIONAL_COLUMNS]
            table = table.drop_columns([rng.choice(required)])
        else:
            name = rng.choice(["contact_date", "source_row", "services"])
            index = table.column_names.index(name)
            table = table.set_column(index, name, pa.array(["x"] * table.num_rows))
        pq.write_table(table, data_path)
        _rehash(data_path, manifest_path)
    elif mutation == "non_json":
        manifest_path.write_text('{"batch_id": "x", ' + rng.choice(["", "]", "\x00", "NaN"]))
    elif mutation == "manifest_field_type":
        _rehash(data_path, manifest_path, row_count=str(pq.read_metadata(data_path).num_rows))
    elif mutation == "manifest_not_object":
        manifest_path.write_text("[1, 2, 3]")
    elif mutation == "wrong_agency_in_manifest":
        _rehash(data_path, manifest_path, agency_id="someone-else")
    elif mutation in ("unsigned", "signed_by_another_agency", "altered_after_signing"):
        manifest = json.loads(manifest_path.read_text())
        manifest.pop("signature")
        if mutation == "signed_by_another_agency":  # a forger holding its own key
            manifest = sign_manifest(manifest, signing_key_for("agency-b"))
        elif mutation == "altered_after_signing":  # only the signature can tell
            manifest["created_at"] = "2020-01-01T00:00:00+00:00"
            manifest["signature"] = json.loads(manifest_path.read_text())["signature"]
        manifest_path.write_text(json.dumps(manifest))


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    # About a quarter are well-formed files, so row-level faults reach quarantine (row
    # validation is the slow part: ~2 s a batch here).
    file_mutation=st.sampled_from((*FILE_MUTATIONS, "none", "none", "none", "none")),
    row_mutations=st.lists(
        st.tuples(st.sampled_from(ROW_MUTATIONS), st.integers(0, 7)), min_size=0, max_size=4
    ),
    seed=st.integers(0, 2**16),
)
def test_every_batch_is_loaded_quarantined_or_rejected(
    tmp_path_factory: pytest.TempPathFactory,
    file_mutation: str,
    row_mutations: list[tuple[str, int]],
    seed: int,
) -> None:
    inbox = tmp_path_factory.mktemp("inbox")
    rows = make_rows(8, seed=seed)
    _mutate_rows(rows, row_mutations)
    data_path, manifest_path = write_batch(inbox, batch_id="fuzzed", rows=rows)
    _mutate_files(data_path, manifest_path, file_mutation, random.Random(seed))
    (files,) = find_batches(inbox)
    con = duckdb.connect()
    add_missing_staging_columns(con)
    register_test_agencies(con, ["agency-a", "agency-b"])
    outcome = load_batch(con, files, configured_key_id=None, run_id="fuzz", today=TODAY)
    outcomes[f"{outcome.status}"] += 1
    staged = con.execute(
        "SELECT count(*) FROM staging.shelter WHERE batch_id = 'fuzzed'"
    ).fetchone()[0]
    quarantined, reasons_missing = con.execute(
        "SELECT count(DISTINCT row_number), count(*) FILTER (WHERE coalesce(reason, '') = '') "
        "FROM ops.quarantine WHERE batch_id = 'fuzzed'"
    ).fetchone()
    if outcome.status == "accepted":
        received = pq.read_metadata(data_path).num_rows
        assert outcome.rows_received == received
        assert staged == outcome.rows_loaded and quarantined == outcome.rows_quarantined
        assert staged + quarantined == received, (file_mutation, row_mutations)
        assert reasons_missing == 0
        outcomes["rows_loaded"] += staged
        outcomes["rows_quarantined"] += quarantined
        assert file_mutation == "none", f"{file_mutation} was accepted"
    else:
        assert outcome.status == "rejected"
        assert staged == 0 and quarantined == 0
        failed, reason = con.execute(
            "SELECT failed_checks, reason FROM ops.rejected_batches WHERE batch_id = ?",
            [files.batch_id],
        ).fetchone()
        assert failed and reason
        assert "Sita" not in reason  # a rejected extra column is named, its values never
        outcomes["rejections:" + ",".join(sorted(failed))] += 1
    con.close()


def test_zz_report_fuzz_counts(report) -> None:
    report(
        f"ingest fuzz: {sum(outcomes[k] for k in ('accepted', 'rejected'))} batches; "
        f"{dict(outcomes)}"
    )
    assert outcomes["accepted"] + outcomes["rejected"] >= 20
    assert outcomes["rejected"] > 0 and outcomes["accepted"] > 0
    assert outcomes["rows_quarantined"] > 0
