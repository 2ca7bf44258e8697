"""What-if: replay a window of an application's recorded load through the sandbox's pod runtime
with other settings, and predict throttling, OOM kills, replicas, latency and cost.

The load replayed is what telemetry recorded per step: the requests per second, and the CPU the
pods wanted in total (see `rightsizing` for how throttling reveals demand above the limit). The
sandbox's `PodRuntime` turns that into per-pod usage, CFS throttling and queueing latency for the
given requests, limits and replicas; an HPA is replayed with the sandbox's controller rule (scale
to utilization / target, ±10 % tolerance, up at once, down every 5 minutes). The model has no
randomness: the same window and settings always give the same prediction.

Memory is not load-driven in the model, so OOM kills are predicted from the recorded working
sets: when pods were OOM-killed, a leak fills the room above the baseline (p5 working set) at the
same rate, so kills scale with old room / new room; otherwise a kill is predicted wherever a
recorded working set rises through the new limit.

Latency: the own latency at no queueing is estimated from the recorded mean latency divided by
the model's queueing factor at the recorded CPU pressure (median over the window); p95 is the
95th percentile of the request-weighted mix of the model's exponential latency per step.

Cost prices the *requests* (what the scheduler reserves) with `PRICES`: illustrative on-demand
list prices in USD, not a bill.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from hexaops.platform.drivers.contract import ApplicationSpec
from hexaops.platform.sandbox.effects import Effects
from hexaops.platform.sandbox.load import TICK_SECONDS, TICKS_PER_MINUTE, Edges, LoadModel
from hexaops.platform.sandbox.runtime import CFS_PERIODS_PER_TICK, PodRuntime
from hexaops.platform.sandbox.simulation import SCALE_DOWN_EVERY_TICKS
from hexaops.platform.sandbox.topology import Deployment, Node, Topology
from hexaops.tools.scaling.rightsizing import GIB, AppUsage, Settings

PRICES: Final = {"cpu_core_hour_usd": 0.0316, "memory_gib_hour_usd": 0.0042}
HPA_TOLERANCE: Final = 0.1
_NO_EDGES: Final = Edges(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
_NODE: Final = "replay"


class RecordedLoad(LoadModel):
    """The recorded requests of one application, one step per tick; its CPU comes in as demand
    (`Effects.load_extra_cores`), so no CPU is charged per request here."""

    def __init__(self, rps: NDArray[np.float64], base_latency: float) -> None:
        # Deliberately not LoadModel.__init__: the synthetic diurnal profile is replaced.
        self.rps = rps
        self.base_rps = np.zeros(1)
        self.cpu_per_request = np.zeros(1)
        self.base_latency = np.array([base_latency])
        self.external = np.ones(1)

    def external_rps(self, tick: int) -> NDArray[np.float64]:
        return self.rps[tick : tick + 1]


def _runtime(
    settings: Settings,
    replicas: int,
    load: RecordedLoad,
    states: dict[tuple[str, str, str], dict[str, Any]],
) -> PodRuntime:
    spec = ApplicationSpec(
        image="replay", replicas=replicas, resources=settings.resources, revision=1
    )
    pods = [{"name": f"pod-{i}", "node": _NODE, "phase": "Running"} for i in range(replicas)]
    app = Deployment(_NODE, _NODE, _NODE, _NODE, "app", spec, 0, pods, settings.hpa)
    topo = Topology(nodes=[Node(_NODE, "", "", 10**9, 2**62, False)], deployments=[app])
    return PodRuntime(topo, states, load)


def _queue(rho: NDArray[np.float64]) -> NDArray[np.float64]:
    """The runtime's queueing factor at CPU pressure `rho` (demand / limit)."""
    out: NDArray[np.float64] = 1.0 / (1.0 - np.minimum(rho, 0.95)) * np.maximum(rho, 1.0)
    return out


def base_latency(u: AppUsage, recorded: Settings) -> float | None:
    """Own latency without queueing, from the recorded latency and CPU pressure."""
    limit = recorded.resources.cpu_limit_millis / 1000
    running = np.maximum(np.isfinite(u.demand).sum(axis=0), 1)
    rho = np.nansum(u.demand, axis=0) / running / limit
    ok = np.isfinite(u.latency) & (u.rps > 0)
    if not ok.any():
        return None
    return float(np.median(u.latency[ok] / _queue(rho[ok])))


def _p95(latency: NDArray[np.float64], weight: NDArray[np.float64]) -> float | None:
    """95th percentile of a weighted mix of exponential latencies (bisection: deterministic)."""
    keep = (weight > 0) & (latency > 0)
    if not keep.any():
        return None
    lat, w = latency[keep], weight[keep] / weight[keep].sum()
    lo, hi = 0.0, float(lat.max()) * 10
    for _ in range(60):
        mid = (lo + hi) / 2
        if float((w * (1 - np.exp(-mid / lat))).sum()) < 0.95:
            lo = mid
        else:
            hi = mid
    return round(hi, 4)


def _oom_kills(u: AppUsage, recorded: Settings, settings: Settings) -> int:
    old, new = recorded.resources.memory_limit_bytes, settings.resources.memory_limit_bytes
    kills = float(u.oom_kills.sum())
    memory = u.memory
    finite = memory[np.isfinite(memory)]
    if kills > 0 and finite.size:
        base = float(np.percentile(finite, 5))
        room_old, room_new = max(old - base, 1.0), max(new - base, 1.0)
        return math.floor(kills * room_old / room_new + 1e-9)
    above = np.nan_to_num(memory, nan=0.0) >= new
    rising = above[:, 1:] & ~above[:, :-1]
    return int(rising.sum() + above[:, 0].sum())


@dataclass
class Prediction:
    settings: dict[str, Any]
    cpu_throttled_share: float  # throttled CFS periods / all periods of running pods
    steps_with_throttling: float  # share of steps in which any pod was throttled
    oom_kills: int
    replica_hours: float
    replicas: dict[str, float]
    p95_latency_seconds: float | None
    cost_usd: float
    cost_per_day_usd: float

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def replay(u: AppUsage, recorded: Settings, settings: Settings) -> Prediction:
    """Replay the recorded load with `settings` (the usage was recorded under `recorded`)."""
    keep = np.isfinite(u.cores).any(axis=0)
    demand, rps = u.total_demand[keep], u.rps[keep]
    ticks = int(demand.size)
    latency0 = base_latency(u, recorded)
    load = RecordedLoad(rps, latency0 if latency0 is not None else 0.05)
    hpa = settings.hpa
    replicas = settings.replicas
    if hpa is not None:
        replicas = min(max(replicas, hpa.min_replicas), hpa.max_replicas)
    rt = _runtime(settings, replicas, load, {})
    fx = Effects.none(1, replicas, 1)
    throttled = periods = replica_ticks = 0.0
    steps_throttled = 0
    counts = np.zeros(ticks)
    latency, served = np.zeros(ticks), np.zeros(ticks)
    for tick in range(ticks):
        fx.load_extra_cores[0] = demand[tick]
        before = float(rt.state["throttled"].sum())
        res = rt.step(tick, fx, _NO_EDGES)
        delta = float(rt.state["throttled"].sum()) - before
        throttled += delta
        steps_throttled += delta > 0
        periods += float(res.running.sum()) * CFS_PERIODS_PER_TICK
        replica_ticks += replicas
        counts[tick] = replicas
        latency[tick], served[tick] = float(res.app_latency[0]), float(res.app_rps[0])
        if hpa is None or tick % TICKS_PER_MINUTE != TICKS_PER_MINUTE - 1:
            continue
        ratio = float(res.app_utilization[0]) / (hpa.target_cpu_percent / 100)
        ready = int(res.app_ready[0])
        want = (
            replicas if abs(ratio - 1) <= HPA_TOLERANCE or ready == 0 else math.ceil(ready * ratio)
        )
        want = min(max(want, hpa.min_replicas), hpa.max_replicas)
        if want == replicas or (want < replicas and (tick + 1) % SCALE_DOWN_EVERY_TICKS):
            continue
        rt = _runtime(settings, want, load, rt.saved_states())
        fx, replicas = Effects.none(1, want, 1), want
    hours = replica_ticks * TICK_SECONDS / 3600
    r = settings.resources
    per_replica_hour = (r.cpu_request_millis / 1000) * PRICES["cpu_core_hour_usd"] + (
        r.memory_request_bytes / GIB
    ) * PRICES["memory_gib_hour_usd"]
    cost = hours * per_replica_hour
    window_days = max(ticks * TICK_SECONDS / 86400, 1e-9)
    return Prediction(
        settings=settings.describe(),
        cpu_throttled_share=round(throttled / periods, 4) if periods else 0.0,
        steps_with_throttling=round(steps_throttled / ticks, 4) if ticks else 0.0,
        oom_kills=_oom_kills(u, recorded, settings),
        replica_hours=round(hours, 3),
        replicas={
            "min": float(counts.min()) if ticks else 0.0,
            "max": float(counts.max()) if ticks else 0.0,
            "mean": round(float(counts.mean()), 2) if ticks else 0.0,
        },
        p95_latency_seconds=None if latency0 is None else _p95(latency, served),
        cost_usd=round(cost, 4),
        cost_per_day_usd=round(cost / window_days, 4),
    )
