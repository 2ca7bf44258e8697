"""Workload vitals from telemetry: CPU against the limit, throttling, latency and 5xx, now
and at the start of the window — read once per diagnosis and shared by the analyzers that
reason about load (CPU saturation, noisy neighbours, error spikes, slow dependencies).

Each metric is one read of the scope (cached), whatever the number of pods; the per-pod
rates are then summed per application here, in one pass over the samples.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from hexaops.platform.drivers.contract import ObservedApplication
from hexaops.tools.diagnostics.scope import RATE_WINDOW, AppTarget, DiagnosticScope, Sample

CPU: Final = "container_cpu_usage_seconds_total"
THROTTLED: Final = "container_cpu_cfs_throttled_periods_total"
LATENCY_SUM: Final = "http_request_duration_seconds_sum"
LATENCY_COUNT: Final = "http_request_duration_seconds_count"
REQUESTS: Final = "http_requests_total"
CFS_PERIODS_PER_SECOND: Final = 10.0  # the kernel's CFS period is 100 ms
WINDOW_TEXT: Final = f"rates over the last {int(RATE_WINDOW.total_seconds() // 60)}m"
_W: Final = f"[{int(RATE_WINDOW.total_seconds() // 60)}m]"
# What each signal of `AppLoad.evidence` is, as the query computing it.
SIGNALS: Final = {
    "cpu": f"cpu used / limit: sum(rate({CPU}{_W})) / sum(cpu limits) of the ready pods",
    "throttled": f"throttled share: avg(rate({THROTTLED}{_W})) / {CFS_PERIODS_PER_SECOND:g}",
    "latency": f"mean latency seconds: sum(rate({LATENCY_SUM}{_W})) / sum(rate({LATENCY_COUNT}{_W}))",
    "errors": f'5xx ratio: sum(rate({REQUESTS}{{code=~"5.."}}{_W})) / sum(rate({REQUESTS}{_W}))',
}


@dataclass
class PodLoad:
    pod: str
    node: str
    cpu: float  # cores used
    limit: float  # cores allowed
    throttled: float  # share of CFS periods throttled, 0..1


@dataclass
class Flow:
    """Request counters of one application, summed over its pods: now and before."""

    requests: float = 0.0  # per second
    errors: float = 0.0  # 5xx per second
    latency_sum: float = 0.0  # seconds of latency per second
    latency_count: float = 0.0
    at: datetime | None = None

    @property
    def error_ratio(self) -> float:
        return self.errors / self.requests if self.requests > 0 else 0.0

    @property
    def latency(self) -> float | None:
        """Mean request latency in seconds, None without requests."""
        return self.latency_sum / self.latency_count if self.latency_count > 0 else None


@dataclass(eq=False)  # identity: loads are keys of the analyzers' maps
class AppLoad:
    app: AppTarget
    observed: ObservedApplication
    pods: list[PodLoad] = field(default_factory=list)  # its ready pods with CPU samples
    now: Flow = field(default_factory=Flow)
    before: Flow | None = None  # the window's first minutes, when they do not overlap now

    @property
    def cpu(self) -> float:
        return sum(p.cpu for p in self.pods)

    @property
    def limit(self) -> float:
        return sum(p.limit for p in self.pods)

    @property
    def saturation(self) -> float:
        """CPU used as a share of the ready pods' limits."""
        return self.cpu / self.limit if self.limit > 0 else 0.0

    @property
    def throttled(self) -> float:
        """Mean share of CFS periods its ready pods were throttled."""
        return sum(p.throttled for p in self.pods) / len(self.pods) if self.pods else 0.0

    def latency_rise(self, slow_seconds: float) -> float | None:
        """How many times slower than at the window's start it is, or — when it was as slow
        then (the trouble began before the window) or there is no "before" — its latency
        against `slow_seconds`. None when it is not slow."""
        now = self.now.latency
        if now is None:
            return None
        before = self.before.latency if self.before else None
        if before and now >= 2 * before and now >= 0.1:
            return now / before
        return now / slow_seconds if now >= slow_seconds else None

    def evidence(self, *signals: str, role: str = "") -> list[dict[str, Any]]:
        """The numbers behind a finding about it, one metric item per signal (cpu, throttled,
        latency, errors), each with its query, window and — for trends — the value before."""
        labels = {"namespace": self.app.project, "deployment": self.app.name}
        if role:
            labels["role"] = role
        at = self.now.at.isoformat() if self.now.at else None
        before = self.before
        values: dict[str, tuple[float | None, float | None]] = {
            "cpu": (self.saturation, None),
            "throttled": (self.throttled, None),
            "latency": (self.now.latency, before.latency if before else None),
            "errors": (self.now.error_ratio, before.error_ratio if before else None),
        }
        items = []
        for signal in signals:
            value, was = values[signal]
            if value is None:
                continue
            item: dict[str, Any] = {
                "kind": "metric",
                "name": SIGNALS[signal],
                "labels": labels,
                "value": round(value, 4),
                "window": WINDOW_TEXT,
                "at": at,
            }
            if signal == "cpu":
                item["cpu_cores"], item["cpu_limit_cores"] = (
                    round(self.cpu, 3),
                    round(self.limit, 3),
                )
            if was is not None:
                item["before"] = round(was, 4)
            items.append(item)
        return items


def loads(scope: DiagnosticScope) -> dict[AppTarget, AppLoad]:
    """The vitals of every application of the scope and of its related applications."""
    return scope.memo(("workload_loads",), lambda: _loads(scope))


def _loads(scope: DiagnosticScope) -> dict[AppTarget, AppLoad]:
    found = {app: AppLoad(app, observed) for app, observed in scope.applications(related=True)}
    if not found:
        return found
    # Maps to the loads themselves: samples are many, AppTarget hashing is not free.
    by_name = {(a.project, a.name): load for a, load in found.items()}
    current = {
        (a.project, p.name): (load, p) for a, load in found.items() for p in load.observed.pods
    }

    def owner(s: Sample) -> AppLoad | None:
        known = current.get((s.namespace, s.pod))
        if known is not None:
            return known[0]
        # A pod replaced in the window: <deployment>-<replicaset>-<suffix>.
        return by_name.get((s.namespace, s.pod.rsplit("-", 2)[0]))

    throttled = {(s.namespace, s.pod): s.rate for s in scope.metric(THROTTLED)}
    for s in scope.metric(CPU):
        known = current.get((s.namespace, s.pod))
        if known is None or not known[1].ready:
            continue
        load, pod = known
        limit = load.observed.resources.cpu_limit_millis / 1000
        share = throttled.get((s.namespace, s.pod), 0.0) / CFS_PERIODS_PER_SECOND
        load.pods.append(PodLoad(s.pod, pod.node, s.rate, limit, min(share, 1.0)))
    before: dict[AppLoad, Flow] = defaultdict(Flow)
    for metric in (REQUESTS, LATENCY_SUM, LATENCY_COUNT):
        for s in scope.metric(metric):
            load_or_none = owner(s)
            if load_or_none is None:
                continue
            if (s.namespace, s.pod) in current:
                _add(load_or_none.now, metric, s, s.rate)
            if s.base_rate is not None:
                _add(before[load_or_none], metric, s, s.base_rate)
    for load, flow in before.items():
        if flow.requests > 0:
            load.before = flow
    return found


def _add(flow: Flow, metric: str, s: Sample, rate: float) -> None:
    if metric == REQUESTS:
        flow.requests += rate
        if s.labels.get("code", "").startswith("5"):
            flow.errors += rate
    elif metric == LATENCY_SUM:
        flow.latency_sum += rate
    else:
        flow.latency_count += rate
    flow.at = s.at if flow.at is None else max(flow.at, s.at)
