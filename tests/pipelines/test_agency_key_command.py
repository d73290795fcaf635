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
    arguments = ["--agency", "ocmc-3", "--public-key", str(public), "--by", "asha",
                 "--warehouse", str(warehouse)]  # fmt: skip
    first = CliRunner().invoke(agency_key, ["register", *arguments])
    assert first.exit_code == 0, first.output
    key_id = read_signing_key(private).key_id
    assert f"ocmc-3: signing key {key_id} registered" in first.output
    again = CliRunner().invoke(agency_key, ["register", *arguments])
    assert "already its signing key; no change" in again.output
    listed = CliRunner().invoke(agency_key, ["list", "--warehouse", str(warehouse)])
    assert listed.exit_code == 0 and f"ocmc-3\t{key_id}\tactive" in listed.output
    bad = CliRunner().invoke(
        agency_key, ["register", *arguments[:2], "--public-key", str(private), "--by", "x",
                     "--warehouse", str(warehouse)],
    )  # fmt: skip
    assert bad.exit_code != 0 and "not a PEM public key" in bad.output
    assert "Traceback" not in bad.output
    with duckdb.connect(str(warehouse), read_only=True) as con:
        audited = con.execute(
            "SELECT count(*) FROM ops.audit_log WHERE action = 'agency_key_registered'"
        ).fetchone()[0]
    assert audited == 1
