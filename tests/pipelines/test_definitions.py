"""The code location loads, and its names are what this file says (a rename is a visible diff).

The snapshot covers the stages built here (ingest, staging, linkage). Stages core, marts
and publish add their own assets: they are checked to be collected, not listed here.
"""

from __future__ import annotations

import dagster as dg
import pytest

from pipelines.definitions import build_definitions
from pipelines.resources import resources_from_env

SOURCES = ("migration", "ocmc", "shelter")
CHECKS = (
    "batch_is_not_a_duplicate",
    "batch_is_within_limits",
    "columns_match_contract",
    "key_id_is_current",
    "loaded_plus_quarantined_equals_received",
    "manifest_is_signed_by_agency",
    "manifest_is_valid",
    "quarantine_is_within_limits",
    "record_tokens_are_unique",
    "rows_match_manifest",
    "rows_meet_expectations",
    "sha256_matches_manifest",
    "source_type_is_registered_for_agency",
    "versions_are_supported",
)
EXPECTED_ASSETS = [
    "ingest/withdrawals",
    "linkage/id_changes",
    "linkage/memberships",
    "linkage/model",
    "linkage/pairs",
    "linkage/records",
    "linkage/survivor_ids",
    "staging/migration",
    "staging/ocmc",
    "staging/shelter",
]
EXPECTED_CHECKS = [
    "ingest/withdrawals:withdrawals_are_accepted",
    *(f"staging/{source}:{check}" for source in SOURCES for check in CHECKS),
]
EXPECTED_JOBS = {
    "ingest_migration_batch",
    "ingest_ocmc_batch",
    "ingest_shelter_batch",
    "rebuild_and_publish",
    "train_linkage_model",
}
EXPECTED_SCHEDULES = {"nightly_rebuild_and_publish"}
EXPECTED_SENSORS = {"inbox_sensor"}
OWN_STAGES = ("ingest", "staging", "linkage")


@pytest.fixture(scope="module")
def repository() -> dg.RepositoryDefinition:
    return build_definitions(resources_from_env({})).get_repository_def()


def test_snapshot_of_assets_and_checks(repository: dg.RepositoryDefinition) -> None:
    keys = sorted(k.to_user_string() for k in repository.asset_graph.get_all_asset_keys())
    assert [k for k in keys if k.split("/")[0] in OWN_STAGES] == EXPECTED_ASSETS
    checks = sorted(
        f"{k.asset_key.to_user_string()}:{k.name}" for k in repository.asset_graph.asset_check_keys
    )
    assert [c for c in checks if c.split("/")[0] in OWN_STAGES] == EXPECTED_CHECKS


def test_snapshot_of_jobs_schedules_sensors(repository: dg.RepositoryDefinition) -> None:
    jobs = {job.name for job in repository.get_all_jobs()} - {"__ASSET_JOB"}
    assert jobs >= EXPECTED_JOBS
    assert {s.name for s in repository.schedule_defs} >= EXPECTED_SCHEDULES
    assert {s.name for s in repository.sensor_defs} >= EXPECTED_SENSORS
    schedule = repository.get_schedule_def("nightly_rebuild_and_publish")
    assert schedule.job_name == "rebuild_and_publish"
    assert schedule.execution_timezone == "Asia/Kathmandu"


def test_rebuild_job_selects_linking_and_later_stages_but_never_training(
    repository: dg.RepositoryDefinition,
) -> None:
    job = repository.get_job("rebuild_and_publish")
    selected = {k.to_user_string() for k in job.asset_layer.selected_asset_keys}
    assert "linkage/memberships" in selected
    assert "ingest/withdrawals" in selected  # erasure before anything is linked or published
    assert "linkage/model" not in selected
    later = {
        k.to_user_string()
        for k, node in ((n.key, n) for n in repository.asset_graph.asset_nodes)
        if node.group_name in ("core", "marts", "publish")
    }
    assert later <= selected


def test_every_asset_has_a_description_and_jobs_run_in_process(
    repository: dg.RepositoryDefinition,
) -> None:
    for key, node in ((n.key, n) for n in repository.asset_graph.asset_nodes):
        if key.path[0] in OWN_STAGES:
            assert node.description, f"{key.to_user_string()} has no description"
    assert repository.get_job("ingest_shelter_batch").executor_def.name == "in_process"


def test_resources_come_from_pahichan_variables(tmp_path) -> None:
    env = {
        "PAHICHAN_INBOX": str(tmp_path / "in"),
        "PAHICHAN_WAREHOUSE": str(tmp_path / "w" / "x.duckdb"),
        "PAHICHAN_KEY_ID": "pk1-00",
        "PAHICHAN_LINK_UPPER": "9.5",
        "PAHICHAN_SUPPRESSION_THRESHOLD": "10",
    }
    resources = resources_from_env(env, key_id=None)
    assert resources["inbox"].path == env["PAHICHAN_INBOX"]
    assert resources["settings"].publish_dir == str(tmp_path / "w")
    assert resources["settings"].key_id == "pk1-00"
    assert resources["settings"].link_upper == 9.5
    assert resources["settings"].link_lower is None
    assert resources["settings"].suppression_threshold == 10
    assert resources_from_env(env, key_id="pk1-11")["settings"].key_id == "pk1-11"
