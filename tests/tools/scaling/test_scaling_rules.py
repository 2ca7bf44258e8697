"""The right-sizing rules on hand-made usage: rounding, counters, demand behind throttling."""

from __future__ import annotations

import numpy as np
import pytest

from hexaops.platform.domain import Resources
from hexaops.tools.scaling.rightsizing import (
    MIB,
    Settings,
    app_usage,
    recommend_app,
    round_cpu,
    round_memory,
)
from hexaops.tools.scaling.usage import Grid

CURRENT = Settings(
    Resources(
        cpu_request_millis=250,
        memory_request_bytes=256 * MIB,
        cpu_limit_millis=500,
        memory_limit_bytes=512 * MIB,
    ),
    replicas=2,
)


@pytest.mark.parametrize(
    ("millis", "rounded"),
    [(1, 50), (50, 50), (50.0000001, 50), (51, 100), (251, 300), (1999, 2000), (2001, 2250)],
)
def test_cpu_rounds_up_to_kubernetes_steps(millis: float, rounded: int) -> None:
    assert round_cpu(millis) == rounded


@pytest.mark.parametrize(
    ("mib", "rounded"),
    [(1, 64), (70, 80), (80, 80), (81, 96), (1000, 1008), (1100, 1152)],
)
def test_memory_rounds_up_to_kubernetes_steps(mib: float, rounded: int) -> None:
    assert round_memory(mib * MIB) == rounded * MIB


def _grid(steps: int, **series: list[list[float]]) -> Grid:
    grid = Grid(np.arange(steps, dtype=np.int64), ["pod-a"])
    for name, rows in series.items():
        grid.series[name] = np.array(rows, dtype=float)
    return grid


def test_counters_become_rates_and_survive_restarts() -> None:
    grid = _grid(4, c=[[0.0, 15.0, 3.0, 18.0]])  # reset to 0 between steps 1 and 2
    rate = grid.rate("c")[0]
    assert np.isnan(rate[0])
    assert rate[1:].tolist() == [1.0, 0.2, 1.0]


def test_throttling_reveals_demand_above_the_limit() -> None:
    steps = 20
    used = [[0.5 * 15 * i for i in range(steps)]]  # at the 500m limit all the time
    throttled = [[75.0 * i for i in range(steps)]]  # half of the 150 CFS periods per step
    memory = [[200.0 * MIB] * steps]
    pods = _grid(
        steps,
        container_cpu_usage_seconds_total=used,
        container_cpu_cfs_throttled_periods_total=throttled,
        container_memory_working_set_bytes=memory,
    )
    usage = app_usage(pods, Grid(np.zeros(0, np.int64), [""]), CURRENT)
    assert np.nanmax(usage.cores) == pytest.approx(0.5)
    assert np.nanmax(usage.demand) == pytest.approx(0.5 * (0.8 + 0.5))

    rec = recommend_app(usage, CURRENT)
    proposed = rec.proposed.resources
    assert proposed.cpu_request_millis == 650  # p95 of 0.65 cores wanted, rounded up
    assert proposed.cpu_limit_millis == 1300  # ≥ 2 × the request, ≥ 0.65 / 0.8
    assert proposed.memory_request_bytes == 224 * MIB  # 200Mi × 1.1, rounded up
    assert proposed.memory_limit_bytes == 288 * MIB  # ≥ 224Mi × 1.25 and ≥ 200Mi × 1.2
    assert rec.proposed.replicas == 2
    assert set(rec.changes()) == {"cpu_request", "cpu_limit", "memory_request", "memory_limit"}
