"""Columnar metric emission: one tick of every series, named as the real exporters name them.

The label columns of a tick are the same for every tick of one topology, so they are built once
(`SeriesLayout`) and each tick only appends them (list.extend, in C) next to one numpy vector
of values. No Python object is created per sample beyond the float itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

from hexaops.platform.sandbox.effects import Effects, PodMode
from hexaops.platform.sandbox.functions import SERIES as FUNCTION_SERIES
from hexaops.platform.sandbox.runtime import BUCKETS, PodRuntime, TickResult
from hexaops.platform.sandbox.topology import Topology
from hexaops.platform.telemetry.records import MetricBatch

NONE: dict[str, str] = {}

# Per-pod series (cAdvisor, kube-state-metrics, application instrumentation), in value order.
POD_SERIES: tuple[tuple[str, dict[str, str]], ...] = (
    ("container_cpu_usage_seconds_total", NONE),
    ("container_cpu_cfs_throttled_periods_total", NONE),
    ("container_memory_working_set_bytes", NONE),
    ("container_fs_usage_bytes", NONE),
    ("kube_pod_container_status_restarts_total", NONE),
    ("kube_pod_container_status_ready", NONE),
    ("kube_pod_status_phase", {"phase": "Pending"}),
    ("http_requests_total", {"code": "200"}),
    ("http_requests_total", {"code": "500"}),
    *(("http_request_duration_seconds_bucket", {"le": str(le)}) for le in BUCKETS),
    ("http_request_duration_seconds_bucket", {"le": "+Inf"}),
    ("http_request_duration_seconds_sum", NONE),
    ("http_request_duration_seconds_count", NONE),
)
APP_SERIES = (
    "kube_deployment_spec_replicas",
    "kube_deployment_status_replicas_available",
    "trivy_image_vulnerabilities",
)
HPA_SERIES = (
    "kube_horizontalpodautoscaler_status_current_replicas",
    "kube_horizontalpodautoscaler_status_desired_replicas",
    "kube_horizontalpodautoscaler_spec_max_replicas",
)
NODE_SERIES: tuple[tuple[str, dict[str, str]], ...] = (
    ("node_memory_MemAvailable_bytes", NONE),
    ("node_filesystem_avail_bytes", {"mountpoint": "/"}),
    ("kube_node_status_condition", {"condition": "MemoryPressure", "status": "true"}),
    ("kube_node_status_condition", {"condition": "DiskPressure", "status": "true"}),
    ("kube_node_spec_unschedulable", NONE),
    ("kube_node_status_allocatable", {"resource": "cpu", "unit": "core"}),
)


@dataclass
class _Columns:
    name: list[str]
    org: list[str]
    workspace: list[str]
    namespace: list[str]
    pod: list[str]
    container: list[str]
    labels: list[dict[str, str]]

    def add(
        self, name: str, org: str, ws: str, ns: str, pod: str, ctr: str, labels: dict[str, str]
    ) -> None:
        self.name.append(name)
        self.org.append(org)
        self.workspace.append(ws)
        self.namespace.append(ns)
        self.pod.append(pod)
        self.container.append(ctr)
        self.labels.append(labels)


class SeriesLayout:
    """The label columns of one tick, and how to lay out its values in the same order."""

    def __init__(self, topo: Topology, runtime: PodRuntime) -> None:
        self.topo, self.runtime = topo, runtime
        deps = topo.deployments
        self.hpa_apps = np.array([a for a, d in enumerate(deps) if d.hpa], dtype=np.int64)
        self.hpa_max = np.array([d.hpa.max_replicas for d in deps if d.hpa], dtype=float)
        self.spec_replicas = np.array([d.spec.replicas for d in deps], dtype=float)
        cols = _Columns([], [], [], [], [], [], [])
        for name, labels in POD_SERIES:
            for a, pod in runtime.pod_keys:
                d = deps[a]
                cols.add(name, d.org, d.workspace, d.namespace, pod["name"], d.name, labels)
        app_labels = [{"deployment": d.name} for d in deps]
        for name in APP_SERIES:
            for a, d in enumerate(deps):
                labels = app_labels[a]
                if name == "trivy_image_vulnerabilities":
                    labels = {"image": d.spec.image, "severity": "Critical"}
                cols.add(name, d.org, d.workspace, d.namespace, "", "", labels)
        for name in HPA_SERIES:
            for a in self.hpa_apps:
                d = deps[int(a)]
                labels = {"horizontalpodautoscaler": d.name}
                cols.add(name, d.org, d.workspace, d.namespace, "", "", labels)
        for name, labels in NODE_SERIES:
            for node in topo.nodes:
                cols.add(name, node.org, node.workspace, "", "", "", {**labels, "node": node.name})
        for name, labels in FUNCTION_SERIES:
            for f in topo.functions:
                cols.add(
                    name, f.org, f.workspace, f.namespace, "", "", {**labels, "function": f.name}
                )
        self.columns = cols
        self.node_mem = np.array([float(n.allocatable_memory_bytes) for n in topo.nodes])
        self.node_cpu = np.array([n.allocatable_cpu_millis / 1000 for n in topo.nodes])
        self.cordoned = np.array([float(n.cordoned) for n in topo.nodes])

    def __len__(self) -> int:
        return len(self.columns.name)

    def values(
        self,
        result: TickResult,
        fx: Effects,
        hpa_desired: NDArray[np.int64],
        functions: NDArray[np.float64],
    ) -> NDArray[np.float64]:
        rt, s = self.runtime, self.runtime.state
        pending = (~rt.scheduled) | (fx.pod_mode == PodMode.IMAGE_PULL)
        pending |= fx.pod_mode == PodMode.QUOTA_PENDING
        count = s["ok"] + s["err"]
        nodes = len(self.topo.nodes)
        node_mem_used = np.bincount(
            np.maximum(rt.pod_node, 0), weights=result.memory, minlength=nodes
        )[:nodes]
        mem_avail = self.node_mem - node_mem_used
        mem_avail = np.where(fx.node_memory_pressure, 0.01 * self.node_mem, mem_avail)
        disk_avail = np.where(fx.node_disk_pressure, 0.03, 0.62) * 100 * 2**30
        parts = [
            s["cpu_s"],
            s["throttled"],
            result.memory,
            s["fs"],
            s["restarts"],
            result.ready.astype(float),
            pending.astype(float),
            s["ok"],
            s["err"],
            rt.buckets.T.ravel(),
            count,
            s["lat_sum"],
            count,
            self.spec_replicas,
            result.app_ready.astype(float),
            fx.critical_cves.astype(float),
            result.app_ready[self.hpa_apps].astype(float),
            hpa_desired[self.hpa_apps].astype(float),
            self.hpa_max,
            mem_avail,
            disk_avail,
            fx.node_memory_pressure.astype(float),
            fx.node_disk_pressure.astype(float),
            self.cordoned,
            self.node_cpu,
            functions,
        ]
        return np.concatenate(parts)

    def append(self, batch: MetricBatch, ts: datetime, values: NDArray[np.float64]) -> None:
        c, n = self.columns, len(self)
        batch.ts.extend([ts] * n)
        batch.name.extend(c.name)
        batch.org.extend(c.org)
        batch.workspace.extend(c.workspace)
        batch.namespace.extend(c.namespace)
        batch.pod.extend(c.pod)
        batch.container.extend(c.container)
        batch.labels.extend(c.labels)
        batch.value.extend(values.tolist())
