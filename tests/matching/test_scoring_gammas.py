"""Scoring predicts narrow and recomputes the gammas: the same pairs, weights and gammas as
Splink's own output with the matching columns retained."""

from __future__ import annotations

import duckdb

import linkage.matching as lm
from linkage.matching.prepare import prepare_input
from linkage.matching.scoring import EXISTING_TABLE, NEW_TABLE, SCORED_TABLE, score_new_records
from linkage.matching.spec import TrainedModel, gamma_columns
from tests.matching.conftest import load


def _splink_wide(con: duckdb.DuckDBPyConnection, model: TrainedModel) -> set[tuple]:
    """Pairs as Splink itself gives them with `retain_matching_columns` (the model's own
    settings): (low token, high token, weight, gammas...)."""
    from splink import DuckDBAPI, Linker

    assert model.splink_model["retain_matching_columns"]
    # The same prepared records as scoring's (which drops its own copy when done).
    prepare_input(con, NEW_TABLE, model.settings, "new")
    prepare_input(con, EXISTING_TABLE, model.settings, "existing")
    db_api = DuckDBAPI(con)
    new = db_api.register(NEW_TABLE)
    linker = Linker(new, model.splink_model, log_level=None)
    threshold = model.lower_match_weight
    outputs = [
        linker.inference.predict_within(new, threshold_match_weight=threshold),
        linker.inference.predict_between(
            db_api.register(EXISTING_TABLE), new, threshold_match_weight=threshold
        ),
    ]
    gammas = gamma_columns(model.splink_model)
    pairs = set()
    for output in outputs:
        rows = con.execute(
            f"SELECT least(record_token_l, record_token_r), greatest(record_token_l, "  # noqa: S608
            f"record_token_r), round(match_weight, 9), {', '.join(gammas)} "
            f"FROM {output.physical_name}"
        ).fetchall()
        pairs |= set(rows)
    linker.table_management.delete_tables_created_by_splink_from_db()
    return pairs


def test_narrow_scoring_keeps_splinks_pairs_weights_and_gammas(con, model, population):
    load(con, population["batch1"], "b1")
    lm.link_new_records(con, model, run_id="r1")
    load(con, population["batch2"], "b2")

    score_new_records(con, model)
    # Scoring leaves no prepared copy of the records behind in DuckDB's memory.
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert not {NEW_TABLE, EXISTING_TABLE} & tables
    gammas = gamma_columns(model.splink_model)
    ours = set(
        con.execute(
            f"SELECT record_token_l, record_token_r, round(match_weight, 9), "  # noqa: S608
            f"{', '.join(gammas)} FROM {SCORED_TABLE}"
        ).fetchall()
    )
    theirs = _splink_wide(con, model)

    assert len(ours) > 100  # new x new and new x existing pairs both scored
    assert ours == theirs
    # Every level of the name comparisons occurs, so the CASE order is really checked.
    given = {row[3 + gammas.index("gamma_given_name")] for row in ours}
    assert len(given) >= 3
