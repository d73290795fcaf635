"""`pahichan agency-key`: the data office registers an agency's public signing key."""

from __future__ import annotations

from pathlib import Path

import duckdb
from click.testing import CliRunner

from linkage.encoding.cli import keys
from linkage.encoding.signing import read_signing_key
from pipelines.commands.agency_key import agency_key


def test_agency_key_register_and_list(tmp_path: Path) -> None:
    private = tmp_path / "ocmc-3.signing.pem"
    CliRunner().invoke(keys, ["new-signing", "--out", str(private)])
    public = tmp_path / "ocmc-3.signing.pub.pem"
    warehouse = tmp_path / "w" / "pahichan.duckdb"
    arguments = [
        "--agency",
        "ocmc-3",
        "--public-key",
        str(public),
        "--by",
        "asha",
        "--source-type",
        "ocmc",
        "--warehouse",
        str(warehouse),
    ]
    first = CliRunner().invoke(agency_key, ["register", *arguments])
    assert first.exit_code == 0, first.output
    key_id = read_signing_key(private).key_id
    assert f"ocmc-3: signing key {key_id} registered for ocmc" in first.output
    again = CliRunner().invoke(agency_key, ["register", *arguments])
    assert "already its signing key for ocmc; no change" in again.output
    listed = CliRunner().invoke(agency_key, ["list", "--warehouse", str(warehouse)])
    assert listed.exit_code == 0 and f"ocmc-3\t{key_id}\tactive" in listed.output
    assert listed.output.rstrip().endswith("\tocmc")
    bad = CliRunner().invoke(
        agency_key,
        [
            "register",
            *arguments[:2],
            "--public-key",
            str(private),
            "--by",
            "x",
            "--source-type",
            "ocmc",
            "--warehouse",
            str(warehouse),
        ],
    )
    assert bad.exit_code != 0 and "not a PEM public key" in bad.output
    assert "Traceback" not in bad.output
    with duckdb.connect(str(warehouse), read_only=True) as con:
        audited = con.execute(
            "SELECT count(*) FROM ops.audit_log WHERE action = 'agency_key_registered'"
        ).fetchone()[0]
    assert audited == 1


def test_agency_key_register_requires_a_known_source_type(tmp_path: Path) -> None:
    private = tmp_path / "shelter-9.signing.pem"
    CliRunner().invoke(keys, ["new-signing", "--out", str(private)])
    arguments = [
        "register",
        "--agency",
        "shelter-9",
        "--by",
        "asha",
        "--public-key",
        str(tmp_path / "shelter-9.signing.pub.pem"),
        "--warehouse",
        str(tmp_path / "w" / "pahichan.duckdb"),
    ]
    missing = CliRunner().invoke(agency_key, arguments)
    assert missing.exit_code == 2 and "Missing option '--source-type'" in missing.output
    unknown = CliRunner().invoke(agency_key, [*arguments, "--source-type", "hospital"])
    assert unknown.exit_code == 2 and "hospital" in unknown.output
    both = CliRunner().invoke(
        agency_key, [*arguments, "--source-type", "shelter", "--source-type", "migration"]
    )
    assert both.exit_code == 0 and "registered for migration, shelter" in both.output
