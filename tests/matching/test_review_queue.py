"""The review queue is sized (issue 18): at most `review_queue_share` of the records, the
pairs of highest expected gain, none whose records already share a survivor ID."""

from __future__ import annotations

from dataclasses import replace

import linkage.matching as lm
from linkage.matching.review import UNQUEUED
from tests.matching.conftest import load


def test_queue_holds_at_most_the_share_ordered_by_expected_gain(con, model, population):
    load(con, population["batch1"], "b1")
    load(con, population["batch2"], "b2")
    records = con.execute("SELECT count(*) FROM linkage.records").fetchone()[0]
    # The test population leaves only a few pairs below the threshold: a share that
    # allows one pair makes the cap bind.
    model.settings = replace(model.settings, review_queue_share=1.5 / records)
    result = lm.link_new_records(con, model, run_id="run1")
    band = con.execute(
        "SELECT count(*) FROM linkage.pairs WHERE decision IN ('review', ?)", [UNQUEUED]
    ).fetchone()[0]
    queued = con.execute(
        """SELECT count(*), count(*) FILTER (WHERE ml.survivor_id = mr.survivor_id)
        FROM linkage.pairs AS p
        JOIN linkage.memberships AS ml ON ml.record_token = p.record_token_l
        JOIN linkage.memberships AS mr ON mr.record_token = p.record_token_r
        WHERE p.decision = 'review'"""
    ).fetchone()
    # The scenario has more below-threshold pairs than the queue may hold.
    assert band > model.settings.review_queue_share * records
    assert result.review_pairs == queued[0] <= model.settings.review_queue_share * records
    assert queued[0] > 0
    assert queued[1] == 0  # a must-link could change nothing for these
    queue = lm.review_queue(con, model, limit=1000)
    assert len(queue) == queued[0]
    gains = queue["expected_gain"].tolist()
    assert gains == sorted(gains, reverse=True)
    assert min(gains) > 0
