"""Read a batch manifest (`<batch_id>.manifest.json`) into a checked dictionary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipelines.defs.ingest.contract import MANIFEST_FIELDS


class ManifestError(ValueError):
    """The manifest is missing, not JSON, or lacks a field; the message says which."""


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest's fields, after checking that each required one is there and typed."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise ManifestError(f"manifest {path.name} is missing") from error
    except (OSError, UnicodeDecodeError) as error:
        raise ManifestError(f"manifest {path.name} cannot be read: {error}") from error
    try:
        manifest = json.loads(text)
    except json.JSONDecodeError as error:
        raise ManifestError(
            f"manifest {path.name} is not valid JSON (line {error.lineno}: {error.msg})"
        ) from error
    if not isinstance(manifest, dict):
        raise ManifestError(f"manifest {path.name} is not a JSON object")
    problems = []
    for name, kind in MANIFEST_FIELDS.items():
        if name not in manifest:
            problems.append(f"{name} is missing")
        elif not isinstance(manifest[name], kind) or isinstance(manifest[name], bool):
            problems.append(f"{name} has the wrong type ({type(manifest[name]).__name__})")
    if problems:
        raise ManifestError(f"manifest {path.name}: " + "; ".join(problems))
    return manifest
