"""Where run-failure alerts go: a JSON-lines file and/or a webhook, both optional.

An alert names the job, the run, the failed steps and Dagster's error message; never a
record token or any value from a batch (Dagster's messages carry step and check names).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagster import ConfigurableResource

logger = logging.getLogger(__name__)


class AlertSinkResource(ConfigurableResource):
    """`file`: append one JSON line per alert (created 0600); `webhook_url`: POST the same
    JSON (e.g. a chat bridge or a local relay). Neither set: alerts only go to the log."""

    file: str | None = None
    webhook_url: str | None = None
    timeout_seconds: float = 10.0

    def send(self, alert: dict[str, Any]) -> list[str]:
        """Deliver `alert` to every configured sink; returns where it went. A sink that fails
        is logged and skipped: an unreachable webhook must not hide the alert in the file."""
        alert = {"sent_at": dt.datetime.now(dt.UTC).isoformat(), **alert}
        body = json.dumps(alert, sort_keys=True)
        delivered = []
        logger.error("Run failure alert: %s", body)
        if self.file:
            path = Path(self.file)
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
                handle.write(body + "\n")
            delivered.append(str(path))
        if self.webhook_url:
            request = urllib.request.Request(
                self.webhook_url,
                data=body.encode(),
                method="POST",
                headers={"Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_seconds):
                    delivered.append(self.webhook_url)
            except OSError as error:
                logger.error("Alert webhook %s failed: %s", self.webhook_url, error)
        return delivered


def alert_sink_from_env(env: Mapping[str, str]) -> AlertSinkResource:
    """`PAHICHAN_ALERT_FILE` and `PAHICHAN_ALERT_WEBHOOK`."""
    return AlertSinkResource(
        file=env.get("PAHICHAN_ALERT_FILE") or None,
        webhook_url=env.get("PAHICHAN_ALERT_WEBHOOK") or None,
    )
