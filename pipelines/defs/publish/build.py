"""Write the reader files: public.duckdb (protected aggregates) and analyst.duckdb.

Both are written to a temporary file in the publish folder and moved over the old file with
`os.replace` (atomic on one filesystem): a reader, or a crash mid-publish, sees the previous
complete file or the new one, never a half-written one. Readers open them read-only.

public.duckdb holds only the docs/interfaces.md section 4 tables after disclosure control.
analyst.duckdb holds pseudonymous row-level tables, k-anonymous on the survivor's whole
history (`pipelines/defs/publish/analyst.py`): survivor_id (the linkage id, not derived from
any token), coarsened periods and places, no record tokens, batch ids, agency ids, Bloom
filters or HMAC tokens, so nothing in it joins to an agency's crosswalk.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.catalog import table_exists
from pipelines.defs.marts.build import MART_TABLES
from pipelines.defs.publish.analyst import (
    AnalystRelease,
    analyst_policy,
    prepare_analyst,
    record_anonymity,
    write_analyst,
)
from pipelines.disclosure.audit import SmallCellAudit, audit_small_cells
from pipelines.disclosure.history import load_history, save_history
from pipelines.disclosure.tables import protect_tables
from pipelines.resources import DEFAULT_READER_FILE_MODE

logger = logging.getLogger(__name__)

PUBLIC_FILE = "public.duckdb"
# Hidden small cells whose LP range is re-checked after each publication (fixed seed).
SMALL_CELL_SAMPLE = 100
ANALYST_FILE = "analyst.duckdb"
# Version of the reader files' layout (docs/interfaces.md section 4), written to their
# `publication.contract_version`; unrelated to the agency extract's CONTRACT_VERSION.
READER_CONTRACT_VERSION = "1"
# Every mart but the reference geography holds counts, so every other mart goes through
# disclosure control.
COUNT_TABLES = tuple(name for name in MART_TABLES if name != "geography")

PUBLIC_COMMENTS = {
    "published_grid": (
        "Which (period type, place level, breakdown dimension) combinations each table "
        "publishes; anything else has no rows (not published, not zero). Grain: one row per "
        "table_name x geo_level x period_type x dimension."
    ),
    "reintegration_statistics": (
        "Reintegration scores after disclosure control (provisional score, not IOM's). "
        "Grain: one row per period x place x (dimension, category) x score_dimension x "
        "measure. mean_score_pct is published only where survivors_scored is published and "
        "at least the threshold."
    ),
    "followup_coverage": (
        "Follow-up coverage after disclosure control. Grain: one row per cohort period x "
        "place x measure."
    ),
    "survivor_statistics": (
        "Survivor counts after disclosure control. Grain: one row per period x place x "
        "(dimension, category) x measure."
    ),
    "service_statistics": (
        "Services given after disclosure control. Grain: one row per period x place x "
        "service_code x measure."
    ),
    "referral_statistics": (
        "Referrals after disclosure control. Grain: one row per period x place x "
        "from_agency_type x to_agency_type x measure."
    ),
    "quality_statistics": (
        "Pipeline data quality after disclosure control. Grain: one row per month x "
        "source_type x metric."
    ),
    "quarantine_reasons": (
        "Quarantined rows by rule after disclosure control. Grain: one row per source_type x rule."
    ),
    "geography": "Places. Grain: one row per place.",
    "publication": "This publication. Grain: one row.",
}
SUPPRESSION_COMMENTS = {
    "value": "The count; NULL when suppressed. A published value is 0 or at least the threshold",
    "is_suppressed": (
        "True when the value is withheld (for whatever reason: the file does not say which "
        "withheld cells are small)"
    ),
}

PUBLIC_EXTRA_TYPES = {"value": "INTEGER", "is_suppressed": "BOOLEAN"}


@dataclass(frozen=True)
class Publication:
    """What a publish run wrote."""

    run_id: str
    published_at: dt.datetime
    public_path: Path
    analyst_path: Path
    threshold: int
    suppressed_cells: int
    analyst: AnalystRelease | None = None
    small_cells: SmallCellAudit | None = None


def _write_atomically(target: Path, write, mode: int = DEFAULT_READER_FILE_MODE) -> None:
    """Call `write(con)` on a new temp DuckDB file beside `target`, then os.replace it.

    The file gets `mode` before it is moved into place, so readers never see it with the
    mode the process umask happened to give (0644 in a plain shell, 0600 inside a run).
    """
    _put_in_place(_write_temp(target, write, mode), target, mode)


def _write_temp(target: Path, write, mode: int) -> Path:
    """`write(con)` on a new temp DuckDB file beside `target`, readable by its owner only
    until `_put_in_place` moves it; the temp file is removed when `write` raises."""
    _make_publish_dir(target.parent, mode)
    temp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        out = duckdb.connect(str(temp))
        try:
            os.chmod(temp, 0o600)
            write(out)
            out.execute("CHECKPOINT")
        finally:
            out.close()
    except BaseException:
        _discard(temp)
        raise
    return temp


def _put_in_place(temp: Path, target: Path, mode: int) -> None:
    """Give the written temp file `mode` and move it over `target` (removed if that fails)."""
    try:
        os.chmod(temp, mode)
        os.replace(temp, target)
    finally:
        _discard(temp)


def _discard(temp: Path) -> None:
    temp.unlink(missing_ok=True)
    temp.with_name(temp.name + ".wal").unlink(missing_ok=True)


def _comment(con: duckdb.DuckDBPyConnection, table: str, text: str, *, kind: str = "TABLE") -> None:
    # COMMENT ON takes no bound parameters; texts are constants of this module.
    con.execute(f"COMMENT ON {kind} {table} IS '{text.replace(chr(39), chr(39) * 2)}'")


def _comment_column(con: duckdb.DuckDBPyConnection, table: str, column: str, text: str) -> None:
    con.execute(f"COMMENT ON COLUMN {table}.{column} IS '{text.replace(chr(39), chr(39) * 2)}'")


def published_grid(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The combinations present in the protected tables, so readers (the dashboard) offer
    only what exists. Tables without a breakdown dimension list dimension `all`."""
    parts = []
    for name, frame in tables.items():
        if not {"geo_level", "period_type"} <= set(frame.columns):
            continue
        keys = frame[["geo_level", "period_type"]].copy()
        keys["dimension"] = frame["dimension"] if "dimension" in frame.columns else "all"
        keys.insert(0, "table_name", name)
        parts.append(keys.drop_duplicates())
    columns = ["table_name", "geo_level", "period_type", "dimension"]
    if not parts:
        return pd.DataFrame(columns=columns, dtype="string")
    return pd.concat(parts, ignore_index=True).sort_values(columns, ignore_index=True)


def public_tables(
    con: duckdb.DuckDBPyConnection, threshold: int, stats: dict | None = None
) -> dict[str, pd.DataFrame]:
    """The marts after disclosure control, as frames (the public.duckdb tables but one),
    protected against this publication and what earlier ones showed (`disclosure.history`)."""
    marts = {
        name: con.execute(f"SELECT * FROM marts.{name}").df()  # noqa: S608 - fixed names
        for name in MART_TABLES
    }
    history = load_history(con)
    stats = {} if stats is None else stats
    stats["history"] = history
    return protect_tables(
        marts,
        threshold,
        history.shown,
        kept_hidden=history.hidden,
        left_out_before=history.left_out,
        stats=stats,
    )


def _column_types(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, str]:
    rows = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() "
        "WHERE schema_name = ? AND table_name = ? AND database_name = current_database()",
        [schema, table],
    ).fetchall()
    return dict(rows)


def _column_comments(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, str]:
    rows = con.execute(
        "SELECT column_name, comment FROM duckdb_columns() "
        "WHERE schema_name = ? AND table_name = ? AND database_name = current_database()",
        [schema, table],
    ).fetchall()
    return {name: comment for name, comment in rows if comment}


def _make_publish_dir(folder: Path, mode: int) -> None:
    """Create the publish folder if missing, traversable by whoever may read the files.

    Inside a run the umask is 077 (the warehouse lock), which would make a new folder 0700
    and the reader files unreachable for their group: read bits of `mode` become r-x here.
    An existing folder is left as its owner set it.
    """
    if folder.is_dir():
        return
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700 | (mode & 0o044) | ((mode & 0o044) >> 2))


def publish(
    con: duckdb.DuckDBPyConnection,
    publish_dir: Path,
    threshold: int,
    run_id: str | None = None,
    file_mode: int = DEFAULT_READER_FILE_MODE,
) -> Publication:
    """Write public.duckdb and analyst.duckdb from the warehouse marts and core."""
    run_id = run_id or uuid.uuid4().hex[:12]
    published_at = dt.datetime.now(dt.UTC)
    public_path = Path(publish_dir) / PUBLIC_FILE
    analyst_path = Path(publish_dir) / ANALYST_FILE
    protection: dict = {}
    # The analyst file is anonymised and written (to its temp file, checked) on a second
    # connection while the public file is protected: each uses one core (the anonymiser
    # Python and pandas, the protection mostly HiGHS, which releases the GIL), and neither
    # reads what the other writes. Both finish before any file is replaced, and `result()`
    # raises the anonymiser's KAnonymityError here (docs/decisions.md).
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="analyst") as pool:
        analyst_ready = pool.submit(
            _analyst_file_on, _cursor(con), threshold, analyst_path, published_at, file_mode
        )
        try:
            tables = public_tables(con, threshold, protection)
        except BaseException:
            _discard_when_written(analyst_ready)
            raise
        analyst, analyst_temp = analyst_ready.result()
    try:
        _write_public_file(con, tables, public_path, run_id, published_at, threshold, file_mode)
        _put_in_place(analyst_temp, analyst_path, file_mode)
    finally:
        _discard(analyst_temp)
    suppressed = sum(int(tables[n]["is_suppressed"].sum()) for n in COUNT_TABLES)
    record_publication(con, run_id, published_at, threshold, public_path, analyst_path, suppressed)
    record_anonymity(con, run_id, published_at, analyst)
    # What this file showed and hid, for the next publication's protection.
    save_history(
        con,
        protection["frames"],
        tables,
        protection["history"],
        run_id,
        left_out=protection["left_out"],
    )
    # The protector ends only when every hidden small cell passes; this re-checks a sample
    # of the result for the publish asset's check (a bug in the loop would show here).
    small_cells = audit_small_cells(
        protection["problem"], protection["status"], threshold, sample=SMALL_CELL_SAMPLE
    )
    logger.info("published %s and %s (%d suppressed cells)", public_path, analyst_path, suppressed)
    return Publication(
        run_id, published_at, public_path, analyst_path, threshold, suppressed, analyst, small_cells
    )


def _write_public_file(
    con: duckdb.DuckDBPyConnection,
    tables: dict[str, pd.DataFrame],
    target: Path,
    run_id: str,
    published_at: dt.datetime,
    threshold: int,
    mode: int,
) -> None:
    """public.duckdb: the protected tables (`tables`, to which the published grid and the
    publication row are added), with the marts' column types and comments."""
    tables["published_grid"] = published_grid(tables)
    data_through = con.execute("SELECT max(contact_date) FROM core.episodes").fetchone()[0]
    model_version = None
    if table_exists(con, "linkage", "pairs"):
        model_version = con.execute("SELECT max(model_version) FROM linkage.pairs").fetchone()[0]
    tables["publication"] = pd.DataFrame(
        [
            {
                "published_at": published_at,
                "run_id": run_id,
                "threshold": threshold,
                "data_through": data_through,
                "contract_version": READER_CONTRACT_VERSION,
                "model_version": model_version,
            }
        ]
    )
    comments = {name: _column_comments(con, "marts", name) for name in tables}
    types = {name: _column_types(con, "marts", name) for name in tables}

    def write_public(out: duckdb.DuckDBPyConnection) -> None:
        for name, frame in tables.items():
            out.register("frame", frame)
            # Column types from the marts (pandas loses them on empty or all-NULL columns);
            # names and types come from the warehouse catalog, not from data.
            wanted = {**types.get(name, {}), **PUBLIC_EXTRA_TYPES}
            select = ", ".join(
                f'CAST("{c}" AS {wanted[c]}) AS "{c}"' if c in wanted else f'"{c}"'
                for c in frame.columns
            )
            out.execute(f"CREATE TABLE {name} AS SELECT {select} FROM frame")  # noqa: S608
            out.unregister("frame")
            _comment(out, name, PUBLIC_COMMENTS[name])
            for column, text in {
                **comments.get(name, {}),
                **(SUPPRESSION_COMMENTS if name in COUNT_TABLES else {}),
            }.items():
                _comment_column(out, name, column, text)

    _write_atomically(target, write_public, mode)


def _cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A second connection to `con`'s database that reads the same catalog (an encrypted
    warehouse is attached under another name and made current with USE)."""
    cursor = con.cursor()
    catalog = con.execute("SELECT current_database()").fetchone()[0]
    # USE takes no bound parameters; the name comes from the connection, quoted.
    cursor.execute(f'USE "{catalog.replace(chr(34), chr(34) * 2)}"')
    return cursor


def _analyst_file_on(
    cursor: duckdb.DuckDBPyConnection,
    threshold: int,
    target: Path,
    published_at: dt.datetime,
    mode: int,
) -> tuple[AnalystRelease, Path]:
    """prepare_analyst on its own cursor (a DuckDB connection is not shared between
    threads), closed afterwards, then the analyst file written and checked in a temp file
    beside `target` (not yet in place)."""
    try:
        analyst = prepare_analyst(cursor, analyst_policy(threshold))
    finally:
        cursor.close()
    return analyst, _write_temp(target, lambda out: write_analyst(out, analyst, published_at), mode)


def _discard_when_written(analyst_ready: Future) -> None:
    """After the public side failed: wait for the analyst side, then remove its temp file
    (its own failure, if any, is the public side's to report after)."""
    with contextlib.suppress(BaseException):
        _discard(analyst_ready.result()[1])


def record_publication(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    published_at: dt.datetime,
    threshold: int,
    public_path: Path,
    analyst_path: Path,
    suppressed: int,
) -> None:
    """Append a row to ops.publications (migration 0001)."""
    from pipelines.migrations import migrate

    migrate(con)
    con.execute(
        "INSERT INTO ops.publications (run_id, published_at, threshold, public_path, "
        "analyst_path, suppressed_cells) VALUES (?, ?, ?, ?, ?, ?)",
        [run_id, published_at, threshold, str(public_path), str(analyst_path), suppressed],
    )
