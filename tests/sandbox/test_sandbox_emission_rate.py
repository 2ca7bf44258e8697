"""Columnar emission keeps up with a fleet: a guard far below the measured rate (millions/s)."""

from __future__ import annotations

import time

from sqlalchemy import create_engine

from hexaops.platform.drivers.sandbox import SandboxDriver
from hexaops.platform.sandbox import Simulation
from hexaops.platform.sandbox.fleet import provision_fleet
from hexaops.platform.telemetry.records import EventRecord, LogRecord, MetricBatch
from pg_support import fresh_database


class CountingSink:
    """Counts and drops: measures the simulation's emission, not a store."""

    def __init__(self) -> None:
        self.samples = 0

    def write_metrics(self, batch: MetricBatch) -> None:
        self.samples += len(batch)

    def write_logs(self, records: list[LogRecord]) -> None:
        pass

    def write_events(self, records: list[EventRecord]) -> None:
        pass


def test_fleet_emission_rate(pg_server: str, templates: dict[str, str]) -> None:
    engine = create_engine(fresh_database(pg_server, templates["empty"]))
    try:
        pods = provision_fleet(SandboxDriver(engine), workspaces=5, deployments=20)
        sim = Simulation(engine)
        sink = CountingSink()
        started = time.perf_counter()
        report = sim.advance(60, sink)
        elapsed = time.perf_counter() - started
    finally:
        engine.dispose()
    assert pods == 300
    assert report.samples == sink.samples
    # 23 series per pod, 2 + 1 per deployment, 6 per host node, 240 ticks.
    assert report.samples == 240 * (300 * 23 + 100 * 3 + 3 * 6)
    assert report.samples / elapsed > 200_000
