"""The scaled-out setup: the API takes the webhook (no worker of its own), a separate
`hexaops worker` process takes the alert from NATS, and the API's WebSocket hub hears what
the worker did; Ctrl-C stops the worker cleanly."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from alerts_support import OWNER, SETTLED, RecordingNotifier, wait_until, webhook
from bus_support import nats_server
from fastapi.testclient import TestClient

from hexaops.incidents import store as incidents
from hexaops.platform.core import Platform
from hexaops.settings import Settings
from hexaops.ui.api import create_app

ALERT = {
    "labels": {
        "alertname": "HighErrorRate",
        "severity": "critical",
        "org": "acme",
        "workspace": "acme-prod",
        "project": "shop",
        "application": "payments",
    },
    "annotations": {"summary": "5xx responses above 5%"},
    "startsAt": "2026-01-05T10:00:00Z",
}


def test_a_worker_process_takes_the_alerts_of_the_api(
    platform: Platform, chdb_home: Path, tmp_path: Path
) -> None:
    script = shutil.which("hexaops", path=os.path.dirname(sys.executable))
    assert script is not None
    with nats_server(tmp_path / "js") as url:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HEXAOPS_")}
        env |= {
            "DATABASE_URL": platform.engine.url.render_as_string(hide_password=False),
            "HEXAOPS_NATS_URL": url,
            "HEXAOPS_HOME": str(tmp_path / "worker-home"),  # its own embedded chDB
        }
        log = tmp_path / "worker.log"
        with log.open("w") as out:
            worker = subprocess.Popen([script, "worker"], env=env, stdout=out, stderr=out)
        try:
            settings = Settings(home=chdb_home, model_provider="offline", nats_url=url)
            hub = RecordingNotifier()
            app = create_app(settings, platform, notifier=hub, alerts=True)  # no worker here
            with TestClient(app, raise_server_exceptions=False) as client:
                sent = client.post("/webhooks/alertmanager", json=webhook(ALERT))
                assert sent.json() == {"received": 1, "queued": 1, "duplicates": 0}
                owner = platform.user(OWNER)
                [incident] = wait_until(
                    lambda: [
                        i for i in incidents.listing(platform, owner) if i["status"] in SETTLED
                    ],
                    timeout=90,
                )
                assert incident["workload"] == "Deployment/payments"
                wait_until(lambda: len(hub.seen) >= 2, timeout=30)
                assert hub.seen[0].type == "incident.opened"
                assert hub.seen[0].data["incident"]["id"] == incident["id"]
        finally:
            worker.send_signal(signal.SIGINT)
            code = worker.wait(timeout=60)
    output = log.read_text()
    assert code == 0, output[-3000:]
    assert "HighErrorRate" in output  # one line per alert taken
    assert "worker stopped" in output
    assert "Traceback" not in output
