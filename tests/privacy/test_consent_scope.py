"""Contract 1.2 consent scope through the whole warehouse, on synthetic people.

Two agencies send batches of the same people (the OCMC sees every second person). A
quarter of the people tell the OCMC "statistics only", and the OCMC's record of each of
them is an exact duplicate of the shelter's record: the strongest possible match. The
pipeline runs as `pahichan run` does. Those OCMC records must be counted in the public
aggregates and nowhere linked: in no pair, alone in their survivor, absent from the CTDC
export and from the analyst file. A row that claims services_only (the agency tool never
sends one) is quarantined, never loaded. A later re-send that narrows a linked record to
statistics_only unlinks it. A withdrawal of a record the agency withheld is harmless.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import duckdb
import pytest

from linkage.encoding.keyed import encoder_for
from linkage.encoding.withdrawal import write_withdrawal
from pipelines.commands.export import read_ctdc_rows
from pipelines.resources import resources_from_env
from tests.agency_signing import signing_key_for
from tests.matching.fake_encoder import encode_records
from tests.matching.people import people, record
from tests.pipelines.conftest import TEST_KEY_ID, write_batch
from tests.privacy.conftest import SECRET, WAREHOUSE_KEY, seed_model

PEOPLE = 80
# Two pipeline runs (about 45 s here); tests/matching/test_consent_scope.py checks the
# linkage rules in the default run.
pytestmark = pytest.mark.slow


def _statistics_only(person_id: int) -> bool:
    return person_id % 4 == 0  # half of the people the OCMC sees


def _write_inbox(inbox: Path) -> dict[str, Any]:
    """Both agencies' batches; returns the tokens by role."""
    rng = random.Random(11)
    persons = people(PEOPLE, seed=11)
    encoder = encoder_for(SECRET)
    shelter = [record(p, f"s{p['person_id']}", rng, noisy=False) for p in persons]
    ocmc = [
        # The statistics_only records are exact duplicates of the shelter's; the others noisy.
        record(p, f"o{p['person_id']}", rng, noisy=not _statistics_only(p["person_id"]))
        for p in persons
        if p["person_id"] % 2 == 0
    ]
    roles: dict[str, Any] = {"statistics_only": {}, "linkable_ocmc": {}, "shelter": {}}
    for (source_type, agency_id), records in (
        (("shelter", "shelter-a"), shelter),
        (("ocmc", "ocmc-b"), ocmc),
    ):
        rows = encode_records(records, agency_id=agency_id).to_pylist()
        for clear, row in zip(records, rows, strict=True):
            row["record_token"] = encoder.record_token(agency_id, clear["record_id"])
            person_id = clear["person_id"]
            if agency_id == "shelter-a":
                roles["shelter"][person_id] = row["record_token"]
            elif _statistics_only(person_id):
                row["consent_scope"] = "statistics_only"
                roles["statistics_only"][person_id] = row["record_token"]
            else:
                row["consent_scope"] = "linkage_and_statistics"
                roles["linkable_ocmc"][person_id] = row["record_token"]
        if agency_id == "ocmc-b":
            # A hand-made row claiming services_only: the agency tool would have withheld it.
            smuggled = dict(
                rows[0],
                record_token=encoder.record_token(agency_id, "o-smuggled"),
                source_row=len(rows) + 1,
                consent_scope="services_only",
            )
            rows.append(smuggled)
            roles["services_only"] = smuggled["record_token"]
        write_batch(
            inbox,
            source_type=source_type,
            agency_id=agency_id,
            batch_id=f"{agency_id}-000000000001",
            rows=rows,
            manifest_edit=lambda m: m.update(contract_version="1.2"),
        )
    roles["ocmc_rows"] = rows
    return roles


@pytest.fixture(scope="module")
def consent_world(tmp_path_factory: pytest.TempPathFactory, model_json: str) -> dict[str, Any]:
    from pipelines.commands.run import run_pipeline

    root = tmp_path_factory.mktemp("consent")
    key_file = root / "warehouse.key"
    key_file.write_text(WAREHOUSE_KEY + "\n", encoding="ascii")
    resources = resources_from_env(
        {},
        inbox=str(root / "inbox"),
        warehouse=str(root / "warehouse" / "pahichan.duckdb"),
        publish_dir=str(root / "published"),
        warehouse_key_file=str(key_file),
    )
    roles = _write_inbox(root / "inbox")
    seed_model(resources["warehouse"], model_json)
    summary = run_pipeline(resources)
    assert not summary.failed_steps, summary.failed_steps
    return {"root": root, "resources": resources, "roles": roles, "run": run_pipeline}


def _survivor_of(con: Any, token: str) -> str:
    return con.execute(
        "SELECT survivor_id FROM linkage.memberships WHERE record_token = ?", [token]
    ).fetchone()[0]


def test_statistics_only_records_are_never_linked_even_as_exact_duplicates(
    consent_world: dict[str, Any],
) -> None:
    roles = consent_world["roles"]
    restricted = list(roles["statistics_only"].values())
    assert len(restricted) == PEOPLE // 4
    with consent_world["resources"]["warehouse"].connect() as con:
        paired = con.execute(
            "SELECT count(*) FROM linkage.pairs "
            "WHERE list_contains(?, record_token_l) OR list_contains(?, record_token_r)",
            [restricted, restricted],
        ).fetchone()[0]
        assert paired == 0
        for person_id, token in roles["statistics_only"].items():
            survivor = _survivor_of(con, token)
            members = con.execute(
                "SELECT count(*) FROM linkage.memberships WHERE survivor_id = ?", [survivor]
            ).fetchone()[0]
            assert members == 1, person_id
            assert survivor != _survivor_of(con, roles["shelter"][person_id])
        # The control: the same linkage does join the OCMC's linkable records to the
        # shelter's (noisier ones than the exact duplicates above), so the test can fail.
        joined = sum(
            _survivor_of(con, token) == _survivor_of(con, roles["shelter"][person_id])
            for person_id, token in roles["linkable_ocmc"].items()
        )
        assert joined >= 0.8 * len(roles["linkable_ocmc"])
        flagged = con.execute(
            "SELECT count(*) FROM core.survivors WHERE is_statistics_only"
        ).fetchone()[0]
        assert flagged == len(restricted)


def _survivors_and_restricted(con: Any, roles: dict[str, Any]) -> tuple[int, list[str]]:
    """Survivors in core, and the survivor ids of the statistics-only records."""
    survivors = con.execute("SELECT count(*) FROM core.survivors").fetchone()[0]
    restricted = con.execute(
        "SELECT list(survivor_id) FROM linkage.memberships WHERE list_contains(?, record_token)",
        [list(roles["statistics_only"].values())],
    ).fetchone()[0]
    return survivors, restricted


def test_statistics_only_survivors_are_counted_in_the_public_aggregates(
    consent_world: dict[str, Any],
) -> None:
    roles = consent_world["roles"]
    with consent_world["resources"]["warehouse"].connect() as con:
        survivors, restricted_survivors = _survivors_and_restricted(con, roles)
        in_core = con.execute(
            "SELECT count(*) FROM core.survivors WHERE list_contains(?, survivor_id)",
            [restricted_survivors],
        ).fetchone()[0]
        assert in_core == len(restricted_survivors)
        # Every survivor (the 80 people once, plus each statistics_only record on its own)
        # minus those the linkage missed.
        assert survivors >= PEOPLE + len(restricted_survivors)
        # The aggregates count them (before disclosure control, which may hide any cell of
        # so small a warehouse: the published file is checked by the disclosure tests).
        total = con.execute(
            "SELECT sum(value) FROM marts.survivor_statistics WHERE period_type = 'year' "
            "AND geo_level = 'national' AND dimension = 'all' AND measure = 'new_survivors'"
        ).fetchone()[0]
    assert total == survivors


def test_statistics_only_survivors_are_not_in_the_ctdc_export_or_the_analyst_file(
    consent_world: dict[str, Any],
) -> None:
    roles = consent_world["roles"]
    with consent_world["resources"]["warehouse"].connect() as con:
        survivors, restricted_survivors = _survivors_and_restricted(con, roles)
        ctdc = read_ctdc_rows(con)
    assert len(ctdc) == survivors - len(restricted_survivors)
    analyst = duckdb.connect(
        str(consent_world["root"] / "published" / "analyst.duckdb"), read_only=True
    )
    try:
        for table in ("survivors", "episodes", "services", "referrals"):
            leaked = analyst.execute(
                f"SELECT count(*) FROM {table} WHERE list_contains(?, survivor_id)",  # noqa: S608
                [restricted_survivors],
            ).fetchone()[0]
            assert leaked == 0, table
        # The anonymiser's input is every survivor but them; it may leave out a few more
        # (unique even when suppressed), and says how many.
        considered, published = analyst.execute(
            "SELECT survivors, survivors_published FROM anonymity_summary"
        ).fetchone()
        assert considered == survivors - len(restricted_survivors)
        kept = analyst.execute("SELECT count(*) FROM survivors").fetchone()[0]
        assert kept == published
        rows = analyst.execute("SELECT count(*) FROM ctdc_survivors").fetchone()[0]
        assert rows == kept
    finally:
        analyst.close()


def test_a_services_only_row_that_reaches_the_warehouse_is_quarantined(
    consent_world: dict[str, Any],
) -> None:
    token = consent_world["roles"]["services_only"]
    with consent_world["resources"]["warehouse"].connect() as con:
        rules = con.execute(
            "SELECT list(rule) FROM ops.quarantine WHERE record_token = ?", [token]
        ).fetchone()[0]
        assert rules == ["consent_scope_may_be_sent"]
        for table in ("staging.ocmc", "linkage.records", "core.survivor_records"):
            found = con.execute(
                f"SELECT count(*) FROM {table} WHERE record_token = ?",  # noqa: S608
                [token],
            ).fetchone()[0]
            assert found == 0, table


def test_narrowed_consent_unlinks_and_a_withdrawal_of_a_withheld_record_is_harmless(
    consent_world: dict[str, Any],
) -> None:
    roles, resources = consent_world["roles"], consent_world["resources"]
    inbox = consent_world["root"] / "inbox"
    # The OCMC re-sends one linked record, now statistics_only.
    person_id, token = next(
        (p, t)
        for p, t in roles["linkable_ocmc"].items()
        if _linked_together(resources, t, roles["shelter"][p])
    )
    row = next(r for r in roles["ocmc_rows"] if r["record_token"] == token)
    write_batch(
        inbox,
        source_type="ocmc",
        agency_id="ocmc-b",
        batch_id="ocmc-b-000000000002",
        rows=[dict(row, source_row=1, consent_scope="statistics_only")],
        manifest_edit=lambda m: m.update(contract_version="1.2"),
    )
    # And withdraws a record it withheld as services_only (its token never reached the
    # warehouse): the withdrawal is accepted and changes nothing.
    write_withdrawal(
        source_type="ocmc",
        agency_id="ocmc-b",
        secret=SECRET,
        key_id=TEST_KEY_ID,
        record_ids=["o-withheld-at-the-agency"],
        out_dir=inbox / "ocmc" / "ocmc-b",
        signing_key=signing_key_for("ocmc-b"),
    )
    with resources["warehouse"].connect() as con:
        before = con.execute("SELECT count(*) FROM core.survivor_records").fetchone()[0]
    summary = consent_world["run"](resources)
    assert not summary.failed_steps, summary.failed_steps
    with resources["warehouse"].connect() as con:
        assert con.execute("SELECT count(*) FROM core.survivor_records").fetchone()[0] == before
        assert (
            con.execute(
                "SELECT consent_scope FROM core.survivor_records WHERE record_token = ?", [token]
            ).fetchone()[0]
            == "statistics_only"
        )
        assert (
            con.execute(
                "SELECT count(*) FROM linkage.pairs WHERE ? IN (record_token_l, record_token_r)",
                [token],
            ).fetchone()[0]
            == 0
        )
        survivor = _survivor_of(con, token)
        assert survivor != _survivor_of(con, roles["shelter"][person_id])
        assert (
            con.execute(
                "SELECT count(*) FROM linkage.memberships WHERE survivor_id = ?", [survivor]
            ).fetchone()[0]
            == 1
        )
        withdrawal = con.execute(
            "SELECT status, tokens_received, records_erased, tokens_not_found "
            "FROM ops.withdrawals WHERE agency_id = 'ocmc-b'"
        ).fetchall()
        statuses = con.execute("SELECT list(status) FROM ops.batches").fetchone()[0]
    assert "rejected" not in statuses, statuses
    assert len(withdrawal) == 1 and withdrawal[0][1:] == (1, 0, 1), withdrawal


def _linked_together(resources: dict[str, Any], left: str, right: str) -> bool:
    with resources["warehouse"].connect() as con:
        return _survivor_of(con, left) == _survivor_of(con, right)
