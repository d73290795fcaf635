"""Keys: file mode, refusal to overwrite, key id, HKDF separation, no leaking of secrets."""

from __future__ import annotations

import hashlib
import hmac
import pickle
import re
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from linkage.encoding import KeyFileError, key_id_of, read_key
from linkage.encoding.cli import keys
from linkage.encoding.crypto import PreparedHmac, derive_subkey
from linkage.encoding.keys import write_key


def test_keys_new_writes_0600_and_prints_key_id(tmp_path: Path) -> None:
    path = tmp_path / "pahichan.key"
    result = CliRunner().invoke(keys, ["new", "--out", str(path)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = read_key(path)
    assert len(key.secret) == 32
    assert key.key_id in result.output
    assert key.secret.hex() not in result.output
    again = CliRunner().invoke(keys, ["id", "--key", str(path)])
    assert again.exit_code == 0
    assert again.output.strip() == key.key_id
    assert re.fullmatch(r"pk1-[0-9a-f]{16}", key.key_id)


def test_keys_new_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "k.key"
    path.write_text("precious")
    result = CliRunner().invoke(keys, ["new", "--out", str(path)])
    assert result.exit_code == 2
    assert "already exists" in result.output
    assert path.read_text() == "precious"


def test_two_new_keys_differ(tmp_path: Path) -> None:
    runner = CliRunner()
    for name in ("a", "b"):
        assert runner.invoke(keys, ["new", "--out", str(tmp_path / name)]).exit_code == 0
    assert read_key(tmp_path / "a").secret != read_key(tmp_path / "b").secret


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("hello", "not a Pahichan key file"),
        ("pahichan-key-v1\nsecret: zz\n", "not hexadecimal"),
        ("pahichan-key-v1\nsecret: abcd\n", "32 bytes"),
        (f"pahichan-key-v1\nkey_id: pk1-0000000000000000\nsecret: {'ab' * 32}\n", "match"),
    ],
)
def test_bad_key_files_are_refused_with_exit_2(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.key"
    path.write_text(content)
    with pytest.raises(KeyFileError, match=message):
        read_key(path)
    result = CliRunner().invoke(keys, ["id", "--key", str(path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_missing_key_file_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(keys, ["id", "--key", str(tmp_path / "none.key")])
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_key_never_in_repr_and_never_pickled(tmp_path: Path, secret: bytes) -> None:
    write_key(tmp_path / "k", secret)
    key = read_key(tmp_path / "k")
    assert secret.hex() not in repr(key) and str(secret) not in repr(key)
    with pytest.raises(TypeError):
        pickle.dumps(key)
    with pytest.raises(TypeError):
        pickle.dumps(PreparedHmac(secret))


def test_subkeys_are_separated_per_purpose(secret: bytes) -> None:
    labels = ["bloom/given_name", "bloom/family_name", "token/phone", "token/record"]
    subkeys = {derive_subkey(secret, label) for label in labels}
    assert len(subkeys) == len(labels)
    assert derive_subkey(secret, "bloom/given_name") == derive_subkey(secret, "bloom/given_name")
    assert secret not in subkeys


def test_prepared_hmac_equals_stdlib_hmac(secret: bytes) -> None:
    prepared = PreparedHmac(secret)
    for message in (b"", b"9841234567", "सीता".encode(), b"x" * 200):
        assert prepared.digest(message) == hmac.digest(secret, message, hashlib.sha256)


def test_key_id_is_a_function_of_the_secret(secret: bytes, other_secret: bytes) -> None:
    assert key_id_of(secret) == key_id_of(secret)
    assert key_id_of(secret) != key_id_of(other_secret)
    with pytest.raises(ValueError):
        key_id_of(b"short")
