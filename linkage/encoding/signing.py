"""Agency signing keys: each agency signs its manifests, the warehouse verifies them.

The linkage secret is shared by every agency, so it cannot tell agencies apart: an agency
holding it could write a batch or a withdrawal in another agency's name. Each agency
therefore also holds its own Ed25519 signing key (never shared, never in the inbox). The
agency tool signs every manifest it writes; the manifest carries the data file's SHA-256, so
the signature covers the data too. The data office registers each agency's *public* key
with the warehouse (`pahichan agency-key register`) and the ingest refuses any batch or
withdrawal whose manifest is not signed by the registered key of the agency it names.

Files (PEM, as `cryptography` writes them):

- private: PKCS#8, unencrypted, mode 0600, never overwritten (the agency's machine only);
- public: SubjectPublicKeyInfo, beside it with `.pub.pem` for `.pem` (`shelter-07.signing.pem`
  -> `shelter-07.signing.pub.pem`), handed to the data office: not secret, but its key id
  should be confirmed by phone.

The signed bytes are the manifest without its `signature` field, as canonical JSON (sorted
keys, no spaces, ASCII), so the manifest's pretty-printed layout does not matter.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

SIGNATURE_FIELD = "signature"
SIGNING_KEY_ID_FIELD = "signing_key_id"
PUBLIC_SUFFIX = ".pub.pem"
_KEY_ID_PREFIX = "sk1-"


class SigningKeyError(ValueError):
    """A signing or public key file is missing, unreadable or not Ed25519."""


@dataclass(frozen=True)
class AgencySigningKey:
    """A loaded agency signing key. `repr` shows only its public key id."""

    private_key: Ed25519PrivateKey = field(repr=False)
    key_id: str

    def __reduce__(self) -> object:
        # Like the linkage key: never into a cache, a queue or a crash dump.
        raise TypeError("AgencySigningKey must not be pickled")


def raw_public_bytes(public_key: Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of a public key (what the warehouse stores)."""
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def signing_key_id(public_key: Ed25519PublicKey) -> str:
    """A short public fingerprint of a signing key: safe to print, read out and compare."""
    return _KEY_ID_PREFIX + hashlib.sha256(raw_public_bytes(public_key)).hexdigest()[:16]


def public_key_path(private_path: Path) -> Path:
    """Where the public half of a signing key file is written."""
    return private_path.with_name(private_path.name.removesuffix(".pem") + PUBLIC_SUFFIX)


def new_signing_key() -> AgencySigningKey:
    """A fresh signing key (from the operating system's CSPRNG), in memory only."""
    private_key = Ed25519PrivateKey.generate()
    return AgencySigningKey(private_key, signing_key_id(private_key.public_key()))


def write_signing_key(path: Path) -> tuple[str, Path]:
    """Create a new signing key at `path` (0600, never overwriting) and its public file.

    Returns the key id and the public file's path.
    """
    key = new_signing_key()
    private_key = key.private_key
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_path = public_key_path(path)
    if public_path.exists():
        raise FileExistsError(public_path)
    # O_EXCL: fail if anything is already there (including a planted symlink).
    # O_BINARY (Windows only): otherwise the descriptor is in text mode and "\n" -> "\r\n".
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    descriptor = os.open(path, flags, 0o600)
    try:
        # The umask could only narrow the mode; make it exact. Windows (Python < 3.13) has no
        # fchmod: there the file's protection is the ACL of the folder it is created in.
        if hasattr(os, "fchmod"):
            os.fchmod(descriptor, 0o600)
        os.write(descriptor, pem)
    finally:
        os.close(descriptor)
    public_path.write_bytes(
        private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return key.key_id, public_path


def read_signing_key(path: Path) -> AgencySigningKey:
    """Load a private signing key file; raise SigningKeyError with what to do if bad."""
    data = _read(path, "signing key")
    try:
        private_key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise SigningKeyError(
            f"{path} is not a signing key file; create one with `pahichan keys new-signing`"
        ) from None
    if not isinstance(private_key, Ed25519PrivateKey):
        raise SigningKeyError(f"{path} is not an Ed25519 signing key")
    return AgencySigningKey(private_key, signing_key_id(private_key.public_key()))


def read_public_key(path: Path) -> Ed25519PublicKey:
    """Load a public key file (SubjectPublicKeyInfo PEM); raise SigningKeyError if missing
    or not Ed25519."""
    data = _read(path, "public key")
    try:
        public_key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise SigningKeyError(
            f"{path} is not a PEM public key (the .pub.pem file `pahichan keys new-signing` wrote)"
        ) from None
    if not isinstance(public_key, Ed25519PublicKey):
        raise SigningKeyError(f"{path} is not an Ed25519 public key")
    return public_key


def canonical_manifest_bytes(manifest: Mapping[str, Any]) -> bytes:
    """The bytes a signature covers: every field but the signature, canonical JSON."""
    unsigned = {name: value for name, value in manifest.items() if name != SIGNATURE_FIELD}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode(
        "ascii"
    )


def sign_manifest(manifest: Mapping[str, Any], key: AgencySigningKey) -> dict[str, Any]:
    """The manifest with `signing_key_id` and `signature` (base64 Ed25519) added."""
    signed = {**manifest, SIGNING_KEY_ID_FIELD: key.key_id}
    signature = key.private_key.sign(canonical_manifest_bytes(signed))
    signed[SIGNATURE_FIELD] = base64.b64encode(signature).decode("ascii")
    return signed


def signature_is_valid(manifest: Mapping[str, Any], public_key: Ed25519PublicKey) -> bool:
    """True when the manifest's `signature` was made by `public_key` over its other fields."""
    encoded = manifest.get(SIGNATURE_FIELD)
    if not isinstance(encoded, str):
        return False
    try:
        signature = base64.b64decode(encoded, validate=True)
        public_key.verify(signature, canonical_manifest_bytes(manifest))
    except (binascii.Error, ValueError, InvalidSignature):
        return False
    return True


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise SigningKeyError(f"{what} file {path} does not exist") from None
    except OSError as error:
        raise SigningKeyError(f"{what} file {path} cannot be read: {error.strerror}") from None
