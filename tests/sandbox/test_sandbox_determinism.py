"""Same seed + same operations → identical telemetry; another seed → different telemetry."""

from __future__ import annotations

from sandbox_support import CollectingSink
from sqlalchemy import create_engine

from hexaops.platform.core import Platform
from hexaops.platform.drivers.sandbox import SandboxDriver
from hexaops.platform.sandbox import Simulation
from pg_support import fresh_database

OWNER = "owner@acme.example"


def _run(pg_server: str, template: str, seed: int, splits: tuple[int, ...]) -> CollectingSink:
    """A scripted session: faults, an HPA, a mitigation, advanced in `splits` minutes."""
    engine = create_engine(fresh_database(pg_server, template))
    try:
        platform = Platform(engine, SandboxDriver(engine))
        sim = Simulation(engine, seed=seed)
        owner = platform.user(OWNER)
        app = {"org": "acme", "workspace": "acme-prod", "project": "shop"}
        platform.request(
            owner,
            "application.set_hpa",
            {
                **app,
                "name": "frontend",
                "min_replicas": 2,
                "max_replicas": 6,
                "target_cpu_percent": 20,
            },
        )
        sim.inject("oom_memory_leak", "acme", "acme-prod", "shop/checkout")
        sim.inject("slow_dependency", "acme", "acme-prod", "shop/payments", at_minutes=10)
        sim.inject("node_disk_pressure", "globex", "globex-prod", "k3s-shared-1", at_minutes=5)
        sink = CollectingSink()
        for minutes in splits:
            sim.advance(minutes, sink)
        platform.request(owner, "application.restart", {**app, "name": "payments"})
        sim.advance(10, sink)
        return sink
    finally:
        engine.dispose()


def test_same_seed_and_operations_give_identical_telemetry(
    pg_server: str, templates: dict[str, str]
) -> None:
    one = _run(pg_server, templates["seeded"], 11, (40,))
    two = _run(pg_server, templates["seeded"], 11, (40,))
    assert one.sample_count() > 100_000
    assert one.samples() == two.samples()
    assert one.logs == two.logs
    assert one.events == two.events
    assert {e.reason for e in one.events} >= {"OOMKilling", "SuccessfulRescale", "Evicted"}


def test_splitting_an_advance_changes_nothing(pg_server: str, templates: dict[str, str]) -> None:
    whole = _run(pg_server, templates["seeded"], 11, (40,))
    split = _run(pg_server, templates["seeded"], 11, (7, 13, 20))
    assert whole.samples() == split.samples()
    assert whole.logs == split.logs
    assert whole.events == split.events


def test_another_seed_gives_other_telemetry(pg_server: str, templates: dict[str, str]) -> None:
    one = _run(pg_server, templates["seeded"], 11, (20,))
    other = _run(pg_server, templates["seeded"], 12, (20,))
    assert [s[-1] for s in one.samples()] != [s[-1] for s in other.samples()]
