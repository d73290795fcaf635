"""Nightly: link what arrived during the day, rebuild core and marts, publish (no training)."""

from __future__ import annotations

from dagster import DefaultScheduleStatus, ScheduleDefinition

from pipelines.defs.linkage.jobs import rebuild_and_publish

nightly_rebuild_and_publish = ScheduleDefinition(
    name="nightly_rebuild_and_publish",
    job=rebuild_and_publish,
    cron_schedule="30 1 * * *",
    execution_timezone="Asia/Kathmandu",
    default_status=DefaultScheduleStatus.RUNNING,
    description="01:30 Nepal time: link new records, rebuild core/marts, publish reader files.",
)
