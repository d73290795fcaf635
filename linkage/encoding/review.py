"""Agency side of the review round trip (issue 18): the agency's two clear records side by
side, and a signed decision file back to the warehouse.

Runs on the agency's machine with the agency tool only: it imports nothing of the warehouse
(no DuckDB, Splink, Dagster, Streamlit or Great Expectations). The request file names each
pair by its review id and the two record tokens; the agency's crosswalks (record token ->
its local record id, written by `pahichan pseudonymise`) and its own register turn them
into the two clear records. Clear data never leave the machine: the decision file carries
review ids, the two tokens and `must_link` / `cannot_link`, signed with the agency's key.
The warehouse side is `linkage.matching.agency_review`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
import pandas as pd

from linkage.encoding.signing import AgencySigningKey, sign_manifest

REQUEST_KIND = "review_request"
DECISION_KIND = "review_decisions"
DECISIONS = ("must_link", "cannot_link")
# What a caseworker needs to tell two records of one person from two people (and nothing
# of the services or follow-up answers).
SHOWN_COLUMNS = (
    "record_id",
    "given_name",
    "family_name",
    "father_name",
    "sex",
    "date_of_birth",
    "age",
    "citizenship_no",
    "passport_no",
    "phone",
    "district",
    "local_level",
    "ward",
    "contact_date",
)


def read_review_request(path: Path) -> dict[str, Any]:
    """A warehouse's request file (ValueError when it is not one)."""
    request = json.loads(path.read_text(encoding="utf-8"))
    if request.get("kind") != REQUEST_KIND or not isinstance(request.get("pairs"), list):
        raise ValueError(f"{path.name} is not a review request file.")
    return request


def read_crosswalks(folder: Path) -> pd.DataFrame:
    """Every `<batch>.crosswalk.csv` of the agency tool in `folder` (record_id, record_token)."""
    frames = [
        pd.read_csv(path, dtype=str, keep_default_na=False)
        for path in sorted(folder.glob("*.crosswalk.csv"))
    ]
    if not frames:
        raise ValueError(f"no *.crosswalk.csv in {folder}")
    return pd.concat(frames, ignore_index=True).drop_duplicates("record_token")


def side_by_side(
    request: Mapping[str, Any], crosswalk: pd.DataFrame, register: pd.DataFrame
) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """Agency side: (review id, left clear record, right clear record) per requested pair.

    `crosswalk` has `record_token` and `record_id` (the agency tool's crosswalk); `register`
    the agency's own records with `record_id`. A pair whose tokens the crosswalk does not
    know is left out (not this agency's records, or records it has since deleted).
    """
    ids = dict(zip(crosswalk["record_token"], crosswalk["record_id"], strict=True))
    rows = register.drop_duplicates("record_id").set_index("record_id", drop=False)
    out = []
    for pair in request["pairs"]:
        left, right = ids.get(pair["record_token_l"]), ids.get(pair["record_token_r"])
        if left is None or right is None or left not in rows.index or right not in rows.index:
            continue
        out.append((pair["review_id"], rows.loc[left].to_dict(), rows.loc[right].to_dict()))
    return out


def write_review_decisions(
    request: Mapping[str, Any],
    decisions: Mapping[str, str],
    key: AgencySigningKey,
    path: Path,
    *,
    decided_by: str,
) -> Path:
    """Agency side: the decisions on requested pairs, signed with the agency's key."""
    pairs = {p["review_id"]: p for p in request["pairs"]}
    entries = []
    for rid, decision in sorted(decisions.items()):
        if decision not in DECISIONS:
            raise ValueError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
        if rid not in pairs:
            raise ValueError(f"{rid} is not a pair of this review request")
        pair = pairs[rid]
        entries.append(
            {
                "review_id": rid,
                "record_token_l": pair["record_token_l"],
                "record_token_r": pair["record_token_r"],
                "decision": decision,
            }
        )
    manifest = {
        "kind": DECISION_KIND,
        "agency_id": request["agency_id"],
        "decided_by": decided_by,
        "decisions": entries,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(sign_manifest(manifest, key), indent=2), encoding="utf-8")
    path.chmod(0o600)
    return path


def _show(review: str, left: Mapping[str, Any], right: Mapping[str, Any]) -> None:
    """The two records as a two-column table (this agency's own data, on its own screen)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=review)
    table.add_column("")
    table.add_column("record 1")
    table.add_column("record 2")
    for column in SHOWN_COLUMNS:
        a, b = str(left.get(column, "") or ""), str(right.get(column, "") or "")
        if a or b:
            table.add_row(column, a, b)
    Console().print(table)


@click.command(
    name="review-decide",
    epilog=(
        "Example: pahichan review-decide --request shelter-07.review-request.json "
        "--crosswalk-dir crosswalk/ --register exports/2024-05.csv "
        "--signing-key /secure/shelter-07.signing.pem --by sita --out shelter-07.decisions.json"
        "\n\nWithout --decision each pair is shown and asked for: m (same person, must link), "
        "c (two people, cannot link) or s (skip). Send only the --out file back."
    ),
)
@click.option(
    "--request",
    "request_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The warehouse's <agency>.review-request.json.",
)
@click.option(
    "--crosswalk-dir",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Where `pahichan pseudonymise` kept the crosswalks.",
)
@click.option(
    "--register",
    "register_paths",
    required=True,
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The agency's clear export(s) behind the batches; repeatable.",
)
@click.option(
    "--mapping",
    "mapping_path",
    type=click.Path(path_type=Path),
    help="YAML mapping of the export's headers (as for pseudonymise).",
)
@click.option(
    "--signing-key",
    "signing_key_path",
    required=True,
    type=click.Path(path_type=Path),
    help="This agency's signing key.",
)
@click.option("--by", "decided_by", required=True, help="Who decided (sent with the file).")
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(path_type=Path),
    help="The signed decision file to send back.",
)
@click.option(
    "--decision",
    "given",
    multiple=True,
    metavar="REVIEW_ID=must_link|cannot_link",
    help="Decide without prompting; repeatable (the pairs are still shown).",
)
def review_decide(
    request_path: Path,
    crosswalk_dir: Path,
    register_paths: tuple[Path, ...],
    mapping_path: Path | None,
    signing_key_path: Path,
    decided_by: str,
    out_path: Path,
    given: tuple[str, ...],
) -> None:
    """Show the requested pairs as this agency's two clear records; write signed decisions."""
    from linkage.encoding.batch import UnusableInput, read_export
    from linkage.encoding.signing import SigningKeyError, read_signing_key

    try:
        key = read_signing_key(signing_key_path)
        request = read_review_request(request_path)
        crosswalk = read_crosswalks(crosswalk_dir)
        register = pd.concat(
            [read_export(path, mapping_path).frame for path in register_paths], ignore_index=True
        )
    except (SigningKeyError, UnusableInput, ValueError, OSError) as error:
        raise click.ClickException(str(error)) from error
    answers = {}
    for item in given:
        rid, _, decision = item.partition("=")
        answers[rid.strip()] = decision.strip()
    shown = side_by_side(request, crosswalk, register)
    decisions: dict[str, str] = {}
    for rid, left, right in shown:
        _show(rid, left, right)
        if given:
            if rid in answers:
                decisions[rid] = answers[rid]
            continue
        choice = click.prompt(
            "Same person? m = must link, c = cannot link, s = skip",
            type=click.Choice(["m", "c", "s"]),
        )
        if choice != "s":
            decisions[rid] = "must_link" if choice == "m" else "cannot_link"
    unknown = set(answers) - {rid for rid, _, _ in shown}
    if unknown:
        raise click.ClickException(
            f"not a pair of this request with both records here: {', '.join(sorted(unknown))}"
        )
    try:
        write_review_decisions(request, decisions, key, out_path, decided_by=decided_by)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    left_out = len(request["pairs"]) - len(shown)
    click.echo(
        f"{len(decisions)} decision(s) of {len(request['pairs'])} pair(s) signed -> {out_path}"
        + (f"; {left_out} pair(s) not found in the crosswalks or register" if left_out else "")
    )
