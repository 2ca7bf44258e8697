"""Load models: how much traffic each application gets at each tick, and whom it calls.

Traffic is diurnal (peak mid-afternoon UTC, trough at night), noisy, and has bursts; services
call their dependencies, so a caller's traffic becomes its dependencies' traffic. Everything is a
pure function of (seed, tick), so any split of an `advance` gives the same numbers.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hexaops.platform.sandbox.topology import Deployment

TICK_SECONDS = 15
TICKS_PER_MINUTE = 60 // TICK_SECONDS

# (requests/s at the daily mean, CPU core-seconds per request, own latency in seconds)
_PROFILES: dict[str, tuple[float, float, float]] = {
    "frontend": (120.0, 0.0008, 0.030),
    "checkout": (30.0, 0.0020, 0.060),
    "payments": (25.0, 0.0025, 0.080),
    "catalog": (80.0, 0.0006, 0.020),
    "api": (60.0, 0.0015, 0.040),
    "worker": (12.0, 0.0080, 0.200),
}

# caller → {callee: calls per request}; callees live in the caller's namespace.
DEPENDENCIES: dict[str, dict[str, float]] = {
    "frontend": {"catalog": 2.0, "checkout": 0.2},
    "checkout": {"payments": 1.0, "catalog": 0.5},
    "api": {"worker": 0.3},
}


def stable_fraction(*parts: object) -> float:
    """A number in [0, 1) that depends only on `parts` (not on Python's hash seed)."""
    digest = hashlib.sha256("/".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def profile(name: str, seed: int) -> tuple[float, float, float]:
    """The demo applications have fixed profiles; any other gets one derived from its name."""
    if name in _PROFILES:
        return _PROFILES[name]
    f = stable_fraction(seed, "profile", name)
    return (10.0 + 50.0 * f, 0.001 + 0.002 * f, 0.020 + 0.060 * f)


@dataclass(frozen=True)
class Edges:
    """Dependency calls as parallel arrays: caller index, callee index, calls per request."""

    src: NDArray[np.int64]
    dst: NDArray[np.int64]
    fanout: NDArray[np.float64]


def dependency_edges(deployments: list[Deployment]) -> Edges:
    index = {d.key: i for i, d in enumerate(deployments)}
    src, dst, fan = [], [], []
    for i, d in enumerate(deployments):
        for callee, calls in DEPENDENCIES.get(d.name, {}).items():
            j = index.get((d.cluster, d.namespace, callee))
            if j is not None:
                src.append(i)
                dst.append(j)
                fan.append(calls)
    return Edges(
        np.array(src, dtype=np.int64), np.array(dst, dtype=np.int64), np.array(fan, dtype=float)
    )


class LoadModel:
    """External (ingress) traffic per application for a tick."""

    def __init__(self, deployments: list[Deployment], seed: int, epoch_hour: float) -> None:
        profiles = [profile(d.name, seed) for d in deployments]
        self.base_rps = np.array([p[0] for p in profiles], dtype=float)
        self.cpu_per_request = np.array([p[1] for p in profiles], dtype=float)
        self.base_latency = np.array([p[2] for p in profiles], dtype=float)
        # Callees get their traffic from callers, not from the internet.
        callees = {c for calls in DEPENDENCIES.values() for c in calls}
        self.external = np.array([d.name not in callees for d in deployments], dtype=float)
        self.salt = np.array(
            [int(stable_fraction(seed, "burst", d.key) * 997) for d in deployments], dtype=np.int64
        )
        self.seed = seed
        self.epoch_hour = epoch_hour

    def external_rps(self, tick: int) -> NDArray[np.float64]:
        hour = self.epoch_hour + tick * TICK_SECONDS / 3600.0
        diurnal = 1.0 + 0.6 * math.sin(2 * math.pi * (hour - 9.0) / 24.0)
        noise = np.random.default_rng((self.seed, tick)).normal(1.0, 0.05, self.base_rps.size)
        # A burst lasts 10 minutes (40 ticks) and hits about one window in 61 per application.
        window = tick // 40
        burst = np.where((window * 7919 + self.salt) % 61 == 0, 2.5, 1.0)
        rps: NDArray[np.float64] = (
            self.base_rps * self.external * diurnal * np.clip(noise, 0.5, 1.5) * burst
        )
        return rps


def propagate(
    external: NDArray[np.float64], edges: Edges, delivered: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Total traffic per application: ingress plus the calls of its callers.

    `delivered` is per edge: 1 when calls get through, 0 when they are blocked (NetworkPolicy,
    DNS); dependency chains are short, so a few passes reach the fixed point.
    """
    total = external
    if edges.src.size == 0:
        return total
    for _ in range(4):
        inflow = np.bincount(
            edges.dst, weights=total[edges.src] * edges.fanout * delivered, minlength=total.size
        )
        total = external + inflow
    return total
