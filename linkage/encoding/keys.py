"""Linkage key files: create, read and fingerprint the agency-network secret.

Key file format (text, UTF-8, mode 0600)::

    # Pahichan linkage key. Secret: keep on agency machines only, never in the inbox.
    pahichan-key-v1
    key_id: pk1-0123456789abcdef
    secret: <64 hex characters>

The ``key_id`` line is checked against the secret when the file is read, so a truncated or
hand-edited file is refused instead of silently producing unlinkable batches. Every agency
of the network uses the same secret (it is distributed out of band); the warehouse never
holds it.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from linkage.encoding.crypto import SECRET_BYTES, key_id_of

_MAGIC = "pahichan-key-v1"


class KeyFileError(ValueError):
    """The key file is missing, unreadable or malformed; the message says what to fix."""


@dataclass(frozen=True)
class LinkageKey:
    """A loaded linkage secret. ``repr`` and ``str`` show only the public key id."""

    secret: bytes = field(repr=False)
    key_id: str

    def __reduce__(self) -> object:
        # Refuse pickling: a key must never end up in a cache, a queue or a crash dump.
        raise TypeError("LinkageKey must not be pickled")


def new_secret() -> bytes:
    """32 bytes from the operating system's CSPRNG."""
    return secrets.token_bytes(SECRET_BYTES)


def write_key(path: Path, secret: bytes) -> str:
    """Create ``path`` (mode 0600, never overwriting) holding ``secret``; return its key id."""
    key_id = key_id_of(secret)
    text = (
        "# Pahichan linkage key. Secret: keep on agency machines only, never in the inbox.\n"
        f"{_MAGIC}\nkey_id: {key_id}\nsecret: {secret.hex()}\n"
    )
    # O_EXCL: fail if anything is already there (including a symlink planted by someone).
    # O_BINARY (Windows only): otherwise the descriptor is in text mode and "\n" -> "\r\n".
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    descriptor = os.open(path, flags, 0o600)
    try:
        # The umask could only narrow the mode; make it exact. Windows (Python < 3.13) has no
        # fchmod: there the file's protection is the ACL of the folder it is created in.
        if hasattr(os, "fchmod"):
            os.fchmod(descriptor, 0o600)
        os.write(descriptor, text.encode("ascii"))
    finally:
        os.close(descriptor)
    return key_id


def read_key(path: str | os.PathLike[str]) -> LinkageKey:
    """Load a key file written by :func:`write_key`; raise :class:`KeyFileError` if bad."""
    path = Path(path)
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise KeyFileError(f"key file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise KeyFileError(f"key file {path} cannot be read ({type(error).__name__})") from None
    lines = [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]
    values = dict(line.split(":", 1) for line in lines[1:] if ":" in line)
    if not lines or lines[0] != _MAGIC or "secret" not in values:
        raise KeyFileError(
            f"{path} is not a Pahichan key file; create one with `pahichan keys new`"
        )
    try:
        secret = bytes.fromhex(values["secret"].strip())
    except ValueError:
        raise KeyFileError(f"{path}: the secret line is not hexadecimal") from None
    if len(secret) != SECRET_BYTES:
        raise KeyFileError(f"{path}: the secret must be {SECRET_BYTES} bytes")
    key_id = key_id_of(secret)
    stated = values.get("key_id", "").strip()
    if stated and stated != key_id:
        raise KeyFileError(f"{path}: key_id line does not match the secret (file damaged?)")
    return LinkageKey(secret=secret, key_id=key_id)
