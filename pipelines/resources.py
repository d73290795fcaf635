"""Dagster resources: where the warehouse, the inbox and the publish folder are, and settings.

This is the only place that reads `PAHICHAN_*` environment variables (`resources_from_env`),
and only when called, never at import time. Every asset opens the warehouse through
`WarehouseResource.connect()`, so there is one way in and one writer process.

Resource keys bound in `pipelines.definitions`:

- `warehouse` — `WarehouseResource`: the restricted DuckDB file (tokens, encodings, linkage).
- `inbox` — `InboxResource`: the folder agencies drop batches into.
- `settings` — `PipelineSettings`: key id, linkage thresholds, suppression threshold and
  the folder reader files are published to.
- `alerts` — `AlertSinkResource` (pipelines.alerts): where run-failure alerts go.
- `pyspark` — dagster-pyspark's `LazyPySparkResource` (`spark_resource`): the SparkSession
  linkage scores on when `PAHICHAN_LINK_ENGINE=spark`. Lazy: no JVM starts unless a run
  scores on Spark, so DuckDB-only runs never start one.
"""

from __future__ import annotations

import importlib.resources
import logging
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import duckdb
from dagster import ConfigurableResource, InitResourceContext

from pipelines.alerts import alert_sink_from_env
from pipelines.migrations import migrate
from pipelines.warehouse_lock import hold_warehouse

if TYPE_CHECKING:
    from pipelines.defs.ingest.limits import IngestLimits

logger = logging.getLogger(__name__)

DEFAULT_INBOX = "data/inbox"
DEFAULT_WAREHOUSE = "data/warehouse/pahichan.duckdb"
DEFAULT_SUPPRESSION_THRESHOLD = 5
# How long a run waits for another run holding the warehouse (PAHICHAN_LOCK_TIMEOUT
# overrides both). A command typed at a terminal is told at once (exit code 2) rather than
# hanging silently; a Dagster run was queued by Dagster behind every other Dagster run, so
# the only thing it can meet is a CLI command, and waiting for that is what a scheduled
# run should do.
CLI_LOCK_TIMEOUT = 0.0
DAGSTER_LOCK_TIMEOUT = 900.0
# Reader files (public.duckdb, analyst.duckdb): owner read-write, the readers' group read.
DEFAULT_READER_FILE_MODE = 0o640

# DuckDB would otherwise try to download extensions it thinks a query needs (~2 s offline,
# then fail). Nothing here may need the internet.
DUCKDB_OFFLINE_CONFIG = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}
# The httpfs extension ships as a PyPI wheel pinned with duckdb 1.5.5; DuckDB needs it to
# write AES-GCM encrypted files securely (its built-in fallback refuses secure writes).
_HTTPFS_EXTENSION = "extensions/v1.5.5/httpfs.duckdb_extension"
# ATTACH and LOAD take no bound parameters (parser error on `?`), so the two values they
# need are checked against a strict alphabet before they are quoted into the statement.
_KEY_ALPHABET = re.compile(r"^[A-Za-z0-9+/=_\-]{16,512}$")


class WarehouseKeyError(RuntimeError):
    """The warehouse encryption key file is missing, malformed or does not open the file."""


class WarehouseResource(ConfigurableResource):
    """The restricted warehouse: one DuckDB file holding tokens, encodings and linkage.

    When `key_file` is set the file is encrypted at rest (AES-GCM): it is attached to an
    in-memory connection with the key read from `key_file`, and used as the default catalog,
    so queries read exactly as for a plain file (`ops.batches`, `staging.shelter`, ...).
    What DuckDB spills to disk when a query outgrows `memory_limit` (DuckDB's own default:
    80% of RAM) goes to `.duckdb-tmp/` beside the file, encrypted too when the file is.

    One writer per run: a Dagster run holds the warehouse's run lock
    (`pipelines.warehouse_lock`) from resource set-up to tear-down, the CLI commands hold it
    with `hold()`, and `connect()` takes it when nobody in this process holds it yet. Files
    are private to the owner: the warehouse, its `.wal` and lock file 0600, `.duckdb-tmp/`
    0700 (the umask is 077 while the lock is held).
    """

    path: str
    key_file: str | None = None
    memory_limit: str | None = None
    # Seconds to wait for another run holding the warehouse; None: the caller's default
    # (CLI_LOCK_TIMEOUT for commands, DAGSTER_LOCK_TIMEOUT for Dagster runs).
    lock_timeout: float | None = None

    @property
    def directory(self) -> Path:
        """The folder holding the warehouse file (models and default publish folder beside it)."""
        return Path(self.path).resolve().parent

    @property
    def models_dir(self) -> Path:
        """Where versioned linkage model JSON files are written (`models/` beside the file)."""
        return self.directory / "models"

    def redaction_key(self, *, create: bool = False) -> bytes | None:
        """Sub-key that authenticates this warehouse's redaction records in the inbox
        (`pipelines.warehouse_secret`): derived from `key_file`, else from `erasure.key`
        beside the file (created when `create`; None when absent)."""
        from pipelines.warehouse_secret import INBOX_REDACTION, warehouse_subkey

        key_file = Path(self.key_file) if self.key_file else None
        return warehouse_subkey(key_file, self.directory, INBOX_REDACTION, create=create)

    @property
    def spill_dir(self) -> Path:
        """DuckDB's temp_directory (`.duckdb-tmp/` beside the file): spilled sorts and joins."""
        return self.directory / ".duckdb-tmp"

    @contextmanager
    def hold(self, purpose: str, *, default_timeout: float = CLI_LOCK_TIMEOUT) -> Iterator[None]:
        """Hold the warehouse for a whole run (re-entrant within this process).

        Raises `WarehouseBusy` (exit code 2 in the CLI) when another process holds it
        longer than `lock_timeout` (or `default_timeout`). The first holder in this process
        marks `ops.runs` rows left at `running` by a dead process as failed: while the lock
        is held no other run can be running.
        """
        timeout = self.lock_timeout if self.lock_timeout is not None else default_timeout
        with hold_warehouse(self.path, purpose=purpose, timeout=timeout) as taken:
            if taken and Path(self.path).is_file():
                from pipelines.defs.ingest.warehouse import fail_interrupted_runs

                with self._open() as con:
                    fail_interrupted_runs(con, noticed_by=purpose)
            yield

    @contextmanager
    def yield_for_execution(self, context: InitResourceContext) -> Iterator[WarehouseResource]:
        """A Dagster run holds the warehouse from resource set-up to tear-down.

        With the in-process executor (`pipelines.definitions`) resources are set up once per
        run, so no other process can write the warehouse between two steps of this run.
        """
        run = context.dagster_run
        purpose = f"dagster run {run.run_id[:8]} of {run.job_name}" if run else "dagster"
        with self.hold(purpose, default_timeout=DAGSTER_LOCK_TIMEOUT):
            yield self

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Open the warehouse read-write; closed on exit (commit is the caller's business).

        Inside a run the run's lock is already held; otherwise the connection holds it.
        """
        with self.hold("pahichan warehouse connection"), self._open() as con:
            yield con

    @contextmanager
    def _open(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The DuckDB connection itself, migrated; only ever called with the run lock held."""
        _make_private(Path(self.path), self.spill_dir)
        config = {**DUCKDB_OFFLINE_CONFIG, "temp_directory": str(self.spill_dir)}
        if self.memory_limit:
            config["memory_limit"] = self.memory_limit
        if self.key_file:
            con = _connect_encrypted(Path(self.path), Path(self.key_file), config)
        else:
            con = duckdb.connect(self.path, config=config)
        try:
            # Every write connection brings the schema to the latest version first (one
            # transaction; a failed migration leaves the warehouse as it was).
            migrate(con)
            yield con
        finally:
            con.close()


class InboxResource(ConfigurableResource):
    """The inbox: `<path>/<source_type>/<agency_id>/<batch_id>.parquet` + `.manifest.json`."""

    path: str

    @property
    def root(self) -> Path:
        return Path(self.path)


class PipelineSettings(ConfigurableResource):
    """Settings of one warehouse domain.

    `key_id` is the public fingerprint of the agencies' shared linkage key; when None the
    first accepted batch pins it (see `ops.domain`). `link_upper`/`link_lower` override the
    linkage model's match-weight thresholds (None: the model's own). Published counts below
    `suppression_threshold` are suppressed. Reader files go to `publish_dir`. The `max_*`
    fields cap what one inbox batch may cost (`pipelines.defs.ingest.limits`; None: default).
    """

    publish_dir: str
    key_id: str | None = None
    link_upper: float | None = None
    link_lower: float | None = None
    suppression_threshold: int = DEFAULT_SUPPRESSION_THRESHOLD
    max_batch_bytes: int | None = None
    max_batch_rows: int | None = None
    max_quarantine_rows: int | None = None
    max_quarantine_share: float | None = None
    # Where linkage scores pairs: "duckdb" (default) or "spark" (PAHICHAN_LINK_ENGINE; the
    # `pyspark` resource), and where Spark's exchange files go (PAHICHAN_SPARK_EXCHANGE_DIR;
    # None: the system's temporary directory). See linkage.matching.spark_scoring.
    link_engine: str = "duckdb"
    spark_exchange_dir: str | None = None

    def ingest_limits(self) -> IngestLimits:
        """The caps on one batch, defaults where unset."""
        from pipelines.defs.ingest.limits import IngestLimits

        given = {
            "max_batch_bytes": self.max_batch_bytes,
            "max_batch_rows": self.max_batch_rows,
            "max_quarantine_rows": self.max_quarantine_rows,
            "max_quarantine_share": self.max_quarantine_share,
        }
        return IngestLimits(**{name: value for name, value in given.items() if value is not None})

    # Permission bits of public.duckdb and analyst.duckdb (PAHICHAN_READER_FILE_MODE, octal).
    reader_file_mode: int = DEFAULT_READER_FILE_MODE


def resources_from_env(
    environ: Mapping[str, str] | None = None, **overrides: str | None
) -> dict[str, ConfigurableResource]:
    """Build the resources (warehouse, inbox, settings, alerts) from `PAHICHAN_*` variables;
    non-None overrides win.

    Overrides (command-line flags) use the names `inbox`, `warehouse`, `key_id`,
    `publish_dir`, `warehouse_key_file`, `memory_limit` (a DuckDB size such as "3GB").
    """
    env = os.environ if environ is None else environ

    def pick(name: str, variable: str, default: str | None = None) -> str | None:
        value = overrides.get(name)
        if value is None:
            value = env.get(variable) or default
        return value

    warehouse_path = pick("warehouse", "PAHICHAN_WAREHOUSE", DEFAULT_WAREHOUSE)
    assert warehouse_path is not None
    publish_dir = pick("publish_dir", "PAHICHAN_PUBLISH_DIR") or str(Path(warehouse_path).parent)
    threshold = env.get("PAHICHAN_SUPPRESSION_THRESHOLD")
    return {
        "warehouse": WarehouseResource(
            path=warehouse_path,
            key_file=pick("warehouse_key_file", "PAHICHAN_WAREHOUSE_KEY_FILE"),
            memory_limit=pick("memory_limit", "PAHICHAN_MEMORY_LIMIT"),
            lock_timeout=_optional_float(env, "PAHICHAN_LOCK_TIMEOUT"),
        ),
        "inbox": InboxResource(path=pick("inbox", "PAHICHAN_INBOX", DEFAULT_INBOX) or ""),
        "alerts": alert_sink_from_env(env),
        "settings": PipelineSettings(
            publish_dir=publish_dir,
            key_id=pick("key_id", "PAHICHAN_KEY_ID"),
            link_upper=_optional_float(env, "PAHICHAN_LINK_UPPER"),
            link_lower=_optional_float(env, "PAHICHAN_LINK_LOWER"),
            suppression_threshold=int(threshold) if threshold else DEFAULT_SUPPRESSION_THRESHOLD,
            max_batch_bytes=_optional_int(env, "PAHICHAN_MAX_BATCH_BYTES"),
            max_batch_rows=_optional_int(env, "PAHICHAN_MAX_BATCH_ROWS"),
            max_quarantine_rows=_optional_int(env, "PAHICHAN_MAX_QUARANTINE_ROWS"),
            max_quarantine_share=_optional_float(env, "PAHICHAN_MAX_QUARANTINE_SHARE"),
            reader_file_mode=reader_file_mode(env.get("PAHICHAN_READER_FILE_MODE")),
            link_engine=link_engine(env.get("PAHICHAN_LINK_ENGINE")),
            spark_exchange_dir=env.get("PAHICHAN_SPARK_EXCHANGE_DIR") or None,
        ),
        "pyspark": spark_resource(env),
    }


def link_engine(value: str | None) -> str:
    """PAHICHAN_LINK_ENGINE: "duckdb" (default) or "spark"."""
    from linkage.matching.spark_scoring import ENGINES

    engine = (value or "duckdb").strip().lower()
    if engine not in ENGINES:
        raise ValueError(f"PAHICHAN_LINK_ENGINE must be one of {', '.join(ENGINES)}, got {value!r}")
    return engine


class SparkNotInstalled(ConfigurableResource):
    """Stands in for the `pyspark` resource when the `spark` extra is not installed."""

    @property
    def spark_session(self) -> NoReturn:
        raise RuntimeError(
            "PAHICHAN_LINK_ENGINE=spark needs the spark extra: pip install 'pahichan[spark]'"
        )


def spark_resource(env: Mapping[str, str]) -> ConfigurableResource:
    """dagster-pyspark's lazy SparkSession resource, configured from `PAHICHAN_SPARK_*`
    (`linkage.matching.spark_scoring.spark_config`). Building it starts nothing."""
    from linkage.matching.spark_scoring import spark_config

    config = spark_config(env)
    try:
        from dagster_pyspark import LazyPySparkResource
    except ImportError:  # the warehouse installed without the spark extra
        return SparkNotInstalled()
    return LazyPySparkResource(spark_config=config)


def _optional_int(env: Mapping[str, str], variable: str) -> int | None:
    value = env.get(variable)
    if not value:
        return None
    try:
        number = int(value.replace("_", ""))
    except ValueError as error:
        raise ValueError(f"{variable} must be a whole number, got {value!r}") from error
    if number < 0:
        raise ValueError(f"{variable} must not be negative, got {value!r}")
    return number


def reader_file_mode(value: str | None) -> int:
    """PAHICHAN_READER_FILE_MODE (octal, e.g. "0640") as permission bits; default 0640.

    Owner read (and write) only, and read for group/others at most: a reader file that
    others could write, or execute, is refused.
    """
    if not value:
        return DEFAULT_READER_FILE_MODE
    try:
        mode = int(value, 8)
    except ValueError as error:
        raise ValueError(
            f"PAHICHAN_READER_FILE_MODE must be octal permission bits such as 0640, got {value!r}"
        ) from error
    if mode & ~0o644 or not mode & 0o400:
        raise ValueError(
            f"PAHICHAN_READER_FILE_MODE {value!r} is not allowed: reader files must be readable "
            "by their owner and writable by nobody else (0600, 0640 or 0644)"
        )
    return mode


def _make_private(warehouse: Path, spill_dir: Path) -> None:
    """Owner-only modes for the warehouse folder's private parts, before DuckDB opens it.

    New files get 0600 from the run lock's umask; this also tightens files an older version
    left 0644 (the warehouse, its WAL) and the spill folder DuckDB would create 0755.
    """
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    spill_dir.mkdir(mode=0o700, exist_ok=True)
    for path, mode in (
        (spill_dir, 0o700),
        (warehouse, 0o600),
        (warehouse.with_name(warehouse.name + ".wal"), 0o600),
    ):
        try:
            if path.exists() and path.stat().st_mode & 0o777 != mode:
                path.chmod(mode)
        except OSError as error:  # e.g. a file owned by another account: warn, do not fail
            logger.warning("cannot make %s private (mode %o): %s", path, mode, error)


def _optional_float(env: Mapping[str, str], variable: str) -> float | None:
    value = env.get(variable)
    if not value:
        return None
    try:
        return float(value)
    except ValueError as error:
        raise ValueError(f"{variable} must be a number, got {value!r}") from error


def _quote(value: str) -> str:
    """A SQL string literal, for the statements that take no bound parameters."""
    return "'" + value.replace("'", "''") + "'"


def _connect_encrypted(
    path: Path, key_file: Path, config: dict[str, object]
) -> duckdb.DuckDBPyConnection:
    """An in-memory connection with `path` attached encrypted as `warehouse` and in use.

    Spilled temporary files are encrypted as well (`temp_file_encryption`, off by default in
    DuckDB): a large sort or join would otherwise write tokens to disk in clear.
    """
    try:
        key = key_file.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise WarehouseKeyError(
            f"cannot read the warehouse key file {key_file}: {error}"
        ) from error
    if not _KEY_ALPHABET.match(key):
        raise WarehouseKeyError(
            f"the warehouse key file {key_file} must hold one line of 16-512 base64/hex "
            "characters (create one with: python -c 'import secrets; print(secrets.token_hex(32))')"
        )
    extension = importlib.resources.files("duckdb_extension_httpfs") / _HTTPFS_EXTENSION
    con = duckdb.connect(config=config)
    try:
        con.execute(f"LOAD {_quote(str(extension))}")
        con.execute(f"ATTACH {_quote(str(path))} AS warehouse (ENCRYPTION_KEY {_quote(key)})")
        con.execute("USE warehouse")
        con.execute("SET temp_file_encryption = true")
    except duckdb.Error as error:
        con.close()
        if "encryption key" in str(error).lower():
            raise WarehouseKeyError(
                f"the key in {key_file} does not open {path} (wrong key, or the file is not "
                "encrypted)"
            ) from error
        raise
    return con
