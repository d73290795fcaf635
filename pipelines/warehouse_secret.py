"""The warehouse's own keyed primitives: sub-keys of a secret only the data office holds.

Used to authenticate what the warehouse writes into the inbox when it redacts an erased
record there (`pipelines.defs.ingest.redactions`): the inbox is writable by agencies and by
the operator, so a redaction record must carry a MAC that nobody with only the inbox can
compute. The secret is NOT the agencies' linkage secret (the warehouse never holds that).

Where the secret comes from:

- an encrypted warehouse (the production setting): the warehouse key file
  (`--warehouse-key` / `PAHICHAN_WAREHOUSE_KEY_FILE`). The data office already holds it, a
  rebuild from the inbox needs it anyway, and it never goes into the inbox. Its text is the
  HKDF input, so the AES key DuckDB uses and the sub-keys here are separated by HKDF;
- a warehouse without encryption (demo and tests only): `erasure.key` beside the warehouse
  file, 32 random bytes written 0600 on first use. A rebuild elsewhere needs a copy of it.

One HKDF `info` label per purpose (`pahichan/warehouse/1/<purpose>`). Nothing here logs,
prints or pickles a key.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

INBOX_REDACTION = "inbox-redaction"
FALLBACK_FILE = "erasure.key"
_INFO_PREFIX = b"pahichan/warehouse/1/"


class WarehouseSecretError(RuntimeError):
    """The warehouse secret cannot be read; the message says which file and what to do."""


def _read(path: Path) -> bytes:
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise WarehouseSecretError(f"cannot read the warehouse key file {path}: {error}") from error
    if len(text) < 16:
        raise WarehouseSecretError(f"the warehouse key file {path} holds too short a key")
    return text.encode("ascii")


def _fallback(directory: Path, *, create: bool) -> bytes | None:
    path = directory / FALLBACK_FILE
    if not path.exists():
        if not create:
            return None
        directory.mkdir(parents=True, exist_ok=True)
        try:
            # O_EXCL: never overwrite an existing secret (its redaction records would fail).
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return _read(path)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
    return _read(path)


def warehouse_subkey(
    key_file: Path | None, warehouse_dir: Path, purpose: str, *, create: bool = False
) -> bytes | None:
    """The 32-byte sub-key for `purpose`, or None when there is no secret yet and `create`
    is False (an unencrypted warehouse that never redacted anything)."""
    material = _read(key_file) if key_file else _fallback(warehouse_dir, create=create)
    if material is None:
        return None
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO_PREFIX + purpose.encode()
    ).derive(material)


def mac_hex(subkey: bytes, message: bytes) -> str:
    """Hex HMAC-SHA256 of `message` under `subkey`."""
    return hmac.new(subkey, message, "sha256").hexdigest()


def mac_matches(subkey: bytes, message: bytes, claimed: object) -> bool:
    """Constant-time check of a claimed hex MAC (anything not a string fails)."""
    return isinstance(claimed, str) and hmac.compare_digest(mac_hex(subkey, message), claimed)
