"""Diagnostics: Events (aggregated as the API server does) and pod logs, as stored rows
and as the driver reads them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from hexaops.platform.db.models import SandboxObject, utcnow
from hexaops.platform.drivers.contract import (
    EVENT_LIMIT,
    LOG_TAIL_LINES,
    NamespaceRef,
    ObservedEvent,
    WorkloadRef,
    newest_last,
)
from hexaops.platform.drivers.sandbox.store import EVENT, HOST, POD_LOG, _digest, _Store
from hexaops.platform.errors import DriverError


def _event_name(event: ObservedEvent) -> str:
    # The API server names an event <object>.<unique suffix>; one per object and reason here,
    # since the sandbox aggregates by (kind, name, reason) as the event correlator does.
    return f"{event.name[:200]}.{_digest(event.kind, event.name, event.reason, length=16)}"


def record_events(
    session: Session, cluster: str, namespace: str, events: Iterable[ObservedEvent]
) -> None:
    """Store events in a vCluster namespace, aggregated as the API server does: an event for an
    object and reason already stored adds its count, widens first/last seen and replaces the
    message. Only the newest EVENT_LIMIT events of the namespace are kept."""
    recorded = False
    for event in events:
        recorded = True
        name = _event_name(event)
        inserted = session.execute(
            insert(SandboxObject)
            .values(
                cluster=cluster,
                kind=EVENT,
                namespace=namespace,
                name=name,
                spec=event.model_dump(mode="json"),
                status={},
                resource_version=1,
                updated_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["cluster", "kind", "namespace", "name"])
            .returning(SandboxObject.name)
        ).first()
        if inserted is not None:
            continue
        # Another write got there first (now or earlier): merge under the row lock.
        row = session.get(
            SandboxObject,
            (cluster, EVENT, namespace, name),
            with_for_update=True,
            populate_existing=True,
        )
        assert row is not None  # the insert conflicted with it
        stored = ObservedEvent.model_validate(row.spec)
        merged = stored.model_copy(
            update={
                "type": event.type,
                "message": event.message if event.last_seen >= stored.last_seen else stored.message,
                "count": stored.count + event.count,
                "first_seen": min(stored.first_seen, event.first_seen),
                "last_seen": max(stored.last_seen, event.last_seen),
            }
        )
        row.spec = merged.model_dump(mode="json")
        row.resource_version += 1
    if recorded:
        session.flush()
        _trim_events(session, cluster, namespace)


def _trim_events(session: Session, cluster: str, namespace: str) -> None:
    rows = session.scalars(
        select(SandboxObject).where(
            SandboxObject.cluster == cluster,
            SandboxObject.kind == EVENT,
            SandboxObject.namespace == namespace,
        )
    ).all()
    if len(rows) <= EVENT_LIMIT:
        return
    newest_first = sorted(
        rows, key=lambda r: (ObservedEvent.model_validate(r.spec).last_seen, r.name), reverse=True
    )
    for row in newest_first[EVENT_LIMIT:]:
        session.delete(row)
    session.flush()


def append_pod_logs(
    session: Session, cluster: str, namespace: str, pod: str, lines: list[str]
) -> None:
    """Append log lines of a pod, keeping its last LOG_TAIL_LINES (as a kubelet's log rotation
    bounds what `kubectl logs` can show)."""
    if not lines:
        return
    row = session.get(
        SandboxObject,
        (cluster, POD_LOG, namespace, pod),
        with_for_update=True,
        populate_existing=True,
    )
    kept = [] if row is None else list(row.spec.get("lines", []))
    spec = {"lines": (kept + lines)[-LOG_TAIL_LINES:]}
    if row is None:
        # Only the simulation writes logs, one `advance` at a time (it holds the clock's lock).
        session.add(
            SandboxObject(cluster=cluster, kind=POD_LOG, namespace=namespace, name=pod, spec=spec)
        )
    else:
        row.spec = spec
        row.resource_version += 1


def _forget_pod_logs(session: Session, cluster: str, namespace: str, pods: Iterable[str]) -> None:
    """A deleted pod's logs go with it (the kubelet removes its log files)."""
    names = list(pods)
    if names:
        session.execute(
            delete(SandboxObject).where(
                SandboxObject.cluster == cluster,
                SandboxObject.kind == POD_LOG,
                SandboxObject.namespace == namespace,
                SandboxObject.name.in_(names),
            )
        )


class _Diagnostics(_Store):
    """Events and pod logs of a vCluster namespace."""

    @staticmethod
    def _check_namespace(session: Session, ref: NamespaceRef) -> None:
        """DriverError unless the namespace exists (a read: no row locks, unlike _require_*)."""
        cluster = ref.workspace_ref.host_namespace
        if session.get(SandboxObject, (HOST, "VCluster", cluster, "vcluster")) is None:
            raise DriverError(f"workspace {ref.org}/{ref.workspace} has no vCluster in the sandbox")
        if session.get(SandboxObject, (cluster, "Namespace", "", ref.namespace)) is None:
            raise DriverError(
                f"namespace {ref.namespace} does not exist in workspace {ref.org}/{ref.workspace}"
            )

    def list_events(
        self, ref: NamespaceRef, since: datetime | None = None, limit: int = EVENT_LIMIT
    ) -> list[ObservedEvent]:
        with self._sessions() as session:
            self._check_namespace(session, ref)
            rows = session.scalars(
                select(SandboxObject.spec).where(
                    SandboxObject.cluster == ref.workspace_ref.host_namespace,
                    SandboxObject.kind == EVENT,
                    SandboxObject.namespace == ref.namespace,
                )
            ).all()
        events = [ObservedEvent.model_validate(spec) for spec in rows]
        return newest_last(events, since, limit)

    def read_pod_logs(
        self, ref: WorkloadRef, pod: str, tail_lines: int = LOG_TAIL_LINES
    ) -> list[str]:
        with self._sessions() as session:
            self._check_namespace(session, ref.namespace_ref)
            cluster = ref.namespace_ref.workspace_ref.host_namespace
            obj = session.get(SandboxObject, (cluster, "Deployment", ref.namespace, ref.name))
            if obj is None or pod not in {p["name"] for p in obj.status.get("pods", [])}:
                raise DriverError(
                    f"pod {pod} of application {ref.name} does not exist in namespace "
                    f"{ref.namespace}: list the application's pods and pick a current one"
                )
            row = session.get(SandboxObject, (cluster, POD_LOG, ref.namespace, pod))
            lines = [] if row is None else [str(line) for line in row.spec.get("lines", [])]
        wanted = min(tail_lines, LOG_TAIL_LINES)
        return lines[-wanted:] if wanted > 0 else []
