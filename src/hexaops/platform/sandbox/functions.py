"""Serverless functions: concurrency-based scaling, cold starts, scale to zero, throttling.

An instance takes `concurrency` requests at once; the autoscaler runs as many instances as the
in-flight requests need, up to `max_instances`. New instances start cold (slow first requests);
beyond the cap, invocations are rejected with 429 — what a Knative/OpenFaaS-style platform does.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from hexaops.platform.sandbox.load import TICK_SECONDS, stable_fraction
from hexaops.platform.sandbox.topology import FunctionWorkload

# Key prefix of a function's runtime state ('/' cannot occur in a Kubernetes name).
STATE_PREFIX = "function/"
SERIES: tuple[tuple[str, dict[str, str]], ...] = (
    ("function_invocations_total", {"code": "200"}),
    ("function_invocations_total", {"code": "429"}),
    ("function_cold_starts_total", {}),
    ("function_instances", {}),
)
_STATE = ("ok", "throttled", "cold", "instances")


class FunctionRuntime:
    def __init__(
        self,
        functions: list[FunctionWorkload],
        states: dict[tuple[str, str, str], dict[str, Any]],
        seed: int,
        epoch_hour: float,
    ) -> None:
        self.functions, self.seed, self.epoch_hour = functions, seed, epoch_hour
        # Mean invocations per second: from a trickle (mostly scaled to zero) to a steady stream.
        self.rate = np.array([0.02 + 8.0 * stable_fraction(seed, "fn", f.name) for f in functions])
        self.duration = np.array(
            [0.1 + 0.3 * stable_fraction(seed, "d", f.name) for f in functions]
        )
        self.concurrency = np.array([float(f.concurrency) for f in functions])
        self.max_instances = np.array([float(f.max_instances) for f in functions])
        self.state = {k: np.zeros(len(functions)) for k in _STATE}
        for i, f in enumerate(functions):
            saved = states.get(self.key(f), {}).get("state", {})
            for k in _STATE:
                self.state[k][i] = float(saved.get(k, 0.0))

    @staticmethod
    def key(f: FunctionWorkload) -> tuple[str, str, str]:
        return (f.cluster, f.namespace, STATE_PREFIX + f.name)

    def saved_states(self) -> dict[tuple[str, str, str], dict[str, Any]]:
        return {
            self.key(f): {"state": {k: float(self.state[k][i]) for k in _STATE}}
            for i, f in enumerate(self.functions)
        }

    def step(self, tick: int) -> NDArray[np.float64]:
        """Advance one tick; returns the values of SERIES, series-major."""
        s = self.state
        if not self.functions:
            return np.zeros(0)
        hour = self.epoch_hour + tick * TICK_SECONDS / 3600.0
        diurnal = 1.0 + 0.8 * math.sin(2 * math.pi * (hour - 9.0) / 24.0)
        # Invocations arrive as a Poisson process: a quiet tick scales the function to zero.
        rng = np.random.default_rng((self.seed, tick, 1))
        invocations = rng.poisson(self.rate * max(diurnal, 0.0) * TICK_SECONDS).astype(float)
        # Size for the busiest moment of the tick, not its mean: Poisson peaks at mean + 3 sigma.
        inflight = invocations / TICK_SECONDS * self.duration
        peak = np.where(invocations > 0, inflight + 3.0 * np.sqrt(inflight), 0.0)
        needed = np.ceil(peak / self.concurrency)
        instances = np.minimum(needed, self.max_instances)
        served = np.where(needed > 0, instances / np.maximum(needed, 1.0), 0.0)
        s["cold"] += np.maximum(instances - s["instances"], 0.0)
        s["ok"] += invocations * served
        s["throttled"] += invocations * (1.0 - served)
        s["instances"] = instances
        return np.concatenate([s["ok"], s["throttled"], s["cold"], s["instances"]])
