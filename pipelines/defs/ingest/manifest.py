"""Read a batch manifest (`<batch_id>.manifest.json`) into a checked dictionary.

A manifest is read once, with a size cap (a real one is well under 1 KB), and parsed from
those bytes; the signature is then checked on the dictionary parsed from them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipelines.defs.ingest.contract import MANIFEST_FIELDS
from pipelines.defs.ingest.inbox import InboxFileError, receive_file

# Far above any real manifest (about 600 bytes), far below anything that hurts to parse.
MAX_MANIFEST_BYTES = 64 * 1024


class ManifestError(ValueError):
    """The manifest is missing, not JSON, or lacks a field; the message says which."""


def read_manifest(path: Path, *, root: Path | None = None) -> dict[str, Any]:
    """The manifest's fields, read once (no links, at most MAX_MANIFEST_BYTES) and checked."""
    try:
        received = receive_file(path, root=root, max_bytes=MAX_MANIFEST_BYTES)
    except InboxFileError as error:
        if isinstance(error.__cause__, FileNotFoundError):
            raise ManifestError(f"manifest {path.name} is missing") from error
        raise ManifestError(f"manifest {path.name}: {error}") from error
    except OSError as error:
        raise ManifestError(f"manifest {path.name} cannot be read: {error}") from error
    if received.data is None:
        raise ManifestError(
            f"manifest {path.name} is {received.size} bytes, more than the "
            f"{MAX_MANIFEST_BYTES} a manifest can be: it is not one the agency tool wrote"
        )
    return parse_manifest(bytes(received.data), path.name)


def parse_manifest(data: bytes, name: str) -> dict[str, Any]:
    """The manifest's fields from its bytes, after checking each required one is there and
    typed; `name` is the file name the errors mention."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ManifestError(f"manifest {name} cannot be read: {error}") from error
    try:
        manifest = json.loads(text)
    except json.JSONDecodeError as error:
        raise ManifestError(
            f"manifest {name} is not valid JSON (line {error.lineno}: {error.msg})"
        ) from error
    if not isinstance(manifest, dict):
        raise ManifestError(f"manifest {name} is not a JSON object")
    problems = []
    for field, kind in MANIFEST_FIELDS.items():
        if field not in manifest:
            problems.append(f"{field} is missing")
        elif not isinstance(manifest[field], kind) or isinstance(manifest[field], bool):
            problems.append(f"{field} has the wrong type ({type(manifest[field]).__name__})")
    if problems:
        raise ManifestError(f"manifest {name}: " + "; ".join(problems))
    return manifest
