"""Benchmark of an analyzer pass: every analyzer over a workspace of `pods` pods.

The cluster is built in memory (applications of four pods in ten projects, some of them in
trouble: crash loops, OOM kills, image pulls, quota, probes, a full disk, DNS and NetworkPolicy
timeouts, a pressured node, an HPA at its maximum, an expired certificate, CPU saturation, an
error spike, a slow dependency), served through the driver's read contract:
every read returns freshly validated objects, as a driver parsing API responses does. The pass
runs on the cached `DiagnosticScope`; the baseline, in the same run, on a scope that re-reads
for every question an analyzer asks (what analyzers calling the driver directly would cost).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from hexaops.platform.domain import Quota, Resources
from hexaops.platform.drivers.contract import (
    HpaSpec,
    NamespaceRef,
    ObservedApplication,
    ObservedCertificate,
    ObservedComponent,
    ObservedEvent,
    ObservedNode,
    ObservedPod,
    WorkloadRef,
    WorkspaceRef,
    newest_last,
)
from hexaops.tools.diagnostics.analyzer import ANALYZERS, analyze
from hexaops.tools.diagnostics.scope import AppTarget, DiagnosticScope, Sample

NOW = datetime(2026, 1, 5, 12, tzinfo=UTC)
PODS_PER_APP = 4
PROJECTS = 10
NODES = 8

# Trouble by application index modulo its period (checked in this order, first one wins).
_TROUBLE = (
    (11, "crashloop"),
    (13, "oom"),
    (17, "image_pull"),
    (19, "quota"),
    (23, "probe"),
    (29, "disk_full"),
    (31, "dns"),
    (37, "blocked"),
    (41, "hpa"),
    (43, "certificate"),
    (47, "saturated"),
    (53, "error_spike"),
    (59, "slow_callee"),  # its callee (the app PROJECTS before, same project) is slow
)


def _trouble(a: int) -> str:
    return next((kind for period, kind in _TROUBLE if a % period == period - 1), "")


def _event(kind: str, name: str, reason: str, message: str, count: int = 5) -> dict[str, Any]:
    return ObservedEvent(
        kind=kind,
        name=name,
        reason=reason,
        type="Warning",
        message=message,
        count=count,
        first_seen=NOW - timedelta(minutes=12),
        last_seen=NOW - timedelta(seconds=30),
    ).model_dump(mode="json")


class MemoryCluster:
    """A workspace's observations as JSON documents, read back like a driver reads them."""

    def __init__(self, pods: int) -> None:
        self.apps: dict[tuple[str, str], dict[str, Any]] = {}
        self.events: dict[str, list[dict[str, Any]]] = {f"team-{p}": [] for p in range(PROJECTS)}
        self.logs: dict[str, list[str]] = {}
        self.policies: dict[str, list[str]] = {p: [] for p in self.events}
        self.certificates: dict[str, dict[str, dict[str, Any]]] = {p: {} for p in self.events}
        self.targets: list[AppTarget] = []
        self.trouble: dict[str, str] = {}  # application name → its trouble
        self.slow: set[str] = set()  # applications whose callers time out on them
        for a in range(max(1, pods // PODS_PER_APP)):
            self._application(a)

    def _application(self, a: int) -> None:
        project, name = f"team-{a % PROJECTS}", f"svc-{a}"
        trouble = _trouble(a)
        self.trouble[name] = trouble
        self.targets.append(AppTarget(project, name))
        if trouble == "slow_callee" and a >= PROJECTS:
            self.slow.add(f"svc-{a - PROJECTS}")
        pods = []
        info = [f"{NOW.isoformat()} INFO request summary rps=12.0 error_ratio=0.0010"] * 45
        for i in range(PODS_PER_APP):
            pod = f"{name}-5d8f9c7b6-{i:05d}"
            state: dict[str, Any] = {"phase": "Running", "ready": True, "restarts": 0}
            lines = list(info)
            if trouble == "crashloop":
                state = {
                    "phase": "Running",
                    "ready": False,
                    "restarts": 9,
                    "reason": "CrashLoopBackOff",
                    "last_state": "Error",
                }
                lines.append(f"{NOW.isoformat()} FATAL invalid configuration: missing key")
                self.events[project].append(
                    _event("Pod", pod, "BackOff", f"Back-off restarting failed container {name}")
                )
            elif trouble == "oom":
                state = {
                    "phase": "Running",
                    "ready": True,
                    "restarts": 3,
                    "last_state": "OOMKilled",
                }
                self.events[project].append(
                    _event("Pod", pod, "OOMKilling", f"container {name} exceeded its memory limit")
                )
            elif trouble == "image_pull" and i >= PODS_PER_APP // 2:
                state = {"phase": "Pending", "ready": False, "reason": "ImagePullBackOff"}
                self.events[project].append(
                    _event("Pod", pod, "Failed", f'Failed to pull image "ghcr.io/x/{name}:9"')
                )
            elif trouble == "quota" and i >= PODS_PER_APP // 2:
                state = {"phase": "Pending", "ready": False, "reason": "FailedCreate"}
            elif trouble == "probe":
                self.events[project].append(
                    _event("Pod", pod, "Unhealthy", "Liveness probe failed: statuscode: 404")
                )
            elif trouble == "disk_full" and i == 0:
                lines.append(f"{NOW.isoformat()} ERROR write /var/log/app.log: no space left")
                lines.append(f"{NOW.isoformat()} ERROR no space left on device")
            elif trouble == "dns" and i == 0:
                lines.append(
                    f"{NOW.isoformat()} ERROR dial tcp: lookup db on 10.43.0.10:53: no such host"
                )
            elif trouble == "blocked" and i == 0:
                callee = f"svc-{a - PROJECTS}"
                lines.append(
                    f"{NOW.isoformat()} ERROR dial tcp {callee}.{project}.svc.cluster."
                    "local:8080: connect: connection timed out"
                )
                self.policies[project] = [f"deny-ingress-{callee}"]
            elif trouble == "slow_callee" and i == 0 and a >= PROJECTS:
                lines.append(
                    f"{NOW.isoformat()} WARN upstream request timeout calling svc-{a - PROJECTS} "
                    f"upstream=svc-{a - PROJECTS}"
                )
            pods.append({"name": pod, "node": f"node-{(a + i) % NODES}", **state})
            self.logs[pod] = lines
        if trouble == "certificate":
            expired = ObservedCertificate(ready=False, revision=3)
            self.certificates[project][f"{name}-tls"] = expired.model_dump(mode="json")
            self.events[project].append(
                _event("Certificate", f"{name}-tls", "CertificateExpired", "Certificate expired")
            )
        if trouble == "quota":
            self.events[project].append(
                _event(
                    "ReplicaSet",
                    f"{name}-5d8f9c7b6",
                    "FailedCreate",
                    f'Error creating: pods "{name}-x" is forbidden: exceeded quota: compute',
                )
            )
        hpa = HpaSpec(min_replicas=2, max_replicas=PODS_PER_APP, target_cpu_percent=70)
        self.apps[(project, name)] = ObservedApplication(
            image=f"ghcr.io/x/{name}:1",
            replicas=PODS_PER_APP,
            ready_replicas=sum(bool(p["ready"]) for p in pods),
            revision=2,
            resources=Resources(),
            pods=[ObservedPod.model_validate(p) for p in pods],
            hpa=hpa if trouble == "hpa" else None,
        ).model_dump(mode="json")

    # -- the driver's read contract -------------------------------------------------------

    def get_application(self, ref: WorkloadRef) -> ObservedApplication | None:
        found = self.apps.get((ref.namespace, ref.name))
        return None if found is None else ObservedApplication.model_validate(found)

    def list_events(
        self, ref: NamespaceRef, since: datetime | None = None, limit: int = 200
    ) -> list[ObservedEvent]:
        events = [ObservedEvent.model_validate(e) for e in self.events.get(ref.namespace, [])]
        return newest_last(events, since, limit)

    def read_pod_logs(self, ref: WorkloadRef, pod: str, tail_lines: int = 200) -> list[str]:
        return list(self.logs.get(pod, [])[-tail_lines:])

    def get_quota(self, ref: NamespaceRef) -> Quota | None:
        return Quota(cpu_millis=8_000, memory_bytes=16 * 2**30, pods=40)

    def list_pool_nodes(self, ref: WorkspaceRef) -> list[ObservedNode]:
        return [ObservedNode(name=f"node-{n}", unschedulable=False) for n in range(NODES)]

    def list_certificates(self, ref: NamespaceRef) -> dict[str, ObservedCertificate]:
        found = self.certificates.get(ref.namespace, {})
        return {n: ObservedCertificate.model_validate(c) for n, c in sorted(found.items())}

    def list_network_policies(self, ref: NamespaceRef) -> list[str]:
        return list(self.policies.get(ref.namespace, []))

    def get_coredns(self, ref: WorkspaceRef) -> ObservedComponent | None:
        return ObservedComponent(ready=True)


class MemoryMetrics:
    """Node conditions, HPA series, and per pod CPU, throttling, requests and latency."""

    def __init__(self, cluster: MemoryCluster) -> None:
        self.samples: dict[str, list[Sample]] = {}
        for n in range(NODES):
            for condition in ("MemoryPressure", "DiskPressure"):
                value = 1.0 if (n, condition) == (0, "MemoryPressure") else 0.0
                self._add(
                    "kube_node_status_condition",
                    "",
                    "",
                    value,
                    {"node": f"node-{n}", "condition": condition, "status": "true"},
                )
        for (project, name), app in cluster.apps.items():
            if app["hpa"]:
                for metric in ("current", "desired"):
                    self._add(
                        f"kube_horizontalpodautoscaler_status_{metric}_replicas",
                        project,
                        "",
                        float(PODS_PER_APP),
                        {"horizontalpodautoscaler": name},
                    )
            trouble = cluster.trouble[name]
            for pod in app["pods"]:
                self._pod(project, pod["name"], trouble, name in cluster.slow, bool(app["hpa"]))

    def _pod(self, project: str, pod: str, trouble: str, slow: bool, hpa: bool) -> None:
        """CPU, throttling, requests and latency of a pod (rates per second; "base" is the
        rate at the window's start)."""
        saturated = trouble == "saturated"
        cpu = 0.5 if hpa or saturated else 0.02
        self._add("container_cpu_usage_seconds_total", project, pod, 1e4, {}, rate=cpu)
        throttled = 10.0 if saturated else 0.0
        self._add(
            "container_cpu_cfs_throttled_periods_total", project, pod, 1e4, {}, rate=throttled
        )
        rps, failing = 3.0, 0.3 if trouble == "error_spike" else 0.001
        latency = 1.5 if saturated else 2.5 if slow else 0.05
        for code, share, base in (("200", 1 - failing, 0.999), ("500", failing, 0.001)):
            self._add(
                "http_requests_total", project, pod, 1e5, {"code": code}, rps * share, rps * base
            )
        for metric, rate in (("sum", rps * latency), ("count", rps)):
            self._add(f"http_request_duration_seconds_{metric}", project, pod, 1e5, {}, rate, rate)

    def _add(
        self,
        name: str,
        namespace: str,
        pod: str,
        value: float,
        labels: dict[str, str],
        rate: float = 0.0,
        base: float | None = None,
    ) -> None:
        self.samples.setdefault(name, []).append(
            Sample(name, namespace, pod, labels, value, NOW, rate, base)
        )

    def latest(self, name: str) -> list[Sample]:
        return list(self.samples.get(name, []))


def scope_of(cluster: MemoryCluster, metrics: MemoryMetrics, cached: bool) -> DiagnosticScope:
    """A diagnostic scope over the in-memory cluster: every project, the last 30 minutes."""
    return DiagnosticScope(
        driver=cluster,
        org="bench",
        workspace="bench",
        projects=sorted(cluster.events),
        apps=cluster.targets,
        now=NOW,
        since=NOW - timedelta(minutes=30),
        metrics=metrics,
        cached=cached,
    )


def _pass(cluster: MemoryCluster, metrics: MemoryMetrics, cached: bool) -> dict[str, Any]:
    scope = scope_of(cluster, metrics, cached)
    started = time.perf_counter()
    findings = analyze(scope)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "reads": scope.reads, "findings": len(findings)}


def bench_analyzers(pods: int = 1000, repeat: int = 3) -> dict[str, Any]:
    """Time every analyzer over `pods` pods (best of `repeat`), against a re-reading baseline."""
    if pods < 1 or repeat < 1:
        raise ValueError("pods and repeat must be positive")
    cluster = MemoryCluster(pods)
    metrics = MemoryMetrics(cluster)
    cached = min((_pass(cluster, metrics, True) for _ in range(repeat)), key=lambda r: r["seconds"])
    naive = min((_pass(cluster, metrics, False) for _ in range(repeat)), key=lambda r: r["seconds"])
    count = sum(len(a["pods"]) for a in cluster.apps.values())
    if naive["findings"] != cached["findings"]:
        raise RuntimeError("the cached and the re-reading pass disagree")
    return {
        "pods": count,
        "applications": len(cluster.apps),
        "projects": PROJECTS,
        "analyzers": len(ANALYZERS),
        "findings": cached["findings"],
        "seconds": round(cached["seconds"], 4),
        "us_per_pod": round(1e6 * cached["seconds"] / count, 1),
        "reads": cached["reads"],
        "baseline": {
            "what": "same analyzers, scope re-reading every question (no cache)",
            "seconds": round(naive["seconds"], 4),
            "us_per_pod": round(1e6 * naive["seconds"] / count, 1),
            "reads": naive["reads"],
        },
        "speedup": round(naive["seconds"] / cached["seconds"], 2) if cached["seconds"] else None,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(bench_analyzers(), indent=2))
