"""Notices reach the configured Slack channel (a local Slack Web API); `hexaops worker`
without NATS says what to do instead."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

from alerts_support import live_fault_alert
from slack_fake_api import fake_slack

from hexaops.incidents.alerts import Alert
from hexaops.platform.bus import ALERTS, MemoryBroker, MemoryBus
from hexaops.platform.core import Platform
from hexaops.platform.telemetry.clickhouse import ClickHouseStore
from hexaops.settings import Settings
from hexaops.ui.webhooks import message_id
from hexaops.ui.worker import RemediationWorker


def test_incident_notices_are_posted_to_the_alert_channel(
    platform: Platform,
    store: ClickHouseStore,
    chdb_home: Path,
) -> None:
    alert = Alert.model_validate(live_fault_alert(platform, store))
    with fake_slack({}) as (slack, api_url):
        settings = Settings(
            home=chdb_home,
            clickhouse_database=store.database,
            slack_bot_token="xoxb-test",
            slack_alert_channel="#incidents",
            slack_api_url=api_url,
            public_url="https://hexaops.example",
        )
        bus = MemoryBus(MemoryBroker())
        worker = RemediationWorker(platform, settings, bus)

        async def scenario() -> None:
            await worker.start()
            try:
                await bus.publish(ALERTS, alert.to_json(), msg_id=message_id(alert))
                while len(slack.of("chat.postMessage")) < 2:
                    await asyncio.sleep(0.1)
            finally:
                await worker.stop()
                await bus.close()

        asyncio.run(asyncio.wait_for(scenario(), 90))
    opened, waiting = slack.of("chat.postMessage")
    assert {opened["channel"], waiting["channel"]} == {"#incidents"}
    assert opened["text"].startswith("[acme] Incident #1 (acme/acme-prod) opened")
    assert "waits for an owner or admin" in waiting["text"]
    assert "<https://hexaops.example/chat|open the chat>" in waiting["text"]


def test_worker_without_nats_points_to_serve(tmp_path: Path) -> None:
    script = shutil.which("hexaops", path=os.path.dirname(sys.executable))
    assert script is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEXAOPS_")}
    env["HEXAOPS_HOME"] = str(tmp_path)
    run = subprocess.run([script, "worker"], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert "HEXAOPS_NATS_URL" in run.stderr
    assert "hexaops serve" in run.stderr
    assert "Traceback" not in run.stderr
