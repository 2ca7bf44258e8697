"""What a diagnosis looks at: one workspace (or one project, or one application of it), read
through the cluster driver and the telemetry store, each thing at most once per run.

Analyzers ask the scope, never the driver: fourteen analyzers looking at the same pods must not
mean fourteen reads of them. A read that fails is remembered as a gap (the diagnosis says what
it could not see) instead of failing the whole run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar, cast

from hexaops.platform.domain import Quota
from hexaops.platform.drivers.contract import (
    NamespaceRef,
    ObservedApplication,
    ObservedCertificate,
    ObservedComponent,
    ObservedEvent,
    ObservedNode,
    WorkloadRef,
    WorkspaceRef,
)
from hexaops.platform.errors import PlatformError
from hexaops.platform.telemetry.clickhouse import ClickHouseStore, Tenant

log = logging.getLogger(__name__)
T = TypeVar("T")

LOG_LINES = 50  # tail read per pod: enough to see a repeating error, cheap enough for all pods
RATE_WINDOW = timedelta(minutes=5)  # counters are read as their per-second rate over this


class ClusterReads(Protocol):
    """The driver reads a diagnosis makes (every PlatformDriver has them)."""

    def get_application(self, ref: WorkloadRef) -> ObservedApplication | None: ...

    def list_events(
        self, ref: NamespaceRef, since: datetime | None = ..., limit: int = ...
    ) -> list[ObservedEvent]: ...

    def read_pod_logs(self, ref: WorkloadRef, pod: str, tail_lines: int = ...) -> list[str]: ...

    def get_quota(self, ref: NamespaceRef) -> Quota | None: ...

    def list_pool_nodes(self, ref: WorkspaceRef) -> list[ObservedNode]: ...

    def list_certificates(self, ref: NamespaceRef) -> dict[str, ObservedCertificate]: ...

    def list_network_policies(self, ref: NamespaceRef) -> list[str]: ...

    def get_coredns(self, ref: WorkspaceRef) -> ObservedComponent | None: ...


@dataclass(frozen=True)
class AppTarget:
    """An application (Deployment) of a project namespace."""

    project: str
    name: str


@dataclass(frozen=True)
class Sample:
    """The latest value of one metric series in the window; for a counter, `rate` is its
    per-second increase over the last RATE_WINDOW (0 across a reset). `base_rate` is the
    rate over the series' first RATE_WINDOW in the window — the "before" a trend compares
    with — or None when the series is too short for the two not to overlap."""

    name: str
    namespace: str
    pod: str
    labels: dict[str, str]
    value: float
    at: datetime
    rate: float = 0.0
    base_rate: float | None = None


def _rate(points: list[tuple[datetime, float]]) -> float:
    """Per-second increase between the first and last point (0 across a counter reset)."""
    (t0, v0), (t1, v1) = points[0], points[-1]
    seconds = (t1 - t0).total_seconds()
    return (v1 - v0) / seconds if seconds > 0 and v1 >= v0 else 0.0


def sample_of(
    name: str,
    namespace: str,
    pod: str,
    labels: dict[str, str],
    points: list[tuple[datetime, float]],
) -> Sample:
    """The Sample of one series from its points in the window (time order, at least one)."""
    at, value = points[-1]
    recent = [p for p in points if p[0] >= at - RATE_WINDOW]
    first_at = points[0][0]
    base: float | None = None
    if first_at + RATE_WINDOW <= at - RATE_WINDOW:
        base = _rate([p for p in points if p[0] <= first_at + RATE_WINDOW])
    return Sample(name, namespace, pod, labels, value, at, _rate(recent), base)


class MetricSource(Protocol):
    def latest(self, name: str) -> list[Sample]:
        """The newest sample of each series of metric `name` in the diagnosis window."""
        ...


@dataclass
class TelemetryMetrics:
    """Metric reads from the telemetry store, for one tenant and window."""

    store: ClickHouseStore
    tenant: Tenant
    start: datetime
    end: datetime

    def latest(self, name: str) -> list[Sample]:
        return [
            sample_of(name, s.namespace, s.pod, s.labels, s.points)
            for s in self.store.query_metric(self.tenant, name, self.start, self.end)
            if s.points
        ]


@dataclass
class DiagnosticScope:
    """The objects of one diagnosis and cached reads of them. `cached=False` re-reads on every
    question (only the benchmark's baseline wants that)."""

    driver: ClusterReads
    org: str
    workspace: str
    projects: list[str]
    apps: list[AppTarget]
    now: datetime
    since: datetime  # events last seen before this no longer count
    metrics: MetricSource | None = None
    cached: bool = True
    # The other applications of the scope's projects when it is one application's: their
    # logs and metrics show what the application's callers and node neighbours see.
    related: list[AppTarget] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)
    reads: int = 0
    _cache: dict[tuple[Any, ...], Any] = field(default_factory=dict, repr=False)

    # -- object names ------------------------------------------------------------------------

    def path(self, project: str, kind: str, name: str) -> str:
        return f"{self.org}/{self.workspace}/{project}/{kind}/{name}"

    def cluster_path(self, kind: str, name: str) -> str:
        return f"{self.org}/{self.workspace}/{kind}/{name}"

    # -- reads -------------------------------------------------------------------------------

    def _read(self, key: tuple[Any, ...], what: str, read: Callable[[], T], empty: T) -> T:
        if self.cached and key in self._cache:
            return cast("T", self._cache[key])
        self.reads += 1
        try:
            value = read()
        except PlatformError as exc:
            self._gap(f"{what}: {exc.message}")
            value = empty
        if self.cached:
            self._cache[key] = value
        return value

    def memo(self, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        """A value derived from reads (not a read itself), computed once per cached scope:
        several analyzers sharing one reading of the telemetry."""
        if self.cached and ("memo", *key) in self._cache:
            return cast("T", self._cache[("memo", *key)])
        value = compute()
        if self.cached:
            self._cache[("memo", *key)] = value
        return value

    def _gap(self, text: str) -> None:
        if text not in self.gaps:
            self.gaps.append(text)

    def _ns(self, project: str) -> NamespaceRef:
        return NamespaceRef(org=self.org, workspace=self.workspace, namespace=project)

    def _wl(self, app: AppTarget) -> WorkloadRef:
        return WorkloadRef(
            org=self.org, workspace=self.workspace, namespace=app.project, name=app.name
        )

    @property
    def _ws(self) -> WorkspaceRef:
        return WorkspaceRef(org=self.org, workspace=self.workspace)

    def application(self, app: AppTarget) -> ObservedApplication | None:
        return self._read(
            ("app", app),
            f"application {app.project}/{app.name}",
            lambda: self.driver.get_application(self._wl(app)),
            None,
        )

    def applications(
        self, *, related: bool = False
    ) -> Iterator[tuple[AppTarget, ObservedApplication]]:
        """Every application of the scope the cluster runs, with its observed state; with
        `related`, also the other applications of its projects."""
        for app in self.apps + (self.related if related else []):
            observed = self.application(app)
            if observed is not None:
                yield app, observed

    def events(self, project: str) -> list[ObservedEvent]:
        """The project namespace's events last seen in the window, newest last."""
        return self._read(
            ("events", project),
            f"events of {project}",
            lambda: self.driver.list_events(self._ns(project), since=self.since),
            [],
        )

    def all_events(self) -> Iterator[tuple[str, ObservedEvent]]:
        for project in self.projects:
            for event in self.events(project):
                yield project, event

    def pod_logs(self, app: AppTarget, pod: str) -> list[str]:
        return self._read(
            ("logs", app, pod),
            f"logs of pod {app.project}/{pod}",
            lambda: self.driver.read_pod_logs(self._wl(app), pod, tail_lines=LOG_LINES),
            [],
        )

    def all_logs(self, *, related: bool = False) -> Iterator[tuple[AppTarget, str, list[str]]]:
        """The log tail of every pod that has started (pending pods have no logs)."""
        for app, observed in self.applications(related=related):
            for pod in observed.pods:
                if pod.phase != "Pending":
                    yield app, pod.name, self.pod_logs(app, pod.name)

    def log_matches(
        self, *needles: str, related: bool = False
    ) -> Iterator[tuple[AppTarget, str, list[str]]]:
        """Pods whose log tail contains any of `needles` (case-insensitive), with those lines.
        A pod's tail is searched as one lowered text first: most pods match nothing."""
        wanted = [n.lower() for n in needles]
        for app, pod, lines in self.all_logs(related=related):
            key = ("lowered", app, pod)
            text = self._cache.get(key) if self.cached else None
            if text is None:
                text = "\n".join(lines).lower()
                if self.cached:
                    self._cache[key] = text
            if not any(n in text for n in wanted):
                continue
            hits = [line for line in lines if any(n in line.lower() for n in wanted)]
            if hits:
                yield app, pod, hits

    def quota(self, project: str) -> Quota | None:
        return self._read(
            ("quota", project),
            f"quota of {project}",
            lambda: self.driver.get_quota(self._ns(project)),
            None,
        )

    def pool_nodes(self) -> list[ObservedNode]:
        return self._read(
            ("nodes",), "nodes of the pool", lambda: self.driver.list_pool_nodes(self._ws), []
        )

    def certificates(self, project: str) -> dict[str, ObservedCertificate]:
        return self._read(
            ("certificates", project),
            f"certificates of {project}",
            lambda: self.driver.list_certificates(self._ns(project)),
            {},
        )

    def network_policies(self, project: str) -> list[str]:
        return self._read(
            ("netpol", project),
            f"network policies of {project}",
            lambda: self.driver.list_network_policies(self._ns(project)),
            [],
        )

    def coredns(self) -> ObservedComponent | None:
        return self._read(("coredns",), "CoreDNS", lambda: self.driver.get_coredns(self._ws), None)

    def metric(self, name: str) -> list[Sample]:
        """The latest samples of a metric for this scope's namespaces (and cluster-level ones);
        [] without a telemetry store."""
        source = self.metrics
        if source is None:
            self._gap("telemetry: not configured, metric-based checks skipped")
            return []

        def read() -> list[Sample]:
            try:
                return source.latest(name)
            except PlatformError:
                raise
            except Exception as exc:  # a telemetry outage must not hide what the driver shows
                log.warning("telemetry read of %s failed: %s", name, exc)
                raise _TelemetryDown(f"unavailable ({type(exc).__name__})") from exc

        empty: list[Sample] = []
        samples = self._read(("metric", name), f"telemetry {name}", read, empty)
        keep = set(self.projects) | {""}
        return [s for s in samples if s.namespace in keep]


class _TelemetryDown(PlatformError):
    code = "backend_unavailable"
