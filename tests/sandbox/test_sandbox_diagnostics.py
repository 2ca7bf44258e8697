"""Events and pod logs of the simulation, read through the sandbox driver.

The driver reads what `advance` leaves in the sandbox store (no telemetry store: chDB allows one
data path per process), so what an SRE sees with `kubectl get events` / `kubectl logs` agrees
with what went to the TelemetrySink.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sandbox_support import CollectingSink
from sqlalchemy import Engine, create_engine

from hexaops.platform.drivers import sandbox as sandbox_driver
from hexaops.platform.drivers.contract import (
    EVENT_LIMIT,
    LOG_TAIL_LINES,
    NamespaceRef,
    ObservedEvent,
    WorkloadRef,
)
from hexaops.platform.drivers.sandbox import SandboxDriver
from hexaops.platform.sandbox import Simulation
from hexaops.platform.sandbox.load import TICK_SECONDS
from pg_support import fresh_database

SHOP = NamespaceRef(org="acme", workspace="acme-prod", namespace="shop")
CHECKOUT = WorkloadRef(org="acme", workspace="acme-prod", namespace="shop", name="checkout")


@pytest.fixture
def engine(pg_server: str, templates: dict[str, str]) -> Iterator[Engine]:
    engine = create_engine(fresh_database(pg_server, templates["seeded"]))
    yield engine
    engine.dispose()


def test_driver_tick_matches_the_simulation() -> None:
    # The driver keeps its own copy of the tick length (importing it would be circular).
    assert sandbox_driver._TICK_SECONDS == TICK_SECONDS


def test_oom_leak_shows_in_events_and_pod_logs(engine: Engine) -> None:
    sim, driver = Simulation(engine), SandboxDriver(engine)
    sim.inject("oom_memory_leak", "acme", "acme-prod", "shop/checkout")
    sink = CollectingSink()
    sim.advance(120, sink)

    app = driver.get_application(CHECKOUT)
    assert app is not None
    pods = {p.name for p in app.pods}
    events = driver.list_events(SHOP)
    assert len(events) <= EVENT_LIMIT
    assert [e.last_seen for e in events] == sorted(e.last_seen for e in events)

    def repeated(reason: str) -> list[ObservedEvent]:
        return [
            e
            for e in events
            if e.reason == reason and e.kind == "Pod" and e.name in pods and e.count > 1
        ]

    assert repeated("OOMKilling"), [(e.kind, e.name, e.reason, e.count) for e in events]
    assert repeated("BackOff"), events
    oom = repeated("OOMKilling")[0]
    assert oom.type == "Warning"
    assert oom.first_seen < oom.last_seen
    # What the driver shows agrees with what the sink received.
    emitted = [e for e in sink.events if e.reason == "OOMKilling" and e.name == oom.name]
    assert oom.count == len(emitted)
    assert oom.last_seen == max(e.ts for e in emitted)

    later = driver.list_events(SHOP, since=oom.last_seen)
    assert oom in later
    assert all(e.last_seen >= oom.last_seen for e in later)

    logs = {pod: driver.read_pod_logs(CHECKOUT, pod) for pod in sorted(pods)}
    assert all(len(lines) <= LOG_TAIL_LINES for lines in logs.values())
    assert any(
        "OOMKilled" in line or "heap usage" in line for lines in logs.values() for line in lines
    ), logs
    assert all(len(driver.read_pod_logs(CHECKOUT, pod, tail_lines=2)) <= 2 for pod in pods)


def test_stored_diagnostics_stay_bounded(engine: Engine) -> None:
    sim, driver = Simulation(engine), SandboxDriver(engine)
    sim.inject("oom_memory_leak", "acme", "acme-prod", "shop/checkout")
    sink = CollectingSink()
    for _ in range(3):
        sim.advance(60, sink)

    app = driver.get_application(CHECKOUT)
    assert app is not None
    for pod in app.pods:
        assert len(driver.read_pod_logs(CHECKOUT, pod.name, tail_lines=10 * LOG_TAIL_LINES)) <= (
            LOG_TAIL_LINES
        )
    objects = driver.list_objects(SHOP.workspace_ref.host_namespace)
    assert sum(o["kind"] == "Event" for o in objects if o["namespace"] == "shop") <= EVENT_LIMIT
    # Logs are kept only for the pods that exist.
    live: set[str] = set()
    for o in objects:
        if o["kind"] == "Deployment" and o["namespace"] == "shop":
            found = driver.get_application(CHECKOUT.model_copy(update={"name": o["name"]}))
            live |= {p.name for p in (found.pods if found else [])}
    assert {
        o["name"] for o in objects if o["kind"] == "PodLog" and o["namespace"] == "shop"
    } <= live
