"""`pahichan export ctdc`: survivors in the CTDC layout, k-anonymised, and its analyst view.

CTDC (the Counter Trafficking Data Collaborative) takes one row per identified victim in a
flat layout (`schemas.ctdc.CTDC_COLUMNS`) and releases it only k-anonymised (k = 11 in its
"Global K-anonymized Dataset"). This command does the same for Pahichan's survivors:

1. Read `core.survivors` and `core.episodes` (restricted warehouse; only SELECTs) into one
   CTDC row per survivor with `ctdc_select_sql()`: registration year = year of first
   contact, gender, CTDC age band at first contact where our band lies inside one of CTDC's
   (`12-17` -> `9--17`, `50+` -> `48+`; else blank) and minor/adult, citizenship `NP`
   (every survivor in this registry is Nepali), one-hot exploitation flags from all the
   survivor's episodes, country of exploitation = destination of the earliest episode that
   names one. Columns our registers do not collect stay blank.
2. k-anonymise over ALL published columns: generalise step by step
   (`GENERALISATION_STEPS`: rare countries blank, age band blank, registration year blank,
   country blank, minor/adult blank) until at most `--max-suppressed` of the survivors sit
   in equivalence classes smaller than k (or every step is used); then remove (suppress)
   the rows still in classes smaller than k. The output says how many were removed and
   which steps were used. Gender and the exploitation flags are never generalised: they are
   what the CTDC data set is for, so small data sets may lose more than the target share.
3. Check the rows with the shared checker (`pipelines.anonymity.check`, every CTDC column
   is a quasi-identifier) and write nothing when a class is below k.

`ctdc_view_sql()` is the analyst view `ctdc_survivors` (the publish step creates it over
the analyst file's own k-anonymous tables, k = 5 on the survivor's whole history).
"""

from __future__ import annotations

import csv
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import click
import pandas as pd

from pipelines.anonymity.check import KAnonymityError, assert_rows_k_anonymous
from pipelines.commands.options import warehouse_options
from schemas.ctdc import (
    CTDC_COLUMNS,
    EXPLOITATION_FLAGS,
    EXPLOITATION_TO_CTDC,
    SEX_TO_CTDC,
    ctdc_age_band,
    majority_status,
)
from schemas.vocabularies import AGE_BANDS

logger = logging.getLogger(__name__)

DEFAULT_K = 11
DEFAULT_MAX_SUPPRESSED = 0.05
CITIZENSHIP = "NP"  # every survivor of this registry is a citizen of Nepal
_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


def _literal(value: str) -> str:
    """A SQL string literal of a vocabulary constant (views cannot take bound parameters)."""
    if not re.fullmatch(r"[A-Za-z0-9_+\- ]*", value):
        raise ValueError(f"unexpected character in vocabulary constant {value!r}")
    return f"'{value}'"


def _case(column: str, mapping: dict[str, str | None]) -> str:
    whens = " ".join(
        f"WHEN {_literal(k)} THEN {_literal(v) if v is not None else 'NULL'}"
        for k, v in mapping.items()
    )
    return f"CASE {column} {whens} END"


def _flag_sql(flag: str) -> str:
    codes = [code for code, columns in EXPLOITATION_TO_CTDC.items() if flag in columns]
    if flag == "isSexAndLabour":
        labour = [c for c, cols in EXPLOITATION_TO_CTDC.items() if "isForcedLabour" in cols]
        sexual = [c for c, cols in EXPLOITATION_TO_CTDC.items() if "isSexualExploit" in cols]
        has = (
            f"bool_or(e.exploitation_type IN ({', '.join(map(_literal, labour))})) AND "
            f"bool_or(e.exploitation_type IN ({', '.join(map(_literal, sexual))}))"
        )
    elif codes:
        has = f"bool_or(e.exploitation_type IN ({', '.join(map(_literal, codes))}))"
    else:
        has = "false"
    return f"CASE WHEN count(e.exploitation_type) = 0 THEN NULL WHEN {has} THEN 1 ELSE 0 END"


def ctdc_select_sql(
    survivors_table: str = "core.survivors",
    episodes_table: str = "core.episodes",
    *,
    consented_only: bool = False,
) -> str:
    """SELECT of one CTDC row per survivor (every column of CTDC_COLUMNS, in order).

    Grain: one row per survivor of `survivors_table` (not k-anonymised). The table names are
    checked identifiers; every value in the SQL is a vocabulary constant from `schemas`.
    `consented_only` leaves out the survivors whose consent is statistics only (contract
    1.2; needs `core.survivors.is_statistics_only`): the export never includes them.
    """
    for table in (survivors_table, episodes_table):
        if not _TABLE_NAME.match(table):
            raise ValueError(f"not a table name: {table!r}")
    ages = {band: ctdc_age_band(band) for band in AGE_BANDS}
    minors = {band: majority_status(band) for band in AGE_BANDS}
    genders = {sex: label for sex, label in SEX_TO_CTDC.items()}
    begging = [c for c, cols in EXPLOITATION_TO_CTDC.items() if "typeOfLabourBegging" in cols]
    computed = {
        "yearOfRegistration": "CAST(year(s.first_contact_date) AS INTEGER)",
        "gender": _case("s.sex", genders),
        "ageBroad": _case("s.age_band_at_first_contact", ages),
        "majorityStatus": _case("s.age_band_at_first_contact", minors),
        "citizenship": _literal(CITIZENSHIP),
        "typeOfLabourBegging": (
            f"CASE WHEN bool_or(e.exploitation_type IN ({', '.join(map(_literal, begging))})) "
            "THEN 1 END"
        ),
        "CountryOfExploitation": (
            "arg_min(e.destination_country, e.contact_date) "
            "FILTER (WHERE e.destination_country IS NOT NULL)"
        ),
        **{flag: _flag_sql(flag) for flag in EXPLOITATION_FLAGS},
    }
    select = ",\n    ".join(
        f'{computed.get(column, "NULL")} AS "{column}"' for column in CTDC_COLUMNS
    )
    group = "s.survivor_id, s.first_contact_date, s.sex, s.age_band_at_first_contact"
    return (
        f"SELECT\n    {select}\n"
        f"FROM {survivors_table} AS s\n"
        f"LEFT JOIN {episodes_table} AS e ON e.survivor_id = s.survivor_id\n"
        + ("WHERE NOT s.is_statistics_only\n" if consented_only else "")
        + f"GROUP BY {group}\n"
        "ORDER BY s.survivor_id"
    )


def ctdc_view_sql(
    survivors_table: str = "core.survivors", episodes_table: str = "core.episodes"
) -> str:
    """`CREATE OR REPLACE VIEW ctdc_survivors` for analysts: one CTDC row per survivor.

    Row level and NOT k-anonymised: for the access-controlled analyst file only; anything
    that leaves the data office goes through `pahichan export ctdc`.
    """
    return "CREATE OR REPLACE VIEW ctdc_survivors AS\n" + ctdc_select_sql(
        survivors_table, episodes_table
    )


# --- k-anonymisation ------------------------------------------------------------------------


def _blank(column: str) -> Callable[[pd.DataFrame, int], pd.DataFrame]:
    def step(frame: pd.DataFrame, k: int) -> pd.DataFrame:
        return frame.assign(**{column: None}) if column in frame else frame

    return step


def _blank_rare(column: str) -> Callable[[pd.DataFrame, int], pd.DataFrame]:
    def step(frame: pd.DataFrame, k: int) -> pd.DataFrame:
        if column not in frame:
            return frame
        counts = frame[column].map(frame[column].value_counts())
        return frame.assign(**{column: frame[column].where(counts >= k, None)})

    return step


# Applied cumulatively, least information lost first. Exploitation flags are never
# generalised: they are what CTDC's data set is for.
GENERALISATION_STEPS: tuple[tuple[str, Callable[[pd.DataFrame, int], pd.DataFrame]], ...] = (
    (
        "countries of exploitation with fewer than k survivors blanked",
        _blank_rare("CountryOfExploitation"),
    ),
    ("ageBroad blanked", _blank("ageBroad")),
    ("yearOfRegistration blanked", _blank("yearOfRegistration")),
    ("CountryOfExploitation blanked", _blank("CountryOfExploitation")),
    ("majorityStatus blanked", _blank("majorityStatus")),
)


def class_sizes(frame: pd.DataFrame) -> pd.Series:
    """Per row: how many rows share its values in every column (blank counts as a value)."""
    if frame.empty:
        return pd.Series([], dtype=int)
    keys = frame.astype(object).where(frame.notna(), "\x00blank").astype(str)
    groups = keys.groupby(list(keys.columns), dropna=False, sort=False).ngroup()
    return groups.map(groups.value_counts())


@dataclass(frozen=True)
class Anonymised:
    """The k-anonymous rows and what it took to get them."""

    rows: pd.DataFrame
    survivors: int
    suppressed: int
    steps: tuple[str, ...]


def k_anonymise(
    frame: pd.DataFrame, k: int = DEFAULT_K, max_suppressed: float = DEFAULT_MAX_SUPPRESSED
) -> Anonymised:
    """Generalise (GENERALISATION_STEPS, in order) then suppress rows in classes below k."""
    if k < 2:
        raise ValueError("k must be at least 2")
    applied: list[str] = []
    current = frame
    for label, step in (("no generalisation", None), *GENERALISATION_STEPS):
        if step is not None:
            current = step(current, k)
            applied.append(label)
        small = int((class_sizes(current) < k).sum()) if len(current) else 0
        if small <= max_suppressed * len(current):
            break
    sizes = class_sizes(current)
    kept = current[(sizes >= k).to_numpy()] if len(current) else current
    return Anonymised(
        rows=kept.reset_index(drop=True),
        survivors=len(frame),
        suppressed=len(frame) - len(kept),
        steps=tuple(applied),
    )


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def write_ctdc_csv(rows: pd.DataFrame, path: Path) -> None:
    """CSV with exactly CTDC_COLUMNS as header; blank = unknown, as CTDC writes it.

    Mode 0600 (also when it replaces an older, wider file): k-anonymised is not public, the
    data officer decides who receives the file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with open(descriptor, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CTDC_COLUMNS)
        for record in rows[list(CTDC_COLUMNS)].itertuples(index=False, name=None):
            writer.writerow([_cell(v) for v in record])


def read_ctdc_rows(con: object) -> pd.DataFrame:
    """One CTDC row per survivor from an open warehouse connection (SELECT only)."""
    frame = con.execute(ctdc_select_sql(consented_only=True)).df()  # type: ignore[attr-defined]
    return frame.astype(object).where(frame.notna(), None)


# --- command ----------------------------------------------------------------------------------


@click.group(
    name="export",
    epilog="Example: pahichan export ctdc --out exports/ctdc-2025.csv --k 11",
)
def export() -> None:
    """Export survivors in an international layout (CTDC), k-anonymised."""


@export.command(
    "ctdc",
    epilog=(
        "Example: pahichan export ctdc --warehouse data/warehouse/pahichan.duckdb "
        "--out exports/ctdc.csv --k 11\n\nEvery combination of the exported columns is shared "
        "by at least k survivors; survivors who cannot be hidden that way are left out, and "
        "the summary says how many."
    ),
)
@warehouse_options(must_exist=True)  # read only: SELECTs
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV file to write (CTDC column names, one row per survivor).",
)
@click.option(
    "--k",
    "k",
    type=click.IntRange(2, 1000),
    default=DEFAULT_K,
    show_default=True,
    help="Smallest group of survivors any row may belong to.",
)
@click.option(
    "--max-suppressed",
    type=click.FloatRange(0, 1),
    default=DEFAULT_MAX_SUPPRESSED,
    show_default=True,
    help="Generalise further until at most this share of survivors is left out.",
)
def ctdc(
    warehouse: Path | None,
    warehouse_key: Path | None,
    out_path: Path,
    k: int,
    max_suppressed: float,
) -> None:
    """Write survivors in the CTDC layout, k-anonymised over every column."""
    import duckdb
    from rich.console import Console

    from pipelines.commands.warehouse_key import clear_warehouse_errors
    from pipelines.resources import DUCKDB_OFFLINE_CONFIG, resources_from_env

    resources = resources_from_env(
        warehouse=str(warehouse) if warehouse else None,
        warehouse_key_file=str(warehouse_key) if warehouse_key else None,
    )
    store = resources["warehouse"]
    console = Console(stderr=True)
    try:
        with (
            clear_warehouse_errors(store.path, must_exist=True),
            console.status("Reading survivors from the warehouse ..."),
            store.hold("pahichan export"),
        ):
            if store.key_file:  # encrypted: attached through the resource (SELECTs only)
                with store.connect() as con:
                    frame = read_ctdc_rows(con)
            else:
                con = duckdb.connect(store.path, read_only=True, config=DUCKDB_OFFLINE_CONFIG)
                try:
                    frame = read_ctdc_rows(con)
                finally:
                    con.close()
    except duckdb.CatalogException:
        raise click.ClickException(
            f"{store.path} has no core.survivors / core.episodes: run `pahichan run` first"
        ) from None
    except duckdb.Error as error:
        raise click.ClickException(" ".join(str(error).split())) from None
    with console.status(f"k-anonymising {len(frame):,} survivors (k={k}) ..."):
        result = k_anonymise(frame, k=k, max_suppressed=max_suppressed)
    try:
        # The shared, independent checker: no file below k, whatever k_anonymise did.
        assert_rows_k_anonymous(result.rows, CTDC_COLUMNS, k, what="CTDC rows")
    except KAnonymityError as error:
        raise click.ClickException(str(error)) from None
    try:
        write_ctdc_csv(result.rows, out_path)
    except OSError as error:
        raise click.ClickException(f"cannot write {out_path}: {error.strerror or error}") from None
    share = result.suppressed / result.survivors if result.survivors else 0.0
    steps = "; ".join(result.steps) or "no generalisation"
    click.echo(
        f"Exported {len(result.rows):,} of {result.survivors:,} survivors to {out_path} in the "
        f"CTDC layout, k={k}: {result.suppressed:,} suppressed ({share:.1%}); {steps}."
    )
