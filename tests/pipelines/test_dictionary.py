"""docs/data-dictionary.md is generated from the table comments and is up to date."""

from __future__ import annotations

import duckdb

from pipelines.dictionary import DEFAULT_OUTPUT, build_dictionary, collect, render


def test_committed_dictionary_is_up_to_date():
    generated = build_dictionary()
    assert DEFAULT_OUTPUT.read_text(encoding="utf-8") == generated, (
        "docs/data-dictionary.md is stale: run `python -m pipelines.dictionary`"
    )


def test_every_table_states_its_grain():
    text = build_dictionary()
    blocks = text.split("\n### ")[1:]
    assert len(blocks) >= 20
    for block in blocks:
        name, _, body = block.partition("\n")
        assert "Grain:" in body.split("| column |")[0], name


def test_render_lists_columns_with_comments():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA core; CREATE TABLE core.t (a INTEGER, b VARCHAR)")
    con.execute("COMMENT ON TABLE core.t IS 'Things. Grain: one row per thing.'")
    con.execute("COMMENT ON COLUMN core.t.a IS 'A | count'")
    tables = collect(con, ("core",))
    text = render([("Core", "intro", tables)])
    assert "### `core.t`" in text and "| `a` | INTEGER | A \\| count |" in text
    assert "| `b` | VARCHAR |  |" in text
