"""Alert → webhook → event bus → remediation worker → incident recorded, on the in-process bus
and on a real nats-server; a redelivery after a worker failure does not open a second incident
and resumes the first where it stopped."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from alerts_support import (
    OWNER,
    RecordingNotifier,
    live_fault_alert,
    settled_incidents,
    wait_until,
    webhook,
)
from bus_support import nats_server
from fastapi.testclient import TestClient
from langchain_core.runnables import RunnableConfig

from hexaops.incidents import store as incidents
from hexaops.incidents.alerts import Alert
from hexaops.incidents.workflow import Remediator, RunState
from hexaops.platform.bus import ALERTS, NOTIFICATIONS, Delivery, Event, MemoryBroker, MemoryBus
from hexaops.platform.bus.nats import NatsBus
from hexaops.platform.core import Platform
from hexaops.platform.telemetry.clickhouse import ClickHouseStore
from hexaops.settings import Settings
from hexaops.ui.api import create_app
from hexaops.ui.auth import dev_token
from hexaops.ui.webhooks import message_id
from hexaops.ui.worker import RemediationWorker


@pytest.fixture
def settings(chdb_home: Path, store: ClickHouseStore) -> Settings:
    """The worker reads the telemetry the test's sandbox writes (the `store` database)."""
    return Settings(home=chdb_home, clickhouse_database=store.database, model_provider="offline")


@pytest.fixture(params=["embedded", "nats"])
def api(
    request: pytest.FixtureRequest,
    platform: Platform,
    settings: Settings,
    tmp_path: Path,
) -> Iterator[tuple[TestClient, RecordingNotifier]]:
    """The API with its worker, on the in-process bus or on NATS (HEXAOPS_NATS_URL)."""
    hub = RecordingNotifier()
    with ExitStack() as stack:
        bus = None
        if request.param == "nats":
            url = stack.enter_context(nats_server(tmp_path))
            settings = settings.model_copy(update={"nats_url": url})
        else:
            bus = MemoryBus(MemoryBroker())
        app = create_app(settings, platform, notifier=hub, worker=True, bus=bus)
        client = stack.enter_context(TestClient(app, raise_server_exceptions=False))
        expected = NatsBus if request.param == "nats" else MemoryBus
        assert isinstance(app.state.bus, expected)
        yield client, hub


def test_an_alert_becomes_an_investigated_incident(
    api: tuple[TestClient, RecordingNotifier],
    platform: Platform,
    store: ClickHouseStore,
    settings: Settings,
) -> None:
    client, hub = api
    alert = live_fault_alert(platform, store)
    sent = client.post("/webhooks/alertmanager", json=webhook(alert))
    assert sent.status_code == 202, sent.text
    [incident] = wait_until(lambda: settled_incidents(platform), timeout=90)
    # No automation policy is stored: the plan waits for an owner or admin.
    detail = incidents.detail(platform, platform.user(OWNER), incident["id"])
    assert incident["status"] == "awaiting_approval", [e["summary"] for e in detail["timeline"]]
    assert incident["workload"] == "Deployment/checkout"
    assert "OOMKilled" in incident["root_cause"]
    assert "memory_leak on checkout" in " ".join(e["summary"] for e in detail["timeline"])
    # The same alert again (Alertmanager's repeat): grouped into it, not investigated again.
    assert client.post("/webhooks/alertmanager", json=webhook(alert)).json()["queued"] == 0
    headers = {"Authorization": f"Bearer {dev_token(settings, 'dev@acme.example')}"}
    listed = client.get("/api/incidents", headers=headers).json()
    assert [(i["id"], i["status"]) for i in listed] == [(incident["id"], "awaiting_approval")]
    wait_until(lambda: len(hub.seen) >= 2)
    kinds = [(n.type, n.org) for n in hub.seen]
    assert kinds == [("incident.opened", "acme"), ("incident.updated", "acme")]
    assert "waits for an owner or admin" in hub.seen[1].data["text"]

    # The plan waits for a person: a developer may not decide, the owner approves it.
    decide = f"/api/incidents/{incident['id']}/decision"
    refused = client.post(decide, json={"decision": "approve"}, headers=headers)
    assert refused.status_code == 403
    assert "owner or admin" in refused.json()["detail"]
    owner = {"Authorization": f"Bearer {dev_token(settings, OWNER)}"}
    done = client.post(decide, json={"decision": "approve", "note": "go"}, headers=owner)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "resolved"
    again = client.post(decide, json={"decision": "reject"}, headers=owner)
    assert again.status_code == 409
    wait_until(lambda: len(hub.seen) >= 3)
    assert hub.seen[2].type == "incident.resolved"
    assert "owner@acme.example approved" in hub.seen[2].data["text"]


class CrashOncePlanning(Remediator):
    """A worker that dies after the investigation, on its first incident only."""

    crashed = False

    def _plan(self, state: RunState, config: RunnableConfig) -> RunState:
        if not CrashOncePlanning.crashed:
            CrashOncePlanning.crashed = True
            raise RuntimeError("worker lost its database connection")
        return super()._plan(state, config)


def test_a_redelivered_alert_resumes_its_incident_once(
    platform: Platform, store: ClickHouseStore, settings: Settings
) -> None:
    alert = Alert.model_validate(live_fault_alert(platform, store))
    bus = MemoryBus(MemoryBroker(), Delivery(ack_wait=30, max_deliver=3, retry_delay=0.05))
    worker = RemediationWorker(
        platform,
        settings,
        bus,
        remediator=lambda: CrashOncePlanning(platform, settings, resources={"telemetry": store}),
    )

    async def scenario() -> list[Event]:
        notices: list[Event] = []

        async def note(event: Event) -> None:
            notices.append(event)

        await bus.subscribe(NOTIFICATIONS, "probe", note)
        await worker.start()
        try:
            await bus.publish(ALERTS, alert.to_json(), msg_id=message_id(alert))
            while len(notices) < 2:
                await asyncio.sleep(0.1)
        finally:
            await worker.stop()
            await bus.close()
        return notices

    notices = asyncio.run(asyncio.wait_for(scenario(), 90))
    assert CrashOncePlanning.crashed
    [incident] = incidents.listing(platform, platform.user(OWNER))
    assert incident["status"] == "awaiting_approval"
    detail = incidents.detail(platform, platform.user(OWNER), incident["id"])
    assert detail["alerts"][0]["received"] == 2  # delivered twice, one incident
    kinds = [e["kind"] for e in detail["timeline"]]
    assert kinds.count("hypotheses") == 1  # the investigation was not repeated
    assert kinds.count("plan") == 1
    assert [n.json()["type"] for n in notices] == ["incident.opened", "incident.updated"]
