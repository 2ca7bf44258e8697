"""`hexaops bench sandbox`: end-to-end throughput of the simulation into ClickHouse.

Simulates a fleet (default 50 workspaces x 20 deployments) for H simulated hours at the
simulation's 15 s resolution, writing every sample, log and event to the ClickHouse store
(embedded chDB). The baseline, measured in the same run on the same store, is the store alone
inserting a ready-made batch: the ceiling the simulation's emission approaches.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pydantic import BaseModel
from sqlalchemy import create_engine

from hexaops.platform.db.engine import migrate, scratch_postgres, sqlalchemy_url
from hexaops.platform.drivers.sandbox import SandboxDriver
from hexaops.platform.sandbox.fleet import provision_fleet
from hexaops.platform.sandbox.simulation import Simulation
from hexaops.platform.telemetry.bench import synthetic_batch
from hexaops.platform.telemetry.clickhouse import ClickHouseStore

GOAL_SAMPLES_PER_SECOND = 500_000
BASELINE_SAMPLES = 1_000_000


class SandboxBench(BaseModel):
    workspaces: int
    deployments: int
    pods: int
    simulated_hours: float
    setup_seconds: float
    seconds: float  # simulating + storing, end to end
    samples: int
    logs: int
    events: int
    rows_stored: int  # metrics + logs + events rows in ClickHouse afterwards
    samples_per_second: float
    store_only_samples_per_second: float  # baseline: the same store inserting a ready batch
    end_to_end_vs_store_only: float
    goal_samples_per_second: int
    goal_met: bool


def bench_sandbox(
    workspaces: int = 50,
    deployments: int = 20,
    hours: float = 24.0,
    progress: Callable[[float], None] = lambda _: None,
    store: ClickHouseStore | None = None,
) -> SandboxBench:
    """Run on a throw-away embedded PostgreSQL and chDB (or on `store`, e.g. in tests)."""
    with scratch_postgres("hexaops-bench-sandbox-") as (home, server_url):
        engine = create_engine(sqlalchemy_url(server_url))
        own_store = store is None
        store = store or ClickHouseStore.connect(home=home)
        try:
            migrate(engine)
            started = time.perf_counter()
            pods = provision_fleet(SandboxDriver(engine), workspaces, deployments)
            setup = time.perf_counter() - started

            simulation = Simulation(engine)
            samples = logs = events = 0
            started = time.perf_counter()
            done = 0.0
            while done < hours:  # an hour per step: progress, and bounded transactions
                step = min(1.0, hours - done)
                report = simulation.advance(step * 60, store)
                samples, logs, events = (
                    samples + report.samples,
                    logs + report.logs,
                    events + report.events,
                )
                done += step
                progress(done)
            seconds = time.perf_counter() - started
            rows = store.row_counts()

            baseline = synthetic_batch(BASELINE_SAMPLES)
            t0 = time.perf_counter()
            store.write_metrics(baseline)
            store_only = BASELINE_SAMPLES / (time.perf_counter() - t0)
        finally:
            engine.dispose()
            if own_store:
                store.close()
    rate = samples / seconds if seconds else 0.0
    return SandboxBench(
        workspaces=workspaces,
        deployments=deployments,
        pods=pods,
        simulated_hours=hours,
        setup_seconds=round(setup, 2),
        seconds=round(seconds, 2),
        samples=samples,
        logs=logs,
        events=events,
        rows_stored=sum(rows.values()),
        samples_per_second=round(rate),
        store_only_samples_per_second=round(store_only),
        end_to_end_vs_store_only=round(rate / store_only, 2),
        goal_samples_per_second=GOAL_SAMPLES_PER_SECOND,
        goal_met=rate >= GOAL_SAMPLES_PER_SECOND,
    )
