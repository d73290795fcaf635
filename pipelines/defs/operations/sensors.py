"""`run_failure_alert`: every failed run of this code location becomes an alert."""

# No `from __future__ import annotations`: Dagster reads the context/resource annotations
# of decorated functions at definition time.

from dagster import DefaultSensorStatus, RunFailureSensorContext, run_failure_sensor

from pipelines.alerts import AlertSinkResource


@run_failure_sensor(
    name="run_failure_alert",
    default_status=DefaultSensorStatus.RUNNING,
    description="Sends an alert (PAHICHAN_ALERT_FILE, PAHICHAN_ALERT_WEBHOOK) for every failed "
    "run: job, run id, failed steps and the error, never a value from a batch.",
)
def run_failure_alert(context: RunFailureSensorContext, alerts: AlertSinkResource) -> None:
    run = context.dagster_run
    failed_steps = sorted(
        {event.step_key for event in context.get_step_failure_events() if event.step_key}
    )
    alerts.send(
        {
            "kind": "run_failure",
            "job": run.job_name,
            "run_id": run.run_id,
            "partition": run.tags.get("dagster/partition"),
            "failed_steps": failed_steps,
            "message": context.failure_event.message or "",
        }
    )
