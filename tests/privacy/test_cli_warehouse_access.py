"""Every `pahichan` command that opens the warehouse takes the key the same way, and a
missing or wrong key is one clear line and exit code 2, never a traceback (issue 16, 6).

Each test works on a copy of the encrypted warehouse built once by `world` (its snapshot
right after the first run), so commands that write (run, train, withdraw, agency-key) do
not change what the other privacy tests read.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from linkage.encoding.cli import keys
from pipelines.cli import main
from pipelines.commands.warehouse_key import write_warehouse_key
from tests.privacy.conftest import World

# Unset, so a variable of the developer's shell cannot supply the key the test withholds.
CLEAN_ENV = {
    name: None
    for name in (
        "PAHICHAN_WAREHOUSE",
        "PAHICHAN_WAREHOUSE_KEY_FILE",
        "PAHICHAN_INBOX",
        "PAHICHAN_PUBLISH_DIR",
        "PAHICHAN_KEY_ID",
    )
}


def _token(world: World) -> str:
    """The record token of one person seen by one agency only (a singleton to erase)."""
    return next(seen["shelter-a"][1] for seen in world.persons.values() if len(seen) == 1)


# Command -> its arguments apart from --warehouse/--warehouse-key, given the world and a
# scratch folder.
COMMANDS: dict[str, Callable[[World, Path], list[str]]] = {
    "run": lambda w, tmp: ["run", "--inbox", str(w.inbox), "--publish-dir", str(tmp / "pub")],
    "review": lambda w, tmp: ["review", "--limit", "2"],
    "train": lambda w, tmp: ["train"],
    "withdraw": lambda w, tmp: [
        "withdraw",
        "--record-token",
        _token(w),
        "--by",
        "asha",
        "--inbox",
        str(_empty_inbox(tmp)),
    ],
    "export ctdc": lambda w, tmp: ["export", "ctdc", "--out", str(tmp / "ctdc.csv"), "--k", "2"],
    "agency-key register": lambda w, tmp: [
        "agency-key",
        "register",
        "--agency",
        "ocmc-9",
        "--source-type",
        "ocmc",
        "--public-key",
        str(_public_key(tmp)),
        "--by",
        "asha",
    ],
    "agency-key list": lambda w, tmp: ["agency-key", "list"],
}
# Commands that run a Dagster job or link: their successful runs take longest.
HEAVY = {"run", "train", "withdraw"}
# Commands that refuse a warehouse file that does not exist (run and agency-key create one).
NEED_A_WAREHOUSE = ("review", "train", "withdraw", "export ctdc")


def _empty_inbox(tmp: Path) -> Path:
    inbox = tmp / "inbox"
    inbox.mkdir(exist_ok=True)
    return inbox


def _public_key(tmp: Path) -> Path:
    private = tmp / "ocmc-9.signing.pem"
    if not private.exists():
        result = CliRunner().invoke(keys, ["new-signing", "--out", str(private)])
        assert result.exit_code == 0, result.output
    return tmp / "ocmc-9.signing.pub.pem"


def _add_records_to_train_on(warehouse: Path, key_file: Path) -> None:
    """The world's 90 records are too few for EM: add 300 synthetic people under the same key
    id (training, not the key, is what would fail otherwise)."""
    import linkage.matching as lm
    from pipelines.resources import WarehouseResource
    from tests.matching.fake_encoder import encode_records
    from tests.matching.people import people, record
    from tests.pipelines.conftest import TEST_KEY_ID

    rng = random.Random(3)
    persons = people(300, seed=3)
    with WarehouseResource(path=str(warehouse), key_file=str(key_file)).connect() as con:
        for batch_id, noisy in (("extra-1", False), ("extra-2", True)):
            records = [record(p, f"{batch_id}-{p['person_id']}", rng, noisy=noisy) for p in persons]
            lm.add_records(
                con,
                encode_records(records),
                batch_id=batch_id,
                source_type="shelter",
                agency_id="extra",
                key_id=TEST_KEY_ID,
            )


@pytest.fixture()
def warehouse_copy(world: World, tmp_path: Path) -> Path:
    target = tmp_path / "warehouse" / "pahichan.duckdb"
    target.parent.mkdir()
    assert world.snapshot is not None
    shutil.copyfile(world.snapshot, target)
    return target


def _invoke(arguments: list[str], env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(main, arguments, env=CLEAN_ENV | (env or {}))


def _assert_one_clear_line(result: Result, expected: str) -> None:
    """Exit 2, one line on stderr naming the problem, nothing on stdout, no traceback."""
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # not a crash
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("Error: ") and expected in lines[0], lines[0]


def _params(commands: object) -> list[object]:
    return [
        pytest.param(name, marks=pytest.mark.slow) if name in HEAVY else name for name in commands
    ]  # type: ignore[attr-defined]


@pytest.mark.parametrize("how", ["flag", "env"])
@pytest.mark.parametrize("command", _params(COMMANDS))
def test_command_opens_the_encrypted_warehouse_with_the_key(
    world: World, warehouse_copy: Path, tmp_path: Path, command: str, how: str
) -> None:
    arguments = COMMANDS[command](world, tmp_path)
    if command == "train":
        _add_records_to_train_on(warehouse_copy, world.key_file)
    if how == "flag":
        result = _invoke(
            [*arguments, "--warehouse", str(warehouse_copy), "--warehouse-key", str(world.key_file)]
        )
    else:
        result = _invoke(
            arguments,
            {
                "PAHICHAN_WAREHOUSE": str(warehouse_copy),
                "PAHICHAN_WAREHOUSE_KEY_FILE": str(world.key_file),
            },
        )
    assert result.exit_code == 0, (result.output, repr(result.exception))


@pytest.mark.parametrize("command", list(COMMANDS))
def test_without_the_key_one_clear_line_and_exit_2(
    world: World, warehouse_copy: Path, tmp_path: Path, command: str
) -> None:
    before = warehouse_copy.read_bytes()
    result = _invoke([*COMMANDS[command](world, tmp_path), "--warehouse", str(warehouse_copy)])
    _assert_one_clear_line(result, "is encrypted: pass --warehouse-key")
    assert warehouse_copy.read_bytes() == before


@pytest.mark.parametrize("command", list(COMMANDS))
def test_with_a_wrong_key_one_clear_line_and_exit_2(
    world: World, warehouse_copy: Path, tmp_path: Path, command: str
) -> None:
    wrong = tmp_path / "wrong.key"
    write_warehouse_key(wrong)
    before = warehouse_copy.read_bytes()
    result = _invoke(
        COMMANDS[command](world, tmp_path),
        {"PAHICHAN_WAREHOUSE": str(warehouse_copy), "PAHICHAN_WAREHOUSE_KEY_FILE": str(wrong)},
    )
    _assert_one_clear_line(result, "does not open")
    assert warehouse_copy.read_bytes() == before


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_missing_key_file_is_one_clear_line(
    world: World, warehouse_copy: Path, tmp_path: Path, command: str
) -> None:
    result = _invoke(
        [
            *COMMANDS[command](world, tmp_path),
            "--warehouse",
            str(warehouse_copy),
            "--warehouse-key",
            str(tmp_path / "nope.key"),
        ]
    )
    _assert_one_clear_line(result, "cannot read the warehouse key file")


@pytest.mark.parametrize("command", NEED_A_WAREHOUSE)
def test_a_missing_warehouse_file_is_one_clear_line(
    world: World, tmp_path: Path, command: str
) -> None:
    missing = tmp_path / "nowhere" / "pahichan.duckdb"
    result = _invoke(
        [
            *COMMANDS[command](world, tmp_path),
            "--warehouse",
            str(missing),
            "--warehouse-key",
            str(world.key_file),
        ]
    )
    _assert_one_clear_line(result, f"no warehouse at {missing}")
    assert not missing.exists()


@pytest.mark.parametrize("command", list(COMMANDS))
def test_help_names_the_key_option_and_its_variables(command: str) -> None:
    result = _invoke([*command.split(), "--help"])
    assert result.exit_code == 0, result.output
    for text in ("--warehouse-key", "PAHICHAN_WAREHOUSE_KEY_FILE", "PAHICHAN_WAREHOUSE"):
        assert text in result.output, (command, text)
