"""Shared synthetic data for the tests of `linkage.synthetic` (small N, generated once)."""

from __future__ import annotations

import pandas as pd
import pytest

from linkage.synthetic import SyntheticData, generate

PEOPLE = 5000
SEED = 11


@pytest.fixture(scope="package")
def data() -> SyntheticData:
    return generate(PEOPLE, SEED)


@pytest.fixture(scope="package")
def records(data: SyntheticData) -> pd.DataFrame:
    """Every extract row with its source, true person and that person's true attributes."""
    frames = [frame.assign(source=source) for source, frame in data.extracts.items()]
    rows = pd.concat(frames, ignore_index=True)
    rows = rows.merge(data.truth, on=["source", "record_id"], how="left", validate="1:1")
    return rows.merge(
        data.people.add_prefix("true_").rename(columns={"true_person_id": "person_id"}),
        on="person_id",
        how="left",
        validate="m:1",
    )


@pytest.fixture(scope="package")
def episodes(records: pd.DataFrame) -> pd.DataFrame:
    """The contact-episode rows only (record_kind blank or `episode`), not follow-up visits."""
    return records[records["record_kind"].isin(["", "episode"])]
