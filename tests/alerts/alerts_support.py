"""Helpers of the alert tests: the demo's live fault in the sandbox and the Alertmanager
webhook body of the alert it raises; the API with alerts on (webhook, bus, worker)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hexaops.incidents import store as incidents
from hexaops.incidents.faults import alert_for_fault
from hexaops.platform.core import Platform
from hexaops.platform.sandbox import Simulation
from hexaops.platform.telemetry.clickhouse import ClickHouseStore
from hexaops.ui.api.notifications import Notification, NotificationType, Notifier

# Reuse the bus tests' nats_server and the Slack tests' fake Web API.
sys.path[:0] = [str(Path(__file__).parents[1] / "bus"), str(Path(__file__).parents[1] / "slack")]

OWNER = "owner@acme.example"
SETTLED = ("awaiting_approval", "resolved", "escalated", "rejected")


def live_fault_alert(platform: Platform, store: ClickHouseStore) -> dict[str, Any]:
    """checkout in acme-prod leaks memory (12 simulated minutes: OOMKills by then): the alert, as JSON."""
    sim = Simulation(platform.engine)
    fault = sim.inject("oom_memory_leak", "acme", "acme-prod", "checkout")
    sim.advance(30, store)
    owner = platform.user(OWNER)
    apps = [("shop", a.name) for a in platform.applications(owner, "acme-prod", "shop", "acme")]
    return alert_for_fault(sim.truth(fault), sim.now(), apps).to_json()


def webhook(*alerts: dict[str, Any]) -> dict[str, Any]:
    """An Alertmanager v4 webhook body."""
    return {
        "version": "4",
        "groupKey": '{}:{alertname="KubeContainerOOMKilled"}',
        "status": "firing",
        "receiver": "hexaops",
        "groupLabels": {"alertname": "KubeContainerOOMKilled"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "truncatedAlerts": 0,
        "alerts": list(alerts),
    }


def wait_until(check: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout:g} s")
        time.sleep(0.1)


def settled_incidents(platform: Platform) -> list[dict[str, Any]]:
    """The incidents of acme once every one of them has left investigation (else [])."""
    found = incidents.listing(platform, platform.user(OWNER))
    return found if found and all(i["status"] in SETTLED for i in found) else []


class RecordingNotifier(Notifier):
    """The WebSocket hub, remembering what it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[Notification] = []

    def publish(
        self, type: NotificationType, org: str, data: dict[str, Any] | None = None
    ) -> Notification:
        event = super().publish(type, org, data)
        self.seen.append(event)
        return event
