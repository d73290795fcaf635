"""The code location loads, and its names and lineage are what this file says (a rename or a
new dependency is a visible diff in this snapshot of the whole asset graph).
"""

from __future__ import annotations

import dagster as dg
import pytest

from pipelines.definitions import build_definitions
from pipelines.resources import resources_from_env

SOURCES = ("migration", "ocmc", "shelter")
STAGING = [f"staging/{source}" for source in SOURCES]
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
CORE = (
    "agencies",
    "calendar",
    "episode_services",
    "episodes",
    "followups",
    "geography",
    "id_change_log",
    "referrals",
    "survivor_records",
    "survivors",
)
MARTS = (
    "followup_coverage",
    "geography",
    "quality_statistics",
    "quarantine_reasons",
    "referral_statistics",
    "reintegration_statistics",
    "service_statistics",
    "survivor_statistics",
)
LINKAGE = ("id_changes", "memberships", "pairs", "records", "survivor_ids")
LINKED = [f"linkage/{table}" for table in LINKAGE]
# Every asset with its upstream assets: the data flow as the UI draws it.
EXPECTED_LINEAGE = {
    "ingest/withdrawals": [],
    "linkage/model": STAGING,
    **{name: ["ingest/withdrawals", "linkage/model", *STAGING] for name in LINKED},
    **{name: [] for name in STAGING},
    "core/geography": [],
    "core/calendar": STAGING,
    "core/survivor_records": ["linkage/memberships", *STAGING],
    "core/agencies": ["core/survivor_records", *STAGING],
    "core/episodes": ["core/survivor_records"],
    "core/survivors": ["core/episodes"],
    "core/episode_services": ["core/episodes"],
    "core/referrals": ["core/episodes"],
    "core/followups": ["core/survivor_records", "core/survivors", *STAGING],
    "core/id_change_log": ["linkage/id_changes"],
    "marts/survivor_statistics": [
        "core/calendar",
        "core/episodes",
        "core/geography",
        "core/survivors",
    ],
    "marts/service_statistics": [
        "core/calendar",
        "core/episode_services",
        "core/episodes",
        "core/geography",
        "core/survivors",
    ],
    "marts/referral_statistics": [
        "core/calendar",
        "core/geography",
        "core/referrals",
        "core/survivors",
    ],
    "marts/quality_statistics": ["core/survivor_records", "linkage/pairs", *STAGING],
    "marts/quarantine_reasons": STAGING,
    "marts/reintegration_statistics": [
        "core/calendar",
        "core/episode_services",
        "core/episodes",
        "core/followups",
        "core/geography",
        "core/survivors",
    ],
    "marts/followup_coverage": [
        "core/calendar",
        "core/episodes",
        "core/followups",
        "core/geography",
        "core/survivors",
    ],
    "marts/geography": ["core/geography"],
    "publish/public": ["core/episodes", "linkage/pairs", *(f"marts/{m}" for m in MARTS)],
    "publish/operations": ["ingest/withdrawals", "linkage/pairs", *STAGING],
    "publish/analyst": [
        "core/episode_services",
        "core/episodes",
        "core/referrals",
        "core/survivors",
    ],
}
EXPECTED_CHECKS = sorted(
    [
        "ingest/withdrawals:withdrawals_are_accepted",
        *(f"{stage}:{check}" for stage in STAGING for check in CHECKS),
        *(f"core/{table}:grain_is_unique_and_not_null" for table in CORE),
        *(f"marts/{table}:grain_is_unique_and_not_null" for table in MARTS),
        "publish/public:hidden_small_cells_have_wide_ranges",
        "publish/public:no_published_count_is_small",
    ]
)
EXPECTED_JOBS = {
    "ingest_migration_batch",
    "ingest_ocmc_batch",
    "ingest_shelter_batch",
    "rebuild_and_publish",
    "train_linkage_model",
}
EXPECTED_SCHEDULES = {"nightly_rebuild_and_publish"}
EXPECTED_SENSORS = {"inbox_sensor", "run_failure_alert"}


@pytest.fixture(scope="module")
def repository() -> dg.RepositoryDefinition:
    return build_definitions(resources_from_env({})).get_repository_def()


def test_snapshot_of_assets_lineage_and_checks(repository: dg.RepositoryDefinition) -> None:
    graph = repository.asset_graph
    lineage = {
        key.to_user_string(): sorted(p.to_user_string() for p in graph.get(key).parent_keys)
        for key in graph.get_all_asset_keys()
    }
    assert lineage == {name: sorted(parents) for name, parents in EXPECTED_LINEAGE.items()}
    checks = sorted(f"{k.asset_key.to_user_string()}:{k.name}" for k in graph.asset_check_keys)
    assert checks == EXPECTED_CHECKS


def test_snapshot_of_jobs_schedules_sensors(repository: dg.RepositoryDefinition) -> None:
    jobs = {job.name for job in repository.get_all_jobs()} - {"__ASSET_JOB"}
    assert jobs >= EXPECTED_JOBS
    assert {s.name for s in repository.schedule_defs} >= EXPECTED_SCHEDULES
    assert {s.name for s in repository.sensor_defs} == EXPECTED_SENSORS
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
        assert node.description and "Grain" in node.description, key.to_user_string()
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
