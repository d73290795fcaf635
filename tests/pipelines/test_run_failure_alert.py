"""A failed run becomes an alert in the configured file and on the webhook (127.0.0.1)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import dagster as dg

from pipelines.alerts import AlertSinkResource
from pipelines.definitions import build_definitions
from pipelines.defs.operations.sensors import run_failure_alert


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        type(self).received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_failed_run_is_alerted_to_file_and_webhook(resources, tmp_path: Path) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    alerts = AlertSinkResource(
        file=str(tmp_path / "alerts" / "alerts.jsonl"),
        webhook_url=f"http://127.0.0.1:{server.server_address[1]}/alert",
    )
    job = build_definitions(resources).resolve_job_def("ingest_shelter_batch")
    try:
        with dg.DagsterInstance.ephemeral() as instance:
            # A partition whose batch is not in the inbox: the load step fails.
            instance.add_dynamic_partitions("shelter_batches", ["gone"])
            result = job.execute_in_process(
                instance=instance, partition_key="gone", raise_on_error=False
            )
            assert not result.success
            context = dg.build_run_status_sensor_context(
                sensor_name="run_failure_alert",
                dagster_instance=instance,
                dagster_run=result.dagster_run,
                dagster_event=result.get_run_failure_event(),
            ).for_run_failure()
            run_failure_alert(context, alerts=alerts)
    finally:
        server.shutdown()
    (line,) = (tmp_path / "alerts" / "alerts.jsonl").read_text().splitlines()
    alert = json.loads(line)
    assert alert["job"] == "ingest_shelter_batch"
    assert alert["run_id"] == result.run_id
    assert alert["partition"] == "gone"
    assert alert["failed_steps"] == ["staging_shelter"]
    assert (tmp_path / "alerts" / "alerts.jsonl").stat().st_mode & 0o777 == 0o600
    assert _Receiver.received == [alert]


def test_an_unreachable_webhook_does_not_lose_the_file_alert(tmp_path: Path) -> None:
    alerts = AlertSinkResource(
        file=str(tmp_path / "alerts.jsonl"),
        webhook_url="http://127.0.0.1:9/none",
        timeout_seconds=2,
    )
    assert alerts.send({"kind": "run_failure", "job": "j"}) == [str(tmp_path / "alerts.jsonl")]
    assert json.loads((tmp_path / "alerts.jsonl").read_text())["job"] == "j"
