"""Right-sizing an application from what it used: requests, limits, replicas and its HPA.

The rules (per pod, over the window's samples of running pods):

- **CPU demand** is what the pods wanted, not only what they got: where CFS throttled a pod, it
  wanted more than it used. Throttling starts at `THROTTLE_ONSET` (80 %) of the limit and the
  throttled share of periods says how far above that demand went, so demand ≈ limit × (0.8 +
  share). At 100 % of periods throttled the demand is censored at 1.8 × the limit — a lower
  bound; re-check after applying.
- **CPU request** ≈ p95 of demand (the scheduler reserves what the pod needs most of the time).
- **CPU limit** ≥ p99 of demand / 0.8 (no throttling at the p99) and ≥ 2 × the request (room
  for bursts).
- **Memory request** ≈ p95 of the working set × 1.1 (memory does not compress: 10 % headroom).
- **Memory limit** ≥ max of the working set × 1.2, and ≥ the request × 1.25; after OOM kills the
  observed max is censored at the old limit, so ≥ 1.25 × the old limit.
- **Replicas** stay, unless a pod would request more than `MAX_POD_CPU_MILLIS`: then the load is
  spread over more, smaller pods.
- **HPA** (when the application has one): when it spent more than 5 % of the window at max
  replicas, the per-pod CPU stays (the replicas, not the pods, must grow); the target CPU stays; the replicas needed at
  each step are demand / (target × proposed request); max ≥ 1.25 × the peak of that (and above
  the old max when it was hit), min only ever lowered, to the p10 need (kept at 2 or more when
  it was). Flags: at max for more than 5 % of the window, never scales.

Quantities are rounded up to Kubernetes-friendly steps: CPU to 50m (250m above 2 cores), memory
to 16Mi (128Mi from 1Gi up), never below 50m CPU and 64Mi memory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Final, Generic, Protocol, TypeVar

import numpy as np
from numpy.typing import NDArray

from hexaops.platform.domain import Resources
from hexaops.platform.drivers.contract import HpaSpec
from hexaops.platform.names import format_cpu, format_memory, parse_cpu, parse_memory
from hexaops.platform.views import ApplicationView
from hexaops.tools.scaling.usage import CFS_PERIODS_PER_SECOND, Grid, Matrix

THROTTLE_ONSET: Final = 0.8
THROTTLE_CENSOR: Final = 1.0  # throttled share at which demand stops being observable
BURST_RATIO: Final = 2.0
MEMORY_REQUEST_HEADROOM: Final = 1.1
MEMORY_LIMIT_HEADROOM: Final = 1.2
OOM_LIMIT_RAISE: Final = 1.25
OOM_NEAR_LIMIT: Final = 0.9  # a restart with the working set this close to the limit: OOM kill
MAX_POD_CPU_MILLIS: Final = 2000
HPA_MAX_HEADROOM: Final = 1.25
AT_MAX_FLAG: Final = 0.05
MIB: Final = 2**20
GIB: Final = 2**30


def round_cpu(millis: float) -> int:
    """Millicores rounded up to 50m (250m from 2 cores), at least 50m."""
    step = 250 if millis > 2000 else 50
    return max(50, math.ceil(round(millis, 6) / step) * step)


def round_memory(size: float) -> int:
    """Bytes rounded up to 16Mi (128Mi from 1Gi), at least 64Mi."""
    step = 128 * MIB if size > GIB else 16 * MIB
    return max(64 * MIB, math.ceil(round(size, 3) / step) * step)


def percentiles(values: NDArray[np.float64], scale: float = 1.0) -> dict[str, float] | None:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None
    p50, p95, p99 = np.percentile(finite, [50, 95, 99])
    return {
        "p50": round(float(p50) * scale, 4),
        "p95": round(float(p95) * scale, 4),
        "p99": round(float(p99) * scale, 4),
        "max": round(float(finite.max()) * scale, 4),
    }


@dataclass(frozen=True)
class Settings:
    """What a Deployment runs with: per-pod resources, replicas, HPA."""

    resources: Resources
    replicas: int
    hpa: HpaSpec | None = None

    @classmethod
    def of(cls, app: ApplicationView) -> Settings:
        r = app.resources
        resources = Resources(
            cpu_request_millis=parse_cpu(r["cpu_request"]),
            memory_request_bytes=parse_memory(r["memory_request"]),
            cpu_limit_millis=parse_cpu(r["cpu_limit"]),
            memory_limit_bytes=parse_memory(r["memory_limit"]),
        )
        hpa = HpaSpec.model_validate(app.autoscaling) if app.autoscaling else None
        return cls(resources, app.replicas, hpa)

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {**self.resources.describe(), "replicas": self.replicas}
        out["hpa"] = self.hpa.model_dump() if self.hpa else None
        return out


@dataclass
class AppUsage:
    """An application's usage per step: pods × steps matrices and per-step totals."""

    steps: NDArray[np.int64]
    pods: list[str]
    cores: Matrix  # CPU used (cores)
    demand: Matrix  # CPU wanted (cores): used, or inferred from throttling
    throttled: Matrix  # share of CFS periods throttled
    memory: Matrix  # working set (bytes)
    restarts: Matrix  # restarts during the step
    oom_kills: Matrix  # restarts with the working set at the limit
    rps: NDArray[np.float64]  # requests per second, all pods
    latency: NDArray[np.float64]  # mean request latency (s), NaN without requests
    replicas: NDArray[np.float64]  # replicas the Deployment asked for
    hpa_max: NDArray[np.float64]  # the HPA's max per step (NaN without an HPA)

    @property
    def empty(self) -> bool:
        return bool(np.isfinite(self.cores).sum() == 0 or np.isfinite(self.memory).sum() == 0)

    @property
    def total_demand(self) -> NDArray[np.float64]:
        out: NDArray[np.float64] = np.nansum(self.demand, axis=0)
        return out


def app_usage(pods: Grid, workload: Grid, current: Settings) -> AppUsage:
    """Per-step usage of an application from its pod and workload series (aligned on the pod
    grid; steps only the workload grid has are left out)."""
    limit = current.resources.cpu_limit_millis / 1000
    cores = pods.rate("container_cpu_usage_seconds_total")
    share = np.clip(
        pods.rate("container_cpu_cfs_throttled_periods_total") / CFS_PERIODS_PER_SECOND, 0, 1
    )
    inferred = limit * (THROTTLE_ONSET + np.minimum(share, THROTTLE_CENSOR))
    demand = np.where(share > 0, np.fmax(cores, inferred), cores)
    memory = pods.get("container_memory_working_set_bytes")
    restarts = np.nan_to_num(pods.increase("kube_pod_container_status_restarts_total"))
    before = np.concatenate([memory[:, :1], memory[:, :-1]], axis=1)
    near = np.fmax(memory, before) >= OOM_NEAR_LIMIT * current.resources.memory_limit_bytes
    oom = np.where(near, restarts, 0.0)
    rps = np.nansum(pods.rate("http_requests_total"), axis=0)
    lat_sum = np.nansum(pods.increase("http_request_duration_seconds_sum"), axis=0)
    lat_count = np.nansum(pods.increase("http_request_duration_seconds_count"), axis=0)
    latency = np.where(lat_count > 0, lat_sum / np.maximum(lat_count, 1e-12), np.nan)

    def on_pod_grid(name: str) -> NDArray[np.float64]:
        out = np.full(pods.steps.size, np.nan)
        if workload.empty or name not in workload.series:
            return out
        idx = np.searchsorted(workload.steps, pods.steps)
        found = (idx < workload.steps.size) & (
            workload.steps[np.minimum(idx, workload.steps.size - 1)] == pods.steps
        )
        values = workload.series[name][0]
        out[found] = values[idx[found]]
        return out

    replicas = on_pod_grid("kube_deployment_spec_replicas")
    running = np.isfinite(memory).sum(axis=0).astype(float)
    replicas = np.where(np.isfinite(replicas), replicas, running)
    return AppUsage(
        steps=pods.steps,
        pods=pods.rows,
        cores=cores,
        demand=demand,
        throttled=share,
        memory=memory,
        restarts=restarts,
        oom_kills=oom,
        rps=rps,
        latency=latency,
        replicas=replicas,
        hpa_max=on_pod_grid("kube_horizontalpodautoscaler_spec_max_replicas"),
    )


class Describable(Protocol):
    def describe(self) -> dict[str, Any]: ...


S = TypeVar("S", bound=Describable)


@dataclass
class Recommendation(Generic[S]):
    """Current and proposed settings (of an application or a function), and why."""

    current: S
    proposed: S
    rationale: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    usage: dict[str, Any] = field(default_factory=dict)

    def changes(self) -> dict[str, dict[str, Any]]:
        before, after = self.current.describe(), self.proposed.describe()
        return {k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]}


def _summary(u: AppUsage, current: Settings) -> dict[str, Any]:
    seconds = max(u.steps.size - 1, 0) * 15
    throttled = u.throttled[np.isfinite(u.throttled)]
    util = np.nansum(u.cores, axis=0) / np.maximum(
        u.replicas * current.resources.cpu_request_millis / 1000, 1e-9
    )
    return {
        "window_minutes": round(seconds / 60, 1),
        "pods_seen": len(u.pods),
        "cpu_cores_used": percentiles(u.cores),
        "cpu_cores_wanted": percentiles(u.demand),
        "memory_working_set_mib": percentiles(u.memory, 1 / MIB),
        "cpu_throttled_share": {
            "mean": round(float(throttled.mean()), 4) if throttled.size else None,
            "steps_throttled": round(float((throttled > 0.05).mean()), 4)
            if throttled.size
            else None,
        },
        "restarts": int(u.restarts.sum()),
        "oom_kills": int(u.oom_kills.sum()),
        "requests_per_second": percentiles(u.rps),
        "cpu_utilization_of_request": percentiles(util[np.isfinite(util)]),
        "replicas": percentiles(u.replicas),
    }


def recommend_app(u: AppUsage, current: Settings) -> Recommendation[Settings]:
    """Apply the module's rules to an application's usage."""
    res = current.resources
    rec = Recommendation[Settings](current, current, usage=_summary(u, current))
    why = rec.rationale
    memory = u.memory[np.isfinite(u.memory)]
    cpu_request, cpu_limit = _size_cpu(u, current, why)
    if u.throttled[np.isfinite(u.throttled)].max(initial=0.0) >= THROTTLE_CENSOR:
        rec.flags.append(
            "pods were throttled in every CFS period: the CPU they wanted is only known to be "
            "at least 1.8× the old limit — check throttling again after applying"
        )
    m95, mmax = float(np.percentile(memory, 95)), float(memory.max())
    mem_request = round_memory(m95 * MEMORY_REQUEST_HEADROOM)
    mem_limit_floor = max(mmax * MEMORY_LIMIT_HEADROOM, mem_request * 1.25)
    why.append(
        f"memory request {format_memory(mem_request)} ≈ p95 working set ({m95 / MIB:.0f}Mi) "
        f"× {MEMORY_REQUEST_HEADROOM}; memory limit ≥ max working set ({mmax / MIB:.0f}Mi) "
        f"× {MEMORY_LIMIT_HEADROOM}"
    )
    oom = int(u.oom_kills.sum())
    if oom:
        mem_limit_floor = max(mem_limit_floor, res.memory_limit_bytes * OOM_LIMIT_RAISE)
        why.append(
            f"{oom} OOM kill(s): the working set reached the limit, so the limit rises to at "
            f"least {OOM_LIMIT_RAISE}× the current {format_memory(res.memory_limit_bytes)}"
        )
        if _grows_until_killed(u):
            rec.flags.append(
                "the working set grows steadily until the pod is OOM-killed: that looks like a "
                "memory leak — a higher limit only delays the kills; roll back or fix the image"
            )
    mem_limit = round_memory(mem_limit_floor)
    replicas = current.replicas
    if cpu_request > MAX_POD_CPU_MILLIS:
        k = math.ceil(cpu_request / MAX_POD_CPU_MILLIS)
        replicas *= k
        cpu_request = round_cpu(cpu_request / k)
        cpu_limit = round_cpu(max(cpu_limit / k, cpu_request * BURST_RATIO))
        why.append(
            f"a pod would request more than {format_cpu(MAX_POD_CPU_MILLIS)} CPU: spread over "
            f"{k}× the replicas instead"
        )
    resources = Resources(
        cpu_request_millis=cpu_request,
        memory_request_bytes=mem_request,
        cpu_limit_millis=cpu_limit,
        memory_limit_bytes=mem_limit,
    )
    hpa = current.hpa
    if hpa is not None:
        hpa, replicas = _tune_hpa(u, current, resources, rec)
    rec.proposed = Settings(resources, replicas, hpa)
    return rec


def _size_cpu(u: AppUsage, current: Settings, why: list[str]) -> tuple[int, int]:
    """CPU request and limit per pod. An HPA that hit its max could not spread the load: the
    per-pod demand then says "more replicas", so the per-pod CPU stays and the max grows."""
    if current.hpa is not None and _at_max(u, current.hpa) > AT_MAX_FLAG:
        res = current.resources
        why.append(
            "cpu request and limit kept: the HPA was at max replicas, so the replicas, not the "
            "pods, have to grow"
        )
        return res.cpu_request_millis, res.cpu_limit_millis
    demand = u.demand
    finite = demand[np.isfinite(demand)]
    d95, d99 = (float(x) for x in np.percentile(finite, [95, 99]))
    cpu_request = round_cpu(d95 * 1000)
    cpu_limit = round_cpu(max(d99 * 1000 / THROTTLE_ONSET, cpu_request * BURST_RATIO))
    why.append(
        f"cpu request {format_cpu(cpu_request)} ≈ p95 of CPU wanted per pod ({d95:.3f} cores); "
        f"cpu limit {format_cpu(cpu_limit)} ≥ p99 ({d99:.3f} cores) / {THROTTLE_ONSET} and "
        f"≥ {BURST_RATIO:g}× the request"
    )
    return cpu_request, cpu_limit


def _at_max(u: AppUsage, hpa: HpaSpec) -> float:
    """Share of the window the HPA spent at its max replicas."""
    cap = np.where(np.isfinite(u.hpa_max), u.hpa_max, hpa.max_replicas)
    return float((u.replicas >= cap).mean())


def _grows_until_killed(u: AppUsage) -> bool:
    """Any pod whose working set rose over most steps before an OOM kill."""
    for p in range(len(u.pods)):
        kills = np.flatnonzero(u.oom_kills[p] > 0)
        if kills.size == 0:
            continue
        start = 0 if kills.size == 1 else int(kills[-2]) + 1
        run = u.memory[p, start : int(kills[-1])]
        run = run[np.isfinite(run)]
        if run.size >= 3 and float((np.diff(run) > 0).mean()) >= 0.8:
            return True
    return False


def _tune_hpa(
    u: AppUsage, current: Settings, resources: Resources, rec: Recommendation[Settings]
) -> tuple[HpaSpec, int]:
    hpa = current.hpa
    assert hpa is not None
    at_max = _at_max(u, hpa)
    low, high = float(np.nanmin(u.replicas)), float(np.nanmax(u.replicas))
    rec.usage["hpa"] = {
        "at_max_share": round(at_max, 4),
        "replicas_min": int(low),
        "replicas_max": int(high),
    }
    if at_max > AT_MAX_FLAG:
        rec.flags.append(f"at max replicas ({hpa.max_replicas}) for {at_max:.0%} of the window")
    if low == high:
        rec.flags.append(f"never scales: {int(low)} replica(s) over the whole window")
    target = hpa.target_cpu_percent / 100
    needed = np.ceil(u.total_demand / (target * resources.cpu_request_millis / 1000))
    peak, p10 = float(needed.max()), float(np.percentile(needed, 10))
    # The HPA scales up by itself: min is only lowered (to the p10 need), never raised.
    new_min = min(hpa.min_replicas, max(1, math.ceil(p10), 2 if hpa.min_replicas >= 2 else 1))
    new_max = max(math.ceil(peak * HPA_MAX_HEADROOM), new_min)
    if at_max > AT_MAX_FLAG:
        new_max = max(new_max, hpa.max_replicas + 1)
    new_max = min(new_max, 1000)
    new_min = min(new_min, new_max)
    rec.rationale.append(
        f"HPA: at {hpa.target_cpu_percent}% of the proposed request the load needs "
        f"{int(p10)}–{int(peak)} replica(s) (p10–max): min {new_min}, max {new_max} "
        f"(≥ {HPA_MAX_HEADROOM}× the peak)"
    )
    replicas = min(max(current.replicas, new_min), new_max)
    return HpaSpec(
        min_replicas=new_min, max_replicas=new_max, target_cpu_percent=hpa.target_cpu_percent
    ), replicas
