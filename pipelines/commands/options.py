"""Options shared by the warehouse commands: one name, one help text, one variable each.

Every command that opens the restricted warehouse (`run`, `review`, `train`, `withdraw`,
`export ctdc`, `agency-key register|list`) takes `--warehouse` and `--warehouse-key` through
`warehouse_options`, which reads the same `PAHICHAN_*` variables (click `envvar`, shown in
`--help`) and checks that the warehouse opens before the command starts: a missing file, a
missing or wrong key is one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

Command = TypeVar("Command", bound=Callable[..., Any])

WAREHOUSE_ENV = "PAHICHAN_WAREHOUSE"
WAREHOUSE_KEY_ENV = "PAHICHAN_WAREHOUSE_KEY_FILE"

publish_dir_option = click.option(
    "--publish-dir",
    envvar="PAHICHAN_PUBLISH_DIR",
    show_envvar=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for analyst.duckdb and public.duckdb (default: beside the warehouse).",
)
inbox_option = click.option(
    "--inbox",
    envvar="PAHICHAN_INBOX",
    show_envvar=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Inbox folder (<source_type>/<agency_id>/<batch_id>.parquet).",
)
key_id_option = click.option(
    "--key-id",
    envvar="PAHICHAN_KEY_ID",
    show_envvar=True,
    help="The domain's key id (pk1-...).",
)


def warehouse_options(*, must_exist: bool) -> Callable[[Command], Command]:
    """Add `--warehouse` and `--warehouse-key` to a command and open the warehouse once
    before it runs (`check_warehouse`); `must_exist` refuses a file that does not exist
    (commands that only read it), otherwise the command may create it (`run`, `agency-key`).
    """

    def decorate(command: Command) -> Command:
        @functools.wraps(command)
        def checked(*args: Any, **kwargs: Any) -> Any:
            from pipelines.commands.warehouse_key import check_warehouse

            check_warehouse(kwargs["warehouse"], kwargs["warehouse_key"], must_exist=must_exist)
            return command(*args, **kwargs)

        checked = click.option(
            "--warehouse-key",
            envvar=WAREHOUSE_KEY_ENV,
            show_envvar=True,
            type=click.Path(dir_okay=False, path_type=Path),
            help="Key file that encrypts the warehouse at rest (create one with "
            "`pahichan warehouse-key --out FILE`).",
        )(checked)
        checked = click.option(
            "--warehouse",
            envvar=WAREHOUSE_ENV,
            show_envvar=True,
            type=click.Path(dir_okay=False, path_type=Path),
            help="Restricted warehouse DuckDB file.",
        )(checked)
        return checked  # type: ignore[return-value]

    return decorate
