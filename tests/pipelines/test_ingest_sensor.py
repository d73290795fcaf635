"""The inbox sensor registers each complete batch once and ignores incomplete ones."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from pipelines.defs.ingest.partitions import INBOX_PATH_TAG
from pipelines.defs.ingest.sensors import inbox_sensor
from pipelines.resources import InboxResource
from tests.pipelines.conftest import write_batch


def _tick(instance: dg.DagsterInstance, inbox: Path, cursor: str | None) -> dg.SensorResult:
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"inbox": InboxResource(path=str(inbox))}
    )
    result = inbox_sensor(context)
    # Apply what the daemon would: partitions added, cursor stored.
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return result


def test_sensor_registers_new_batch_once_and_ignores_incomplete(inbox: Path) -> None:
    write_batch(inbox, batch_id="complete")
    write_batch(inbox, source_type="ocmc", batch_id="arriving", write_manifest=False)
    with dg.DagsterInstance.ephemeral() as instance:
        first = _tick(instance, inbox, None)
        assert [(r.partition_key, r.job_name) for r in first.run_requests] == [
            ("complete", "ingest_shelter_batch")
        ]
        assert first.run_requests[0].tags[INBOX_PATH_TAG] == "shelter/agency-a/complete.parquet"
        assert instance.get_dynamic_partitions("shelter_batches") == ["complete"]
        assert instance.get_dynamic_partitions("ocmc_batches") == []

        second = _tick(instance, inbox, first.cursor)
        assert second.run_requests == []
        assert not second.dynamic_partitions_requests

        # The manifest arrives: now the second batch is complete and requested, once.
        write_batch(inbox, source_type="ocmc", batch_id="arriving")
        third = _tick(instance, inbox, second.cursor)
        assert [r.partition_key for r in third.run_requests] == ["arriving"]
        assert instance.get_dynamic_partitions("ocmc_batches") == ["arriving"]
        assert _tick(instance, inbox, third.cursor).run_requests == []


def test_changed_file_content_is_requested_again(inbox: Path) -> None:
    write_batch(inbox, batch_id="b", seed=1)
    with dg.DagsterInstance.ephemeral() as instance:
        first = _tick(instance, inbox, None)
        write_batch(inbox, batch_id="b", seed=2)  # replaced in place with other rows
        second = _tick(instance, inbox, first.cursor)
        assert len(second.run_requests) == 1
        assert second.run_requests[0].run_key != first.run_requests[0].run_key
        assert not second.dynamic_partitions_requests  # partition already known


def test_run_for_an_already_loaded_batch_is_skipped_not_failed(resources, inbox: Path) -> None:
    """The failure seen after `make demo`: the sensor's run for a batch `pahichan run` had
    loaded ended in DagsterStepOutputNotFoundError for every check output."""
    from pipelines.definitions import build_definitions
    from pipelines.defs.staging.assets import SKIP_IF_PROCESSED_TAG

    write_batch(inbox, batch_id="loaded")
    job = build_definitions(resources).resolve_job_def("ingest_shelter_batch")
    tags = {INBOX_PATH_TAG: "shelter/agency-a/loaded.parquet", SKIP_IF_PROCESSED_TAG: "true"}
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("shelter_batches", ["loaded"])
        first = job.execute_in_process(instance=instance, partition_key="loaded", tags=tags)
        second = job.execute_in_process(
            instance=instance, partition_key="loaded", tags=tags, raise_on_error=False
        )
    assert first.success
    assert len(first.get_asset_materialization_events()) == 1
    assert all(c.passed for c in first.get_asset_check_evaluations())
    assert second.success, [e.message for e in second.all_events if e.is_failure]
    assert second.get_asset_materialization_events() == []
    (observation,) = second.get_asset_observation_events()
    assert (
        observation.asset_observation_data.asset_observation.metadata["skipped"].value
        == "already accepted"
    )


def test_sensor_does_not_request_batches_the_cli_loaded_on_its_instance(
    resources, inbox: Path
) -> None:
    """After `make demo`, `pahichan run` has loaded every batch through the same instance the
    daemon uses: the sensor's first tick must request nothing."""
    from pipelines.definitions import build_definitions

    write_batch(inbox, batch_id="loaded")
    write_batch(inbox, source_type="ocmc", agency_id="agency-b", batch_id="new", seed=3)
    job = build_definitions(resources).resolve_job_def("ingest_shelter_batch")
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("shelter_batches", ["loaded"])
        loaded = job.execute_in_process(
            instance=instance,
            partition_key="loaded",
            tags={INBOX_PATH_TAG: "shelter/agency-a/loaded.parquet"},
        )
        assert loaded.success
        first = _tick(instance, inbox, None)
        assert [r.partition_key for r in first.run_requests] == ["new"]
        # The same path with other content is a new file: requested.
        write_batch(inbox, batch_id="loaded", seed=9)
        second = _tick(instance, inbox, first.cursor)
        assert [r.partition_key for r in second.run_requests] == ["loaded"]


def test_cli_instance_is_the_persistent_one_when_dagster_home_is_set(
    tmp_path: Path, monkeypatch
) -> None:
    from pipelines.instance import cli_instance

    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with cli_instance() as instance:
        assert not instance.is_ephemeral
        assert Path(instance.root_directory) == home
    monkeypatch.delenv("DAGSTER_HOME")
    with cli_instance() as instance:
        assert instance.is_ephemeral
