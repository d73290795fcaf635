"""The agency review round trip through the real commands (issue 18):
`pahichan review-requests` (warehouse) -> `pahichan review-decide` (agency, its own clear
records side by side, a signed decision file) -> `pahichan review-import` -> the next
`pahichan run` honours every decision."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.cli_agency import invoke, pseudonymise, register_agency, synthesise

AGENCY = "shelter-rv"


def _survivors(warehouse: Path) -> dict[str, str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return dict(
            con.execute("SELECT record_token, survivor_id FROM linkage.memberships").fetchall()
        )


@pytest.mark.slow  # synth, pseudonymise and two linked runs
def test_request_decide_import_and_the_next_run_honours_it(tmp_path: Path) -> None:
    extracts, inbox, agency = tmp_path / "extracts", tmp_path / "inbox", tmp_path / "agency"
    warehouse = tmp_path / "warehouse" / "pahichan.duckdb"
    key = synthesise(extracts, agency, people=600, seed=11)
    signing = register_agency(agency, warehouse, "shelter", AGENCY, by="test")
    register = extracts / "shelter.csv"
    pseudonymise(
        "shelter", AGENCY, key, signing, register, inbox / "shelter" / AGENCY, agency / "cw"
    )
    invoke("run", "--inbox", str(inbox), "--warehouse", str(warehouse))

    # Warehouse: the request file holds review ids and the agency's own tokens only.
    out = invoke(
        "review-requests", "--out", str(tmp_path / "requests"), "--warehouse", str(warehouse)
    )
    request_path = tmp_path / "requests" / f"{AGENCY}.review-request.json"
    assert request_path.exists(), out
    request = json.loads(request_path.read_text(encoding="utf-8"))
    assert request["pairs"]
    assert all(
        set(p) == {"review_id", "record_token_l", "record_token_r"} for p in request["pairs"]
    )

    # Agency: decide each pair as the truth says (a caseworker reading the two records).
    with (agency / "truth" / "truth.csv").open(encoding="utf-8", newline="") as handle:
        person = {
            row["record_id"]: row["person_id"]
            for row in csv.DictReader(handle)
            if row["source"] == "shelter"
        }
    crosswalk = {}
    for path in (agency / "cw").glob("*.crosswalk.csv"):
        with path.open(encoding="utf-8", newline="") as handle:
            crosswalk.update({r["record_token"]: r["record_id"] for r in csv.DictReader(handle)})
    decisions = {
        p["review_id"]: "must_link"
        if person[crosswalk[p["record_token_l"]]] == person[crosswalk[p["record_token_r"]]]
        else "cannot_link"
        for p in request["pairs"]
    }
    decision_path = agency / "decisions.json"
    shown = invoke(
        "review-decide",
        "--request",
        str(request_path),
        "--crosswalk-dir",
        str(agency / "cw"),
        "--register",
        str(register),
        "--signing-key",
        str(signing),
        "--by",
        "caseworker-1",
        "--out",
        str(decision_path),
        *(f"--decision={rid}={decision}" for rid, decision in decisions.items()),
    )
    first = crosswalk[request["pairs"][0]["record_token_l"]]
    assert first in shown  # the agency's own record id, on its own screen
    body = decision_path.read_text(encoding="utf-8")
    assert first not in body  # clear ids never go back, tokens and decisions only
    assert len(json.loads(body)["decisions"]) == len(decisions)

    # Warehouse: verified with the agency's registered key, stored, applied by the next run.
    invoke(
        "review-import",
        "--agency",
        AGENCY,
        "--file",
        str(decision_path),
        "--warehouse",
        str(warehouse),
    )
    invoke("run", "--inbox", str(inbox), "--warehouse", str(warehouse))
    survivors = _survivors(warehouse)
    for pair in request["pairs"]:
        together = survivors[pair["record_token_l"]] == survivors[pair["record_token_r"]]
        assert together == (decisions[pair["review_id"]] == "must_link"), pair["review_id"]
    again = invoke(
        "review-requests", "--out", str(tmp_path / "again"), "--warehouse", str(warehouse)
    )
    repeated = tmp_path / "again" / f"{AGENCY}.review-request.json"
    if repeated.exists():
        left = {p["review_id"] for p in json.loads(repeated.read_text())["pairs"]}
        assert not left & set(decisions), again

    # A file altered after signing is refused whole.
    tampered = json.loads(decision_path.read_text(encoding="utf-8"))
    tampered["decided_by"] = "someone else"
    altered = agency / "altered.json"
    altered.write_text(json.dumps(tampered), encoding="utf-8")
    refused = invoke(
        "review-import",
        "--agency",
        AGENCY,
        "--file",
        str(altered),
        "--warehouse",
        str(warehouse),
        allowed=(1,),
    )
    assert "signature" in refused


def test_the_agency_command_imports_no_warehouse_package() -> None:
    code = (
        "import sys; from pipelines.cli import main; "
        "main(['review-decide', '--help'], standalone_mode=False); "
        "heavy = {'dagster', 'duckdb', 'splink', 'streamlit', 'great_expectations'}; "
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip().endswith("[]"), result.stdout
