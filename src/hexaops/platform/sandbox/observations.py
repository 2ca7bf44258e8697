"""What an SRE reads besides metrics: Kubernetes events and application logs, per tick.

Events repeat the way the kubelet repeats them — one object with a growing `count` per
(involved object, reason) — so their counts live in the fault's progress between `advance`s.
Logs are structured: a level, a message, fields.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np

from hexaops.platform.sandbox.effects import ActiveFault, Effects, PodMode
from hexaops.platform.sandbox.load import DEPENDENCIES, TICKS_PER_MINUTE, Edges
from hexaops.platform.sandbox.runtime import PodRuntime, TickResult
from hexaops.platform.sandbox.topology import Deployment
from hexaops.platform.telemetry.records import EventRecord, LogRecord

SUMMARY_EVERY_TICKS = 5 * TICKS_PER_MINUTE
SLOW_REQUEST_SECONDS = 0.5

_KILL_EVENTS = {
    PodMode.CRASH_AT_START: (("BackOff", "Back-off restarting failed container {c} in pod {p}"),),
    PodMode.LIVENESS_KILLED: (
        ("Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 404"),
        ("Killing", "Container {c} failed liveness probe, will be restarted"),
        ("BackOff", "Back-off restarting failed container {c} in pod {p}"),
    ),
    PodMode.LEAKING: (
        (
            "OOMKilling",
            "Memory cgroup out of memory: container {c} in pod {p} exceeded its "
            "memory limit {limit}, killed (OOMKilled)",
        ),
        ("BackOff", "Back-off restarting failed container {c} in pod {p}"),
    ),
}
_APP_LOGS = {
    "bad_deploy_error_spike": (
        "ERROR",
        "unhandled exception in POST /api/v1/orders: KeyError: 'currency'",
    ),
    "certificate_expiry": (
        "ERROR",
        "http: TLS handshake error from 10.42.0.1:51234: x509: certificate has expired or is "
        "not yet valid",
    ),
    "slow_dependency": ("WARN", "connection pool exhausted: waited 2.5s for a database connection"),
}


class Observer:
    """Turns one tick of the runtime into events and log records."""

    def __init__(self, deployments: list[Deployment], runtime: PodRuntime, edges: Edges) -> None:
        self.deps, self.rt, self.edges = deployments, runtime, edges
        self.events: list[EventRecord] = []
        self.logs: list[LogRecord] = []
        # fault id → {event key: [count, first ts iso]}; persisted in SandboxFault.progress.
        self.counts: dict[int, dict[str, list[Any]]] = {}

    def event(
        self,
        ts: datetime,
        fault: ActiveFault | None,
        d: Deployment | None,
        kind: str,
        name: str,
        reason: str,
        message: str,
        org_ws: tuple[str, str] | None = None,
    ) -> None:
        org, ws = (d.org, d.workspace) if d else (org_ws or ("", ""))
        count, first = 1, ts
        if fault is not None:
            seen = self.counts.setdefault(fault.id, {})
            key = f"{kind}/{name}/{reason}"
            entry = seen.setdefault(key, [0, ts.isoformat()])
            entry[0] += 1
            count, first = entry[0], datetime.fromisoformat(entry[1])
        self.events.append(
            EventRecord(
                ts=ts,
                org=org,
                workspace=ws,
                namespace=d.namespace if d else "",
                kind=kind,
                name=name,
                reason=reason,
                type="Normal" if reason in ("SuccessfulRescale", "Killing") else "Warning",
                message=message,
                count=count,
                first_ts=first,
            )
        )

    def log(
        self, ts: datetime, d: Deployment, pod: str, level: str, message: str, **fields: str
    ) -> None:
        self.logs.append(
            LogRecord(ts, d.org, d.workspace, d.namespace, pod, d.name, level, message, fields)
        )

    def tick(self, tick: int, ts: datetime, res: TickResult, fx: Effects) -> None:
        rt = self.rt
        for p in np.flatnonzero(res.killed | res.evicted).tolist():
            a = int(rt.pod_app[p])
            d, pod = self.deps[a], rt.pod_name(p)
            mode = int(fx.pod_mode[p])
            if res.evicted[p]:
                n = int(rt.pod_node[p])
                fault = fx.node_fault.get(n)
                resource = "memory" if fx.node_memory_pressure[n] else "ephemeral-storage"
                self.event(
                    ts,
                    fault,
                    d,
                    "Pod",
                    pod,
                    "Evicted",
                    f"The node was low on resource: {resource}.",
                )
                continue
            limit = f"{d.spec.resources.memory_limit_bytes // 2**20}Mi"
            for reason, text in _KILL_EVENTS.get(mode, ()):
                self.event(
                    ts,
                    fx.pod_fault.get(p),
                    d,
                    "Pod",
                    pod,
                    reason,
                    text.format(c=d.name, p=pod, limit=limit),
                )
            if mode == PodMode.CRASH_AT_START:
                self.log(
                    ts,
                    d,
                    pod,
                    "FATAL",
                    "invalid configuration: required key "
                    "'database.url' missing in /etc/app/config.yaml",
                    exit_code="1",
                )
            elif mode == PodMode.LEAKING:
                self.log(
                    ts,
                    d,
                    pod,
                    "ERROR",
                    f"OOMKilled: container restarted after exceeding its memory limit {limit}",
                )
        if tick % TICKS_PER_MINUTE == 0:
            self._minute(ts, res, fx)
        if tick % SUMMARY_EVERY_TICKS == 0:
            self._summaries(ts, res)

    def _minute(self, ts: datetime, res: TickResult, fx: Effects) -> None:
        rt = self.rt
        for p in np.flatnonzero(fx.pod_mode != PodMode.HEALTHY).tolist():
            a, mode = int(rt.pod_app[p]), int(fx.pod_mode[p])
            d, pod, fault = self.deps[a], rt.pod_name(p), fx.pod_fault.get(p)
            if mode == PodMode.IMAGE_PULL:
                self.event(
                    ts,
                    fault,
                    d,
                    "Pod",
                    pod,
                    "Failed",
                    f'Failed to pull image "{d.spec.image}": rpc error: code = NotFound '
                    "desc = manifest unknown",
                )
                self.event(
                    ts, fault, d, "Pod", pod, "BackOff", f'Back-off pulling image "{d.spec.image}"'
                )
            elif mode == PodMode.QUOTA_PENDING:
                req = d.spec.resources.cpu_request_millis
                self.event(
                    ts,
                    fault,
                    d,
                    "ReplicaSet",
                    f"{d.name}-rs",
                    "FailedCreate",
                    f'Error creating: pods "{pod}" is forbidden: exceeded quota: '
                    f"compute-resources, requested: requests.cpu={req}m",
                )
            elif mode == PodMode.DISK_FULL:
                self.log(ts, d, pod, "ERROR", "write /var/log/app/app.log: no space left on device")
            elif mode == PodMode.LEAKING and res.memory[p] > 0.8 * rt.mem_limit[a]:
                self.log(
                    ts,
                    d,
                    pod,
                    "WARN",
                    f"heap usage {res.memory[p] / 2**20:.0f}Mi, "
                    f"{100 * res.memory[p] / rt.mem_limit[a]:.0f}% of the memory limit",
                )
        for fault in fx.node_fault.values():
            if fault.kind == "node_memory_pressure":
                self.event(
                    ts,
                    fault,
                    None,
                    "Node",
                    fault.target,
                    "EvictionThresholdMet",
                    "Attempting to reclaim memory",
                )
            elif fault.kind == "node_disk_pressure":
                self.event(
                    ts,
                    fault,
                    None,
                    "Node",
                    fault.target,
                    "FreeDiskSpaceFailed",
                    "Failed to garbage collect required amount of images. Attempted to "
                    "free 4294967296 bytes, but only found 0 bytes eligible to free.",
                )
        for a, fault in fx.app_fault.items():
            d = self.deps[a]
            pod = self._pod_of(a)
            if fault.kind in _APP_LOGS and res.app_rps[a] > 0:
                level, message = _APP_LOGS[fault.kind]
                self.log(ts, d, pod, level, message)
            if fault.kind == "vulnerable_image" and not self.counts.get(fault.id):
                # trivy-operator scans a new image once; the report stays until the image changes.
                cves = ", ".join(str(c) for c in fault.baseline.get("cves", []))
                self.event(
                    ts,
                    fault,
                    d,
                    "VulnerabilityReport",
                    f"replicaset-{d.name}-{d.name}",
                    "VulnerabilityReportCreated",
                    f"image {d.spec.image}: {int(fx.critical_cves[a])} critical "
                    f"vulnerabilities ({cves})",
                )
            if fault.kind == "certificate_expiry":
                self.event(
                    ts,
                    fault,
                    d,
                    "Certificate",
                    f"{d.name}-tls",
                    "CertificateExpired",
                    f"Certificate {d.name}-tls expired; renewal did not succeed",
                )
        for a, d in enumerate(self.deps):
            pod = self._pod_of(a)
            if res.app_latency[a] > SLOW_REQUEST_SECONDS and res.app_rps[a] > 0:
                self.log(
                    ts,
                    d,
                    pod,
                    "WARN",
                    f"request took {res.app_latency[a]:.2f}s (slow request threshold 0.5s)",
                    path="/api/v1",
                )
            if res.dependency_errors[a] > 0.05 or res.app_latency[a] > SLOW_REQUEST_SECONDS:
                self._dependency_logs(ts, a, d, pod, fx)

    def _dependency_logs(self, ts: datetime, a: int, d: Deployment, pod: str, fx: Effects) -> None:
        for callee in DEPENDENCIES.get(d.name, {}):
            host = f"{callee}.{d.namespace}.svc.cluster.local"
            if fx.dns_broken[a]:
                self.log(
                    ts,
                    d,
                    pod,
                    "ERROR",
                    f"dial tcp: lookup {host} on 10.43.0.10:53: no such host",
                    upstream=callee,
                )
                continue
            j = next(
                (
                    i
                    for i, x in enumerate(self.deps)
                    if (x.cluster, x.namespace, x.name) == (d.cluster, d.namespace, callee)
                ),
                None,
            )
            if j is not None and fx.blocked[j]:
                self.log(
                    ts,
                    d,
                    pod,
                    "ERROR",
                    f"dial tcp {host}:8080: connect: connection timed out",
                    upstream=callee,
                )
            elif j is not None and fx.latency_add[j] > 0:
                self.log(
                    ts,
                    d,
                    pod,
                    "WARN",
                    f"upstream request timeout calling {callee}",
                    upstream=callee,
                )

    def _pod_of(self, a: int) -> str:
        pods = self.deps[a].pods
        return str(pods[0]["name"]) if pods else ""

    def _summaries(self, ts: datetime, res: TickResult) -> None:
        for a, d in enumerate(self.deps):
            if d.pods:
                self.log(
                    ts,
                    d,
                    self._pod_of(a),
                    "INFO",
                    "request summary",
                    rps=f"{res.app_rps[a]:.1f}",
                    error_ratio=f"{res.app_error[a]:.4f}",
                    latency_mean_s=f"{res.app_latency[a]:.3f}",
                )
