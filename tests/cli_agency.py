"""The agency side of a test, through the real `pahichan` commands: synthetic extracts, the
network's linkage key, an agency registered with its signing key, an extract pseudonymised.
Shared by the tests that drive the whole product as its users do."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from pipelines.cli import main


def invoke(*arguments: str, allowed: tuple[int, ...] = (0,), stdin: str | None = None) -> str:
    """Run `pahichan ARGUMENTS`; fail the test unless it exits with an allowed code."""
    result = CliRunner().invoke(main, list(arguments), input=stdin)
    assert result.exit_code in allowed, result.output
    return result.output


def synthesise(extracts: Path, agency: Path, *, people: int, seed: int) -> Path:
    """Synthetic agency extracts in `extracts`, the truth under `agency`; the linkage key."""
    invoke(
        "synth",
        "--people",
        str(people),
        "--seed",
        str(seed),
        "--out",
        str(extracts),
        "--truth-out",
        str(agency / "truth"),
    )
    key = agency / "linkage.key"
    invoke("keys", "new", "--out", str(key))
    return key


def register_agency(
    agency: Path, warehouse: Path, source_type: str, agency_id: str, *, by: str
) -> Path:
    """A new signing key for `agency_id`, registered at the warehouse; its private key."""
    signing = agency / f"{agency_id}.signing.pem"
    invoke("keys", "new-signing", "--out", str(signing))
    invoke(
        "agency-key",
        "register",
        "--agency",
        agency_id,
        "--by",
        by,
        "--source-type",
        source_type,
        "--public-key",
        str(agency / f"{agency_id}.signing.pub.pem"),
        "--warehouse",
        str(warehouse),
    )
    return signing


def pseudonymise(
    source_type: str,
    agency_id: str,
    key: Path,
    signing: Path,
    extract: Path,
    out: Path,
    crosswalks: Path,
) -> None:
    """One extract into a signed batch in `out` (exit 3: some rows rejected, listed)."""
    invoke(
        "pseudonymise",
        "--source-type",
        source_type,
        "--agency",
        agency_id,
        "--key",
        str(key),
        "--signing-key",
        str(signing),
        "--in",
        str(extract),
        "--out",
        str(out),
        "--crosswalk-dir",
        str(crosswalks),
        allowed=(0, 3),
    )
