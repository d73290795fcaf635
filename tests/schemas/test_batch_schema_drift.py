"""Each batch fact is written once: the copies that used to drift are generated or checked.

The one definition is `linkage.encoding.schema.BATCH_COLUMNS`. These tests fail when
(a) a warehouse's staging tables or `linkage.records` (fresh or upgraded from an older
version) differ from it, (b) a hand-written copy of the column list, of the staging DDL or
of its ALTERs appears in a Python or SQL source, or a source-type / version constant is
assigned outside its one module, (c) the agency contract YAML disagrees with it where they
overlap, (d) the committed docs/interfaces.md table is not the generated one.
"""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from linkage.encoding.schema import (
    BATCH_COLUMN_NAMES,
    BATCH_COLUMNS,
    BATCH_SCHEMA,
    FOLLOWUP_COLUMNS,
)
from linkage.matching.store import RECORD_COLUMNS, ensure_linkage_schema
from pipelines.defs.ingest.staging_schema import (
    STAGING_OWN_COLUMNS,
    ensure_staging_schema,
    staging_columns_present,
    staging_ddl,
    staging_table_names,
    staging_upgrade_statements,
)
from pipelines.defs.ingest.warehouse import ensure_ingest_schema
from pipelines.interface_doc import DEFAULT_DOC, batch_columns_table, render
from schemas.contract import CONTRACT_VERSION, load_contract
from schemas.vocabularies import AGENCY_TYPES, SOURCE_TYPES

REPO = Path(__file__).resolve().parents[2]
DEFINITION = "linkage/encoding/schema.py"
# The columns every copy of the list would carry (follow-up answers come from their config).
CORE_NAMES = frozenset(n for n in BATCH_COLUMN_NAMES if n not in FOLLOWUP_COLUMNS)
# A literal naming at least this many of them together is a copy of the list, not a selection
# (core reads 16, the linkage model's prepare step a similar share).
COPY_THRESHOLD = len(CORE_NAMES) // 2 + 1
DUCKDB_TYPE_WORDS = r"(?:VARCHAR|INTEGER|BLOB|DATE|TEXT|BIGINT|TIMESTAMPTZ?)(?:\[\])?"


def _table_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[tuple]:
    return con.execute(
        "SELECT column_name, data_type, is_nullable = 'YES' FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, table],
    ).fetchall()


def _expected_staging() -> list[tuple]:
    batch = [(c.name, c.duckdb_type, not c.staging_required) for c in BATCH_COLUMNS]
    spelled = {"TIMESTAMPTZ": "TIMESTAMP WITH TIME ZONE"}  # as information_schema writes it
    own = [
        (name, spelled.get(kind.split()[0], kind.split()[0]), "NOT NULL" not in kind)
        for name, kind in STAGING_OWN_COLUMNS
    ]
    return batch + own


# --- (a) the warehouse has exactly the definition -------------------------------------------


def test_fresh_warehouse_staging_and_linkage_tables_match_the_definition() -> None:
    con = duckdb.connect()
    ensure_ingest_schema(con)
    ensure_linkage_schema(con)
    for source_type in SOURCE_TYPES:
        assert _table_columns(con, "staging", source_type) == _expected_staging()
    records = _table_columns(con, "linkage", "records")
    assert [(name, kind) for name, kind, _ in records[: len(RECORD_COLUMNS)]] == [
        (c.name, c.duckdb_type) for c in RECORD_COLUMNS
    ]
    assert not set(FOLLOWUP_COLUMNS) & {name for name, *_ in records}
    # Nothing left to upgrade: a second connection runs no ALTER.
    assert staging_upgrade_statements(staging_columns_present(con)) == []


def test_warehouse_of_an_older_version_gains_every_optional_column_once() -> None:
    """Tables created before the later columns existed end with the definition's columns."""
    con = duckdb.connect()
    first = [c for c in BATCH_COLUMNS if not c.optional]
    body = ", ".join(f"{c.name} {c.duckdb_type}" for c in first)
    con.execute("CREATE SCHEMA staging")
    con.execute("CREATE SCHEMA linkage")
    for table in staging_table_names():
        own = ", ".join(f"{name} {kind}" for name, kind in STAGING_OWN_COLUMNS)
        con.execute(f"CREATE TABLE {table} ({body}, {own})")
    old_records = ", ".join(f"{c.name} {c.duckdb_type}" for c in RECORD_COLUMNS if not c.optional)
    con.execute(f"CREATE TABLE linkage.records ({old_records}, batch_id VARCHAR)")
    pending = staging_upgrade_statements(staging_columns_present(con))
    optional = [c.name for c in BATCH_COLUMNS if c.optional]
    assert len(pending) == len(SOURCE_TYPES) * len(optional)

    ensure_staging_schema(con)
    ensure_linkage_schema(con)
    for source_type in SOURCE_TYPES:
        have = {
            name: (kind, nullable)
            for name, kind, nullable in _table_columns(con, "staging", source_type)
        }
        for c in BATCH_COLUMNS:
            assert have[c.name][0] == c.duckdb_type, c.name
    records = {name: kind for name, kind, _ in _table_columns(con, "linkage", "records")}
    assert all(records[c.name] == c.duckdb_type for c in RECORD_COLUMNS)
    assert staging_upgrade_statements(staging_columns_present(con)) == []


def test_staging_upgrade_adds_only_optional_columns() -> None:
    """A missing first-version column is not papered over by an ALTER (it would be a table
    this code did not create)."""
    present = {table: {"batch_id"} for table in staging_table_names()}
    added = {s.split("IF NOT EXISTS ")[1].split()[0] for s in staging_upgrade_statements(present)}
    assert added == {c.name for c in BATCH_COLUMNS if c.optional}


# --- (b) no hand-written copy anywhere else -------------------------------------------------


def _is_type_like(node: ast.AST) -> bool:
    """A DuckDB type string or a pyarrow type expression (`pa.string()`)."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    while isinstance(node, ast.Call | ast.Attribute):
        node = node.func if isinstance(node, ast.Call) else node.value
    return isinstance(node, ast.Name) and node.id in {"pa", "pyarrow"}


def _named(node: ast.AST) -> str | None:
    """The column name an element of a literal carries: "x", ("x", ...), pa.field("x", ...)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Tuple) and node.elts:
        return _named(node.elts[0])
    if isinstance(node, ast.Call) and node.args:
        return _named(node.args[0])
    return None


def _sql_copies(text: str) -> list[str]:
    """Copies in SQL text: a CREATE TABLE typing most batch columns, or an ALTER adding one
    to a staging table or linkage.records."""
    found = []
    for statement in re.split(r";", text):
        if re.search(r"CREATE\s+(?:OR\s+REPLACE\s+)?TABLE", statement, re.I):
            typed = {
                m.group(1)
                for m in re.finditer(rf"\b([a-z_0-9]+)\s+{DUCKDB_TYPE_WORDS}\b", statement)
            }
            if len(typed & CORE_NAMES) >= COPY_THRESHOLD:
                found.append("CREATE TABLE with the batch columns")
        for m in re.finditer(
            r"ALTER\s+TABLE\s+(staging\.\w+|linkage\.records)\s+ADD\s+COLUMN\s+"
            r"(?:IF\s+NOT\s+EXISTS\s+)?\"?([a-z_0-9]+)",
            statement,
            re.I,
        ):
            if m.group(2) in BATCH_COLUMN_NAMES:
                found.append(f"ALTER {m.group(1)} ADD COLUMN {m.group(2)}")
    return found


def python_copies(source: str) -> list[str]:
    """Hand-written copies of the batch column list in Python source (see module doc)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        names: set[str] = set()
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            names = {n for n in map(_named, node.elts) if n}
        elif isinstance(node, ast.Dict) and all(_is_type_like(v) for v in node.values if v):
            # name -> type maps; a dict of computed values (the encoder's output) is not a
            # definition, and pa.Table.from_pydict(schema=BATCH_SCHEMA) checks it anyway.
            names = {n for n in map(_named, (k for k in node.keys if k)) if n}
        if len(names & CORE_NAMES) >= COPY_THRESHOLD:
            found.append(
                f"line {node.lineno}: literal with {len(names & CORE_NAMES)} batch columns"
            )
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found += [f"line {node.lineno}: {hit}" for hit in _sql_copies(node.value)]
    return found


def _sources() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py", "*.sql"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [
        REPO / name
        for name in listed
        if not name.startswith(("tests/", "docs/"))
        and name != DEFINITION
        and (REPO / name).exists()
    ]


def test_the_detector_finds_the_old_copies_and_spares_uses() -> None:
    """The scan below is only meaningful if it would have caught what the issue found."""
    store_copy = (
        "COLS = {" + ", ".join(f'"{c.name}": "{c.duckdb_type}"' for c in BATCH_COLUMNS) + "}"
    )
    field_copy = (
        "S = pa.schema([" + ", ".join(f'pa.field("{n}", pa.string())' for n in CORE_NAMES) + "])"
    )
    names_copy = "NAMES = (" + ", ".join(f'"{n}"' for n in BATCH_COLUMN_NAMES) + ")"
    staging_copy = "DDL = '''" + ";\n".join(staging_ddl()) + "'''"
    alter_copy = 'X = "ALTER TABLE staging.ocmc ADD COLUMN IF NOT EXISTS ward_token VARCHAR"'
    for source in (store_copy, field_copy, names_copy, staging_copy, alter_copy):
        assert python_copies(source), source[:60]
    assert _sql_copies(";\n".join(staging_ddl()))
    # Uses are not copies: the encoder's output dict, a selection of a few columns, and
    # core's own table that shares some names.
    encoder_like = "out = {" + ", ".join(f'"{n}": f(x)' for n in CORE_NAMES) + "}"
    selection = 'COLS = ("record_token", "sex", "age_band", "contact_date", "services")'
    core_like = "CREATE TABLE core.t (record_token VARCHAR, sex VARCHAR, contact_date DATE)"
    assert not python_copies(encoder_like)
    assert not python_copies(selection)
    assert not _sql_copies(core_like)


def test_no_source_outside_the_definition_writes_the_batch_columns() -> None:
    copies = {}
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        found = python_copies(text) if path.suffix == ".py" else _sql_copies(text)
        if found:
            copies[str(path.relative_to(REPO))] = found
    assert copies == {}, f"batch columns written outside {DEFINITION}: {copies}"


# Each of these is assigned (defined) in exactly one module; everything else imports it.
ONE_DEFINITION = {
    "SOURCE_TYPES": "schemas/vocabularies.py",
    "CONTRACT_VERSION": "schemas/contract.py",
    "ENCODING_VERSION": "linkage/encoding/crypto.py",
    "ENCODING_VERSIONS": "linkage/encoding/crypto.py",
    "BATCH_COLUMNS": DEFINITION,
    "BATCH_SCHEMA": DEFINITION,
}


def test_versions_and_source_types_are_assigned_in_one_module_each() -> None:
    where: dict[str, set[str]] = {name: set() for name in ONE_DEFINITION}
    source_type_literals = []
    for path in [*_sources(), REPO / DEFINITION]:
        if path.suffix != ".py":
            continue
        relative = str(path.relative_to(REPO))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = (
                node.targets
                if isinstance(node, ast.Assign)
                else [node.target]
                if isinstance(node, ast.AnnAssign)
                else []
            )
            for target in targets:
                if isinstance(target, ast.Name) and target.id in where:
                    where[target.id].add(relative)
            if isinstance(node, ast.Tuple | ast.List) and [_named(e) for e in node.elts] == list(
                SOURCE_TYPES
            ):
                source_type_literals.append(f"{relative}:{node.lineno}")
    assert where == {name: {module} for name, module in ONE_DEFINITION.items()}
    assert len(source_type_literals) == 1, source_type_literals
    assert source_type_literals[0].startswith(ONE_DEFINITION["SOURCE_TYPES"] + ":")
    # The agency-type vocabulary starts with the source types (its labels are a separate fact).
    assert tuple(AGENCY_TYPES)[: len(SOURCE_TYPES)] == SOURCE_TYPES


# --- (c) the agency contract YAML agrees where it overlaps ----------------------------------

_YAML_TO_ARROW = {"string": pa.string(), "date": pa.date32(), "list": pa.list_(pa.string())}


def test_contract_yaml_and_batch_definition_agree_where_they_overlap() -> None:
    contract = {c.name: c for c in load_contract()}
    overlap = [c for c in BATCH_COLUMNS if c.name in contract]
    assert {c.name for c in overlap} >= {
        "contact_date",
        "record_kind",
        "consent_scope",
        "services",
        *FOLLOWUP_COLUMNS,
    }
    for column in overlap:
        declared = contract[column.name]
        # Never in clear: an identifier of the extract cannot be a batch column.
        assert declared.kind != "identifier", column.name
        if column.name in FOLLOWUP_COLUMNS:
            # Answers travel as the canonical answer text, whatever the scale's type.
            assert column.type == pa.string() and column.optional
        else:
            assert column.type == _YAML_TO_ARROW[declared.type], column.name
        if declared.required:
            assert not column.nullable, column.name
    # Follow-up answers: the same columns in the same order as the contract.
    assert [n for n in contract if n.startswith("ri_")] == list(FOLLOWUP_COLUMNS)
    assert BATCH_SCHEMA.metadata[b"contract_version"].decode() == CONTRACT_VERSION


# --- (d) the interface doc's table is the generated one -------------------------------------


def test_interfaces_doc_batch_table_is_generated() -> None:
    committed = DEFAULT_DOC.read_text(encoding="utf-8")
    assert render(committed) == committed, "run: python -m pipelines.interface_doc"
    for column in BATCH_COLUMNS:
        assert f"`{column.name}`" in batch_columns_table() or column.doc_label


def test_render_refuses_a_document_without_markers() -> None:
    with pytest.raises(ValueError, match="markers"):
        render("# no markers here\n")


# --- (e) the expectation suites name only columns that exist --------------------------------


def test_expectation_suites_name_batch_columns_or_derived_ones() -> None:
    """A renamed or dropped batch column must not leave a rule checking nothing."""
    import json

    from pipelines.defs.ingest.contract import FILTER_COLUMNS

    # Computed from the batch before validation (pipelines/defs/ingest/validation.py).
    derived = {
        "services_unknown",
        "name_filter_count",
        "birth_token_count",
        *(f"{c}_bytes" for c in FILTER_COLUMNS),
    }
    named = set()
    for path in sorted((REPO / "schemas" / "expectations").glob("*.json")):
        for expectation in json.loads(path.read_text(encoding="utf-8"))["expectations"]:
            kwargs = expectation["kwargs"]
            named |= {kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs}
            named |= set(kwargs.get("column_list", ()))
    assert named, "no expectation names a column: the suites moved?"
    assert named - set(BATCH_COLUMN_NAMES) - derived == set()


def test_the_definition_is_importable_without_the_warehouse() -> None:
    """The agency tool installs without duckdb and dagster; the definition must not need them."""
    import sys

    probe = (
        "import sys, linkage.encoding.schema; "
        "print(sorted(m for m in ('duckdb', 'dagster', 'pipelines') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "[]"
