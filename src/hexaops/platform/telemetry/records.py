"""Telemetry records the sandbox emits and the telemetry stores keep.

Metrics travel in columnar batches (one list per column) because the simulation produces
hundreds of thousands of samples per simulated hour; logs and events are row records.
Metric names and labels follow the real exporters (cAdvisor, kube-state-metrics, application
instrumentation), so a query written against a real cluster reads the sandbox the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass
class MetricBatch:
    """Samples as parallel columns. `labels` holds the labels beyond the fixed columns
    (e.g. {"code": "500"}, {"le": "0.25"}, {"node": "k3s-shared-1"})."""

    ts: list[datetime] = field(default_factory=list)  # UTC, timezone-aware
    name: list[str] = field(default_factory=list)  # e.g. container_cpu_usage_seconds_total
    org: list[str] = field(default_factory=list)
    workspace: list[str] = field(default_factory=list)
    namespace: list[str] = field(default_factory=list)
    pod: list[str] = field(default_factory=list)  # "" for series without a pod
    container: list[str] = field(default_factory=list)  # "" for series without a container
    labels: list[dict[str, str]] = field(default_factory=list)
    value: list[float] = field(default_factory=list)

    def append(
        self,
        ts: datetime,
        name: str,
        org: str,
        workspace: str,
        namespace: str,
        pod: str,
        container: str,
        labels: dict[str, str],
        value: float,
    ) -> None:
        self.ts.append(ts)
        self.name.append(name)
        self.org.append(org)
        self.workspace.append(workspace)
        self.namespace.append(namespace)
        self.pod.append(pod)
        self.container.append(container)
        self.labels.append(labels)
        self.value.append(value)

    def __len__(self) -> int:
        return len(self.value)


@dataclass(frozen=True)
class LogRecord:
    ts: datetime
    org: str
    workspace: str
    namespace: str
    pod: str
    container: str
    level: str  # DEBUG | INFO | WARN | ERROR | FATAL
    message: str
    fields: dict[str, str] = field(default_factory=dict)  # structured extras (trace_id, path, …)


@dataclass(frozen=True)
class EventRecord:
    """A Kubernetes Event (core/v1) as `kubectl get events` shows it."""

    ts: datetime  # lastTimestamp
    org: str
    workspace: str
    namespace: str
    kind: str  # involvedObject.kind: Pod, Deployment, Node, HorizontalPodAutoscaler, …
    name: str  # involvedObject.name
    reason: str  # OOMKilling, BackOff, FailedScheduling, Unhealthy, …
    type: str  # Normal | Warning
    message: str
    count: int = 1
    first_ts: datetime | None = None  # firstTimestamp; None means the same as ts


class TelemetrySink(Protocol):
    """Where the simulation writes what it observes (a ClickHouse store in the product)."""

    def write_metrics(self, batch: MetricBatch) -> None: ...

    def write_logs(self, records: list[LogRecord]) -> None: ...

    def write_events(self, records: list[EventRecord]) -> None: ...
