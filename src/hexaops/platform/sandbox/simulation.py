"""The sandbox simulation: a seeded, clocked K3s host whose telemetry flows to a TelemetrySink.

`Simulation` is the public face (the CLI, the benchmark, tests and the evaluation harness use it):
list the fault catalog, inject a fault, advance the clock, read a workspace's status, read a
fault's ground truth. Everything it does is a function of the seed, the store's objects and the
order of calls, so the same seed and the same operations give the same telemetry.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Engine, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from hexaops.platform.db.models import (
    SandboxClock,
    SandboxFault,
    SandboxObject,
    SandboxWorkloadState,
)
from hexaops.platform.drivers.contract import (
    EVENT_LIMIT,
    LOG_TAIL_LINES,
    ObservedEvent,
    WorkloadRef,
    WorkspaceRef,
)
from hexaops.platform.drivers.sandbox import (
    SANDBOX_EPOCH,
    SandboxDriver,
    append_pod_logs,
    record_events,
)
from hexaops.platform.errors import InvalidInput, NotFound
from hexaops.platform.sandbox import injection
from hexaops.platform.sandbox.effects import ActiveFault
from hexaops.platform.sandbox.faults import catalog, fault_kind
from hexaops.platform.sandbox.load import (
    TICK_SECONDS,
    TICKS_PER_MINUTE,
)
from hexaops.platform.sandbox.resolution import is_resolved
from hexaops.platform.sandbox.runtime import TickResult
from hexaops.platform.sandbox.topology import load_topology
from hexaops.platform.sandbox.workload_status import pod_statuses, workspace_status
from hexaops.platform.sandbox.world import World
from hexaops.platform.telemetry.records import EventRecord, LogRecord, MetricBatch, TelemetrySink

DEFAULT_SEED = 42
DEFAULT_EPOCH = SANDBOX_EPOCH  # a Monday, midnight UTC
FLUSH_SAMPLES = 250_000
MAX_MINUTES = 31 * 24 * 60
SCALE_DOWN_EVERY_TICKS = 5 * TICKS_PER_MINUTE  # the HPA's downscale stabilization window


@dataclass
class AdvanceReport:
    ticks: int = 0
    samples: int = 0
    logs: int = 0
    events: int = 0
    activated: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    now: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@cache
def _cluster(org: str, workspace: str) -> str:
    """The vCluster (host namespace) of a workspace; cached, as every log record asks."""
    return WorkspaceRef(org=org, workspace=workspace).host_namespace


class _Diagnostics:
    """What an `advance` leaves in the store for the driver's `list_events` and
    `read_pod_logs`, so they answer without a telemetry store (chDB allows one data path per
    process, and every CLI command builds a driver). Bounded while collecting: one aggregated
    event per (object, reason), the last LOG_TAIL_LINES lines per pod."""

    def __init__(self) -> None:
        # (cluster, namespace) → {(kind, name, reason) → event}
        self.events: dict[tuple[str, str], dict[tuple[str, str, str], ObservedEvent]] = {}
        # (cluster, namespace, deployment, pod) → last lines
        self.logs: dict[tuple[str, str, str, str], deque[str]] = {}

    def add(self, events: list[EventRecord], logs: list[LogRecord]) -> None:
        for e in events:
            if not e.namespace:  # cluster-scoped (Node) events are not a namespace's
                continue
            cluster = _cluster(e.org, e.workspace)
            seen = self.events.setdefault((cluster, e.namespace), {})
            key = (e.kind, e.name, e.reason)
            previous = seen.get(key)
            if previous is None:
                seen[key] = ObservedEvent(
                    kind=e.kind,
                    name=e.name,
                    reason=e.reason,
                    type=e.type,
                    message=e.message,
                    count=1,
                    first_seen=min(e.first_ts or e.ts, e.ts),
                    last_seen=e.ts,
                )
            else:
                seen[key] = previous.model_copy(
                    update={
                        "type": e.type,
                        "message": e.message,
                        "count": previous.count + 1,
                        "last_seen": max(previous.last_seen, e.ts),
                    }
                )
        for r in logs:
            if not r.pod:
                continue
            cluster = _cluster(r.org, r.workspace)
            lines = self.logs.setdefault(
                (cluster, r.namespace, r.container, r.pod), deque(maxlen=LOG_TAIL_LINES)
            )
            extras = "".join(f" {k}={v}" for k, v in r.fields.items())
            lines.append(f"{r.ts.isoformat()} {r.level} {r.message}{extras}")

    def save(self, session: Session) -> None:
        for (cluster, namespace), seen in self.events.items():
            newest = sorted(seen.values(), key=lambda e: e.last_seen)[-EVENT_LIMIT:]
            record_events(session, cluster, namespace, newest)
        pods: dict[tuple[str, str, str], set[str]] = {}
        for (cluster, namespace, deployment, pod), lines in self.logs.items():
            key = (cluster, namespace, deployment)
            if key not in pods:
                obj = session.get(SandboxObject, (cluster, "Deployment", namespace, deployment))
                pods[key] = (
                    set() if obj is None else {p["name"] for p in obj.status.get("pods", [])}
                )
            # A pod replaced during the advance (a rollout, a scale-down) has no logs to keep.
            if pod in pods[key]:
                append_pod_logs(session, cluster, namespace, pod, list(lines))
        self.events, self.logs = {}, {}


def _active(row: SandboxFault) -> ActiveFault:
    return ActiveFault(row.id, row.kind, row.cluster, row.namespace, row.target, row.baseline)


class Simulation:
    def __init__(
        self, engine: Engine, seed: int = DEFAULT_SEED, epoch: datetime = DEFAULT_EPOCH
    ) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._driver = SandboxDriver(engine)
        self._seed, self._epoch = seed, epoch

    # -- clock ---------------------------------------------------------------------------

    def _clock(self, session: Session, lock: bool = True) -> SandboxClock:
        """The clock row; locked for writers: one `advance` or `inject` at a time per sandbox.

        Readers (`now`, `status`, `truth`) do not lock, so they answer during a long advance
        (with the state of the last committed one)."""
        session.execute(
            insert(SandboxClock)
            .values(id=1, seed=self._seed, epoch=self._epoch, tick=0)
            .on_conflict_do_nothing(index_elements=["id"])
        )
        clock = session.get(SandboxClock, 1, with_for_update=lock)
        assert clock is not None  # inserted just above
        return clock

    @staticmethod
    def _at(clock: SandboxClock, tick: int) -> datetime:
        return clock.epoch.astimezone(UTC) + timedelta(seconds=tick * TICK_SECONDS)

    def now(self) -> datetime:
        with self._sessions.begin() as session:
            clock = self._clock(session, lock=False)
            return self._at(clock, clock.tick)

    # -- faults --------------------------------------------------------------------------

    @staticmethod
    def catalog() -> list[dict[str, Any]]:
        return catalog()

    def inject(
        self, kind: str, org: str, workspace: str, target: str, at_minutes: float = 0.0
    ) -> int:
        """Schedule a fault `at_minutes` from now; returns its id. Bad input changes nothing."""
        spec = fault_kind(kind)
        if not math.isfinite(at_minutes) or at_minutes < 0:
            raise InvalidInput(f"--at must be a non-negative number of minutes, not {at_minutes}")
        with self._sessions.begin() as session:
            clock = self._clock(session)
            topo = load_topology(session)
            cluster, namespace, name, seed = injection.locate(topo, spec, org, workspace, target)
            injection.check_not_duplicate(session, kind, cluster, name)
            start = clock.tick + math.ceil(at_minutes * TICKS_PER_MINUTE)
            row = SandboxFault(
                kind=kind,
                cluster=cluster,
                org=org,
                workspace=workspace,
                namespace=namespace,
                target=name,
                start_tick=start,
                status="scheduled",
                baseline=seed,
                progress={},
                truth={
                    "root_cause": spec.root_cause,
                    "objects_at_fault": injection.objects_at_fault(
                        spec, namespace, name, seed.get("deployment")
                    ),
                    "details": {},
                },
            )
            session.add(row)
            session.flush()
            return row.id

    def truth(self, fault_id: int) -> dict[str, Any]:
        """Ground truth of a fault, for the evaluation harness and tests — never for agents."""
        with self._sessions.begin() as session:
            clock = self._clock(session, lock=False)
            row = session.get(SandboxFault, fault_id)
            if row is None:
                raise NotFound(f"fault {fault_id} does not exist")
            spec = fault_kind(row.kind)
            resolved = row.resolved_tick
            return {
                "fault_id": row.id,
                "kind": row.kind,
                "status": row.status,
                "org": row.org,
                "workspace": row.workspace,
                "namespace": row.namespace,
                "target": row.target,
                "starts_at": self._at(clock, row.start_tick).isoformat(),
                "resolved_at": None if resolved is None else self._at(clock, resolved).isoformat(),
                **row.truth,
                "symptoms": {
                    "metrics": list(spec.metrics),
                    "logs": list(spec.logs),
                    "events": list(spec.events),
                },
                "mitigations": list(spec.mitigations),
                "wrong_mitigations": list(spec.wrong_mitigations),
            }

    # -- status --------------------------------------------------------------------------

    def status(self, org: str, workspace: str) -> dict[str, Any]:
        with self._sessions.begin() as session:
            clock = self._clock(session, lock=False)
            topo = load_topology(session)
            if (org, workspace) not in topo.workspaces.values():
                raise NotFound(f"workspace {org}/{workspace} does not exist in the sandbox")
            faults = session.scalars(
                select(SandboxFault)
                .where(SandboxFault.org == org, SandboxFault.workspace == workspace)
                .order_by(SandboxFault.id)
            ).all()
            return workspace_status(topo, org, workspace, self._at(clock, clock.tick), faults)

    # -- advance -------------------------------------------------------------------------

    def advance(self, minutes: float, sink: TelemetrySink) -> AdvanceReport:
        """Run the clock `minutes` forward, writing every tick's telemetry to `sink`."""
        if not math.isfinite(minutes) or minutes < 0 or minutes > MAX_MINUTES:
            raise InvalidInput(f"minutes must be between 0 and {MAX_MINUTES}, not {minutes}")
        report, diagnostics = AdvanceReport(), _Diagnostics()
        with self._sessions.begin() as session:
            clock = self._clock(session)
            rows = session.scalars(
                select(SandboxFault)
                .where(SandboxFault.status != "resolved")
                .order_by(SandboxFault.id)
            ).all()
            states = {
                (s.cluster, s.namespace, s.name): dict(s.pods)
                for s in session.scalars(select(SandboxWorkloadState))
            }
            # Copies: mutating the loaded JSON in place would hide the change from the ORM.
            counts: dict[int, dict[str, list[Any]]] = {
                row.id: {k: list(v) for k, v in row.progress.get("events", {}).items()}
                for row in rows
            }
            world = self._world(session, states, rows, counts)
            batch, res, observed = MetricBatch(), None, world
            first, last = clock.tick, clock.tick + round(minutes * TICKS_PER_MINUTE)
            for tick in range(first, last):
                ts = self._at(clock, tick)
                if self._faults_changed(session, world, rows, tick, report):
                    report.samples += self._flush(sink, batch, world, report, diagnostics)
                    batch = MetricBatch()
                    world = self._world(session, world.saved_states(), rows, counts)
                res, observed = world.runtime.step(tick, world.fx, world.edges), world
                desired = world.hpa_desired(res)
                functions = world.functions.step(tick)
                values = world.layout.values(res, world.fx, desired, functions)
                world.layout.append(batch, ts, values)
                world.observer.tick(tick, ts, res, world.fx)
                if len(batch) >= FLUSH_SAMPLES:
                    report.samples += self._flush(sink, batch, world, report, diagnostics)
                    batch = MetricBatch()
                if tick % TICKS_PER_MINUTE == TICKS_PER_MINUTE - 1 and self._autoscale(
                    world, desired, tick, ts
                ):
                    report.samples += self._flush(sink, batch, world, report, diagnostics)
                    batch = MetricBatch()
                    world = self._world(session, world.saved_states(), rows, counts)
            report.samples += self._flush(sink, batch, world, report, diagnostics)
            # `res` describes the pods of the world it was stepped in, which an autoscale on the
            # last tick has replaced: pod statuses are saved from that world.
            self._save(session, world, rows, counts, res, observed)
            diagnostics.save(session)
            clock.tick = last
            report.ticks = last - first
            report.now = self._at(clock, last).isoformat()
        return report

    def _world(
        self,
        session: Session,
        states: dict[tuple[str, str, str], dict[str, Any]],
        rows: Sequence[SandboxFault],
        counts: dict[int, dict[str, list[Any]]],
    ) -> World:
        topo = load_topology(session)
        active = [_active(r) for r in rows if r.status == "active"]
        world = World(topo, states, active, self._seed, self._epoch)
        world.observer.counts = counts  # event counts carry over when the world is rebuilt
        return world

    def _faults_changed(
        self,
        session: Session,
        world: World,
        rows: Sequence[SandboxFault],
        tick: int,
        report: AdvanceReport,
    ) -> bool:
        """Start faults that are due, retire those a mitigation resolved (once a minute)."""
        changed = False
        for row in rows:
            if row.status == "scheduled" and row.start_tick <= tick:
                changed = True
                if injection.activate(session, row, world.topo, self._seed):
                    row.status = "active"
                    report.activated.append(row.id)
                else:
                    row.status, row.resolved_tick = "resolved", tick
                    row.truth = {**row.truth, "resolution": "target vanished before the start"}
            elif (
                row.status == "active"
                and (tick % TICKS_PER_MINUTE == 0 or row.id in report.activated)
                and is_resolved(_active(row), world.topo)
            ):
                row.status, row.resolved_tick, changed = "resolved", tick, True
                report.resolved.append(row.id)
        if changed:
            session.flush()
        return changed

    def _autoscale(self, world: World, desired: NDArray[np.int64], tick: int, ts: datetime) -> bool:
        """The HPA controller: scale up at once, down only after its stabilization window."""
        scaled = False
        for a, d in enumerate(world.topo.deployments):
            want = int(desired[a])
            if d.hpa is None or want == d.spec.replicas:
                continue
            if want < d.spec.replicas and (tick + 1) % SCALE_DOWN_EVERY_TICKS:
                continue
            ref = WorkloadRef(org=d.org, workspace=d.workspace, namespace=d.namespace, name=d.name)
            self._driver.scale_application(ref, want)
            world.observer.event(
                ts,
                None,
                d,
                "HorizontalPodAutoscaler",
                d.name,
                "SuccessfulRescale",
                f"New size: {want}; reason: cpu resource utilization (percentage of request) "
                f"{'above' if want > d.spec.replicas else 'below'} target",
            )
            scaled = True
        return scaled

    @staticmethod
    def _flush(
        sink: TelemetrySink,
        batch: MetricBatch,
        world: World,
        report: AdvanceReport,
        diagnostics: _Diagnostics,
    ) -> int:
        obs = world.observer
        diagnostics.add(obs.events, obs.logs)
        if len(batch):
            sink.write_metrics(batch)
        if obs.logs:
            sink.write_logs(obs.logs)
            report.logs += len(obs.logs)
        if obs.events:
            sink.write_events(obs.events)
            report.events += len(obs.events)
        obs.logs, obs.events = [], []
        return len(batch)

    def _save(
        self,
        session: Session,
        world: World,
        rows: Sequence[SandboxFault],
        counts: dict[int, dict[str, list[Any]]],
        res: TickResult | None,
        observed: World,
    ) -> None:
        for row in rows:
            if counts.get(row.id):
                row.progress = {**row.progress, "events": counts[row.id]}
        saved = world.saved_states()
        if saved:
            statement = insert(SandboxWorkloadState).values(
                [
                    {"cluster": c, "namespace": n, "name": name, "pods": pods}
                    for (c, n, name), pods in saved.items()
                ]
            )
            session.execute(
                statement.on_conflict_do_update(
                    index_elements=["cluster", "namespace", "name"],
                    set_={"pods": statement.excluded.pods},
                )
            )
        if res is not None:
            pod_statuses(session, observed.topo, observed.runtime, observed.fx, res)
