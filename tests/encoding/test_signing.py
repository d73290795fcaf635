"""Agency signing keys: files and signatures over manifests (agency side)."""

from __future__ import annotations

import json
import pickle
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from linkage.encoding.cli import keys
from linkage.encoding.signing import (
    SigningKeyError,
    canonical_manifest_bytes,
    new_signing_key,
    read_public_key,
    read_signing_key,
    sign_manifest,
    signature_is_valid,
)

MANIFEST = {
    "batch_id": "shelter-07-0123456789ab",
    "contract_version": "1.1",
    "encoding_version": "pahichan-enc-1",
    "source_type": "shelter",
    "agency_id": "shelter-07",
    "key_id": "pk1-0123456789abcdef",
    "row_count": 40,
    "rejected_count": 2,
    "data_file": "shelter-07-0123456789ab.parquet",
    "sha256": "ab" * 32,
    "created_at": "2026-11-24T03:00:00+00:00",
}


def test_keys_new_signing_writes_0600_private_and_public_files(tmp_path: Path) -> None:
    path = tmp_path / "shelter-07.signing.pem"
    result = CliRunner().invoke(keys, ["new-signing", "--out", str(path)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = read_signing_key(path)
    public = tmp_path / "shelter-07.signing.pub.pem"
    assert b"PRIVATE" not in public.read_bytes()
    assert key.key_id in result.output and str(public) in result.output
    assert read_public_key(public).public_bytes_raw() == (
        key.private_key.public_key().public_bytes_raw()
    )
    again = CliRunner().invoke(keys, ["new-signing", "--out", str(path)])
    assert again.exit_code == 2 and "never overwritten" in again.output
    assert read_signing_key(path).key_id == key.key_id


def test_signature_covers_every_field_and_layout_does_not_matter() -> None:
    key = new_signing_key()
    signed = sign_manifest(MANIFEST, key)
    public = key.private_key.public_key()
    assert signed["signing_key_id"] == key.key_id
    # Pretty-printed, re-ordered JSON verifies the same.
    reread = json.loads(json.dumps(dict(reversed(list(signed.items()))), indent=2))
    assert signature_is_valid(reread, public)
    for name, value in MANIFEST.items():
        altered = {**signed, name: value + 1 if isinstance(value, int) else value + "x"}
        assert not signature_is_valid(altered, public), name
    assert not signature_is_valid({**signed, "extra": "field"}, public)
    assert not signature_is_valid({k: v for k, v in signed.items() if k != "signature"}, public)
    assert not signature_is_valid({**signed, "signature": "not base64!"}, public)
    assert not signature_is_valid(signed, new_signing_key().private_key.public_key())
    assert b'"signature"' not in canonical_manifest_bytes(signed)


def test_signing_key_never_in_repr_and_never_pickled() -> None:
    key = new_signing_key()
    assert repr(key) == f"AgencySigningKey(key_id='{key.key_id}')"
    with pytest.raises(TypeError):
        pickle.dumps(key)


def test_bad_key_files_are_refused_with_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(SigningKeyError, match="does not exist"):
        read_signing_key(tmp_path / "missing.pem")
    junk = tmp_path / "junk.pem"
    junk.write_text("hello")
    with pytest.raises(SigningKeyError, match="keys new-signing"):
        read_signing_key(junk)
    with pytest.raises(SigningKeyError, match="not a PEM public key"):
        read_public_key(junk)
