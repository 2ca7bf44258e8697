"""The sandbox driver: an in-process K3s host with one vCluster per workspace.

Cluster objects (vClusters, namespaces with quotas, deployments and their pods, HPAs, functions)
live in the `sandbox_objects` table, so every hexaops process sees the same sandbox. The
simulation is deterministic: pod names and node placement derive from names and revisions.
Runtime behaviour (load, telemetry, faults) is `hexaops.platform.sandbox.Simulation`, which reads
these objects and writes pod status back. Maintenance (cordon and drain of a dedicated pool's nodes,
pod deletion, certificate renewal, NetworkPolicy deletion, CoreDNS restart) is part of the driver
contract, reached through the platform core's maintenance operations.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from hexaops.platform.db.models import SandboxClock, SandboxObject, utcnow
from hexaops.platform.domain import Plan, Quota
from hexaops.platform.drivers.contract import (
    EVENT_LIMIT,
    LOG_TAIL_LINES,
    ApplicationSpec,
    FunctionSpec,
    HpaSpec,
    NamespaceRef,
    ObservedApplication,
    ObservedCertificate,
    ObservedComponent,
    ObservedEvent,
    ObservedFunction,
    ObservedNode,
    ObservedPod,
    ObservedWorkspace,
    WorkloadRef,
    WorkspaceRef,
    WorkspaceSpec,
    newest_last,
)
from hexaops.platform.errors import DriverError

HOST = "host"
SHARED_NODES = ("k3s-shared-1", "k3s-shared-2", "k3s-shared-3")
EVENT = "Event"  # an aggregated Kubernetes Event: spec is an ObservedEvent
POD_LOG = "PodLog"  # a pod's last LOG_TAIL_LINES log lines: spec {"lines": [...]}
DIAGNOSTIC_KINDS = (EVENT, POD_LOG)
# The simulated clock starts here unless a Simulation chose another epoch; driver writes before
# the first simulation step are stamped with it, so events never jump from wall time back to it.
SANDBOX_EPOCH = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday, midnight UTC
# hexaops.platform.sandbox.load.TICK_SECONDS; importing it here would be circular (the
# simulation package imports this driver).
_TICK_SECONDS = 15


def _digest(*parts: object, length: int = 10) -> str:
    text = "/".join(str(p) for p in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def workspace_nodes(host_namespace: str, spec: WorkspaceSpec) -> list[str]:
    """Host nodes a workspace's pods run on: its own pool (dedicated) or the shared nodes."""
    if spec.plan == Plan.DEDICATED and spec.node_pool is not None:
        return [f"{host_namespace}-pool-{i + 1}" for i in range(spec.node_pool.nodes)]
    return list(SHARED_NODES)


def sandbox_time(session: Session) -> datetime:
    """The sandbox's simulated "now": what its Events are stamped with (not wall time)."""
    clock = session.get(SandboxClock, 1)
    if clock is None:
        return SANDBOX_EPOCH
    return clock.epoch.astimezone(UTC) + timedelta(seconds=clock.tick * _TICK_SECONDS)


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


def _scaling_events(
    deployment: str, before: list[dict[str, Any]], after: list[dict[str, Any]], at: datetime
) -> list[ObservedEvent]:
    """The Deployment controller's ScalingReplicaSet events for a change of pods: one per
    ReplicaSet (pod template) whose size changed, the growing one first as in a rollout."""

    def sizes(pods: list[dict[str, Any]]) -> dict[str, int]:
        counted: dict[str, int] = {}
        for pod in pods:
            counted[str(pod.get("template", ""))] = counted.get(str(pod.get("template", "")), 0) + 1
        return counted

    old, new = sizes(before), sizes(after)
    changed = [t for t in sorted(set(old) | set(new)) if old.get(t, 0) != new.get(t, 0)]
    changed.sort(key=lambda t: new.get(t, 0) < old.get(t, 0))  # scale-ups before scale-downs
    return [
        ObservedEvent(
            kind="Deployment",
            name=deployment,
            reason="ScalingReplicaSet",
            type="Normal",
            message=(
                f"Scaled {'up' if new.get(t, 0) > old.get(t, 0) else 'down'} replica set "
                f"{deployment}-{t} from {old.get(t, 0)} to {new.get(t, 0)}"
            ),
            first_seen=at,
            last_seen=at,
        )
        for t in changed
    ]


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


class SandboxDriver:
    """Driver over the simulated cluster. Each call is one transaction on the sandbox store."""

    name = "sandbox"

    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    # -- store ---------------------------------------------------------------------------

    @staticmethod
    def _get(
        session: Session, cluster: str, kind: str, namespace: str, name: str
    ) -> SandboxObject | None:
        return session.get(SandboxObject, (cluster, kind, namespace, name), with_for_update=True)

    @staticmethod
    def _put(
        session: Session,
        cluster: str,
        kind: str,
        namespace: str,
        name: str,
        spec: dict[str, Any],
        status: dict[str, Any],
    ) -> None:
        """Create or replace an object in one statement, bumping its resourceVersion."""
        table = SandboxObject.__table__
        statement = insert(SandboxObject).values(
            cluster=cluster,
            kind=kind,
            namespace=namespace,
            name=name,
            spec=spec,
            status=status,
            resource_version=1,
            updated_at=utcnow(),
        )
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["cluster", "kind", "namespace", "name"],
                set_={
                    "spec": statement.excluded.spec,
                    "status": statement.excluded.status,
                    "resource_version": table.c.resource_version + 1,
                    "updated_at": statement.excluded.updated_at,
                },
            )
        )
        # The identity map may hold the old row (read earlier in this transaction).
        session.expire_all()

    def _require_vcluster(self, session: Session, ref: WorkspaceRef) -> SandboxObject:
        vcluster = self._get(session, HOST, "VCluster", ref.host_namespace, "vcluster")
        if vcluster is None:
            raise DriverError(f"workspace {ref.org}/{ref.workspace} has no vCluster in the sandbox")
        return vcluster

    def _require_namespace(self, session: Session, ref: NamespaceRef) -> SandboxObject:
        cluster = ref.workspace_ref.host_namespace
        self._require_vcluster(session, ref.workspace_ref)
        namespace = self._get(session, cluster, "Namespace", "", ref.namespace)
        if namespace is None:
            raise DriverError(
                f"namespace {ref.namespace} does not exist in workspace {ref.org}/{ref.workspace}"
            )
        return namespace

    # -- workspaces ----------------------------------------------------------------------

    def provision_workspace(self, ref: WorkspaceRef, spec: WorkspaceSpec) -> ObservedWorkspace:
        observed = ObservedWorkspace(
            status="ready",
            message="vCluster is running",
            api_endpoint=f"https://{ref.host_namespace}.vcluster.sandbox.local",
            kubernetes_version=spec.kubernetes_version,
        )
        with self._sessions.begin() as session:
            self._put(
                session,
                HOST,
                "VCluster",
                ref.host_namespace,
                "vcluster",
                # org and workspace label the telemetry; the digest in the name can't be reversed.
                {**spec.model_dump(mode="json"), "org": ref.org, "workspace": ref.workspace},
                observed.model_dump(mode="json"),
            )
        return observed

    def delete_workspace(self, ref: WorkspaceRef) -> None:
        with self._sessions.begin() as session:
            session.execute(
                delete(SandboxObject).where(SandboxObject.cluster == ref.host_namespace)
            )
            session.execute(
                delete(SandboxObject).where(
                    SandboxObject.cluster == HOST, SandboxObject.namespace == ref.host_namespace
                )
            )

    def get_workspace(self, ref: WorkspaceRef) -> ObservedWorkspace | None:
        with self._sessions() as session:
            obj = session.get(SandboxObject, (HOST, "VCluster", ref.host_namespace, "vcluster"))
            return None if obj is None else ObservedWorkspace.model_validate(obj.status)

    # -- namespaces ----------------------------------------------------------------------

    def create_namespace(self, ref: NamespaceRef, quota: Quota) -> None:
        with self._sessions.begin() as session:
            self._require_vcluster(session, ref.workspace_ref)
            self._put(
                session,
                ref.workspace_ref.host_namespace,
                "Namespace",
                "",
                ref.namespace,
                {"quota": quota.model_dump()},
                {"phase": "Active"},
            )

    def set_quota(self, ref: NamespaceRef, quota: Quota) -> None:
        with self._sessions.begin() as session:
            namespace = self._require_namespace(session, ref)
            namespace.spec = {**namespace.spec, "quota": quota.model_dump()}
            namespace.resource_version += 1

    def delete_namespace(self, ref: NamespaceRef) -> None:
        with self._sessions.begin() as session:
            cluster = ref.workspace_ref.host_namespace
            session.execute(
                delete(SandboxObject).where(
                    SandboxObject.cluster == cluster, SandboxObject.namespace == ref.namespace
                )
            )
            session.execute(
                delete(SandboxObject).where(
                    SandboxObject.cluster == cluster,
                    SandboxObject.kind == "Namespace",
                    SandboxObject.name == ref.namespace,
                )
            )

    def get_quota(self, ref: NamespaceRef) -> Quota | None:
        with self._sessions() as session:
            key = (ref.workspace_ref.host_namespace, "Namespace", "", ref.namespace)
            obj = session.get(SandboxObject, key)
            return None if obj is None else Quota.model_validate(obj.spec["quota"])

    # -- applications --------------------------------------------------------------------

    def _nodes(self, session: Session, ref: WorkspaceRef) -> list[str]:
        self._require_vcluster(session, ref)
        return self._schedulable(session, ref.host_namespace)

    @staticmethod
    def _schedulable(session: Session, host_namespace: str) -> list[str]:
        """The workspace's nodes that accept new pods (cordoned nodes are skipped)."""
        vcluster = session.get(SandboxObject, (HOST, "VCluster", host_namespace, "vcluster"))
        if vcluster is None:
            return []
        nodes = workspace_nodes(host_namespace, WorkspaceSpec.model_validate(vcluster.spec))
        cordoned = set(
            session.scalars(
                select(SandboxObject.name).where(
                    SandboxObject.cluster == HOST,
                    SandboxObject.kind == "Node",
                    SandboxObject.name.in_(nodes),
                )
            )
        )
        return [n for n in nodes if n not in cordoned]

    @staticmethod
    def _new_pod(name: str, template: str, slot: int, nodes: list[str]) -> dict[str, Any]:
        pod = ObservedPod(
            name=name,
            phase="Running" if nodes else "Pending",
            ready=bool(nodes),
            node=nodes[slot % len(nodes)] if nodes else "",
        ).model_dump()
        # template and slot let scaling and pod replacement keep the pods that still fit.
        return {**pod, "template": template, "slot": slot}

    def _pods(
        self,
        session: Session,
        ref: WorkloadRef,
        spec: ApplicationSpec,
        restart_generation: int,
        existing: list[dict[str, Any]],
    ) -> list[dict[str, Any]]:
        nodes = self._nodes(session, ref.namespace_ref.workspace_ref)
        template = _digest(ref.name, spec.image, spec.revision, restart_generation)
        kept = {p["slot"]: p for p in existing if p.get("template") == template}
        return [
            kept.get(i)
            or self._new_pod(
                f"{ref.name}-{template}-{_digest(template, i, length=5)}", template, i, nodes
            )
            for i in range(spec.replicas)
        ]

    def _write_deployment(
        self, session: Session, ref: WorkloadRef, spec: ApplicationSpec, restart_generation: int
    ) -> ObservedApplication:
        self._require_namespace(session, ref.namespace_ref)
        cluster = ref.namespace_ref.workspace_ref.host_namespace
        current = session.get(SandboxObject, (cluster, "Deployment", ref.namespace, ref.name))
        status = {} if current is None else dict(current.status)
        before: list[dict[str, Any]] = status.get("pods", [])
        status["pods"] = self._pods(session, ref, spec, restart_generation, before)
        # What the Deployment controller reports on a real cluster, so that `list_events`
        # answers the same without the simulation running.
        record_events(
            session,
            cluster,
            ref.namespace,
            _scaling_events(ref.name, before, status["pods"], sandbox_time(session)),
        )
        _forget_pod_logs(
            session,
            cluster,
            ref.namespace,
            {p["name"] for p in before} - {p["name"] for p in status["pods"]},
        )
        self._put(
            session,
            cluster,
            "Deployment",
            ref.namespace,
            ref.name,
            {**spec.model_dump(mode="json"), "restart_generation": restart_generation},
            status,
        )
        return self._observe_application(session, ref)

    def _observe_application(self, session: Session, ref: WorkloadRef) -> ObservedApplication:
        cluster = ref.namespace_ref.workspace_ref.host_namespace
        obj = session.get(SandboxObject, (cluster, "Deployment", ref.namespace, ref.name))
        if obj is None:
            raise DriverError(f"application {ref.name} does not exist in namespace {ref.namespace}")
        spec = ApplicationSpec.model_validate(obj.spec)
        pods = [ObservedPod.model_validate(p) for p in obj.status.get("pods", [])]
        hpa = session.get(
            SandboxObject, (cluster, "HorizontalPodAutoscaler", ref.namespace, ref.name)
        )
        return ObservedApplication(
            image=spec.image,
            replicas=spec.replicas,
            ready_replicas=sum(p.ready for p in pods),
            revision=spec.revision,
            resources=spec.resources,
            restart_generation=int(obj.spec.get("restart_generation", 0)),
            pods=pods,
            hpa=None if hpa is None else HpaSpec.model_validate(hpa.spec),
        )

    def _deployment(self, session: Session, ref: WorkloadRef) -> tuple[ApplicationSpec, int]:
        cluster = ref.namespace_ref.workspace_ref.host_namespace
        obj = self._get(session, cluster, "Deployment", ref.namespace, ref.name)
        if obj is None:
            raise DriverError(f"application {ref.name} does not exist in namespace {ref.namespace}")
        return ApplicationSpec.model_validate(obj.spec), int(obj.spec.get("restart_generation", 0))

    def apply_application(self, ref: WorkloadRef, spec: ApplicationSpec) -> ObservedApplication:
        with self._sessions.begin() as session:
            cluster = ref.namespace_ref.workspace_ref.host_namespace
            existing = self._get(session, cluster, "Deployment", ref.namespace, ref.name)
            generation = 0 if existing is None else int(existing.spec.get("restart_generation", 0))
            return self._write_deployment(session, ref, spec, generation)

    def scale_application(self, ref: WorkloadRef, replicas: int) -> ObservedApplication:
        with self._sessions.begin() as session:
            spec, generation = self._deployment(session, ref)
            return self._write_deployment(
                session, ref, spec.model_copy(update={"replicas": replicas}), generation
            )

    def restart_application(self, ref: WorkloadRef) -> ObservedApplication:
        with self._sessions.begin() as session:
            spec, generation = self._deployment(session, ref)
            return self._write_deployment(session, ref, spec, generation + 1)

    def delete_application(self, ref: WorkloadRef) -> None:
        with self._sessions.begin() as session:
            cluster = ref.namespace_ref.workspace_ref.host_namespace
            current = session.get(SandboxObject, (cluster, "Deployment", ref.namespace, ref.name))
            if current is not None:
                pods = [p["name"] for p in current.status.get("pods", [])]
                _forget_pod_logs(session, cluster, ref.namespace, pods)
            session.execute(
                delete(SandboxObject).where(
                    SandboxObject.cluster == cluster,
                    SandboxObject.kind.in_(("Deployment", "HorizontalPodAutoscaler")),
                    SandboxObject.namespace == ref.namespace,
                    SandboxObject.name == ref.name,
                )
            )

    def get_application(self, ref: WorkloadRef) -> ObservedApplication | None:
        with self._sessions() as session:
            try:
                return self._observe_application(session, ref)
            except DriverError:
                return None

    def set_hpa(self, ref: WorkloadRef, hpa: HpaSpec) -> None:
        with self._sessions.begin() as session:
            spec, generation = self._deployment(session, ref)
            cluster = ref.namespace_ref.workspace_ref.host_namespace
            self._put(
                session,
                cluster,
                "HorizontalPodAutoscaler",
                ref.namespace,
                ref.name,
                hpa.model_dump(),
                {},
            )
            # The HPA controller brings replicas into [min, max] right away.
            replicas = min(max(spec.replicas, hpa.min_replicas), hpa.max_replicas)
            if replicas != spec.replicas:
                self._write_deployment(
                    session, ref, spec.model_copy(update={"replicas": replicas}), generation
                )

    # -- functions -----------------------------------------------------------------------

    def apply_function(self, ref: WorkloadRef, spec: FunctionSpec) -> ObservedFunction:
        with self._sessions.begin() as session:
            self._require_namespace(session, ref.namespace_ref)
            cluster = ref.namespace_ref.workspace_ref.host_namespace
            existing = self._get(session, cluster, "Function", ref.namespace, ref.name)
            scaling = {} if existing is None else existing.status
            self._put(
                session,
                cluster,
                "Function",
                ref.namespace,
                ref.name,
                spec.model_dump(),
                scaling,
            )
            return ObservedFunction(**spec.model_dump(), **scaling)

    def set_function_scaling(self, ref: WorkloadRef, concurrency: int, max_instances: int) -> None:
        with self._sessions.begin() as session:
            cluster = ref.namespace_ref.workspace_ref.host_namespace
            obj = self._get(session, cluster, "Function", ref.namespace, ref.name)
            if obj is None:
                raise DriverError(
                    f"function {ref.name} does not exist in namespace {ref.namespace}"
                )
            obj.status = {"concurrency": concurrency, "max_instances": max_instances}
            obj.resource_version += 1

    def delete_function(self, ref: WorkloadRef) -> None:
        with self._sessions.begin() as session:
            cluster = ref.namespace_ref.workspace_ref.host_namespace
            obj = self._get(session, cluster, "Function", ref.namespace, ref.name)
            if obj is not None:
                session.delete(obj)

    def get_function(self, ref: WorkloadRef) -> ObservedFunction | None:
        with self._sessions() as session:
            cluster = ref.namespace_ref.workspace_ref.host_namespace
            obj = session.get(SandboxObject, (cluster, "Function", ref.namespace, ref.name))
            return None if obj is None else ObservedFunction(**obj.spec, **obj.status)

    # -- maintenance: pool nodes, pods and add-ons ---------------------------------------

    @staticmethod
    def _pool(session: Session, ref: WorkspaceRef) -> list[str]:
        """The workspace's dedicated pool nodes; shared host nodes are never a tenant's."""
        vcluster = session.get(SandboxObject, (HOST, "VCluster", ref.host_namespace, "vcluster"))
        if vcluster is None:
            return []
        spec = WorkspaceSpec.model_validate(vcluster.spec)
        if spec.plan != Plan.DEDICATED:
            return []
        return workspace_nodes(ref.host_namespace, spec)

    def _require_pool_node(self, session: Session, ref: WorkspaceRef, node: str) -> None:
        self._require_vcluster(session, ref)
        pool = self._pool(session, ref)
        if node not in pool:
            raise DriverError(
                f"node {node} is not in the dedicated node pool of workspace "
                f"{ref.org}/{ref.workspace} (pool: {', '.join(pool) or 'none, shared plan'})"
            )

    def list_pool_nodes(self, ref: WorkspaceRef) -> list[ObservedNode]:
        with self._sessions() as session:
            pool = self._pool(session, ref)
            cordoned = set(
                session.scalars(
                    select(SandboxObject.name).where(
                        SandboxObject.cluster == HOST,
                        SandboxObject.kind == "Node",
                        SandboxObject.name.in_(pool),
                    )
                )
            )
            pods: dict[str, int] = {}
            for obj in session.scalars(
                select(SandboxObject).where(
                    SandboxObject.cluster == ref.host_namespace,
                    SandboxObject.kind == "Deployment",
                )
            ):
                for pod in obj.status.get("pods", []):
                    pods[pod.get("node", "")] = pods.get(pod.get("node", ""), 0) + 1
            return [
                ObservedNode(name=n, unschedulable=n in cordoned, workload_pods=pods.get(n, 0))
                for n in pool
            ]

    def cordon_node(self, ref: WorkspaceRef, node: str) -> None:
        """Mark a pool node unschedulable; its running pods stay (as `kubectl cordon`)."""
        with self._sessions.begin() as session:
            self._require_pool_node(session, ref, node)
            self._put(session, HOST, "Node", "", node, {"unschedulable": True}, {})

    def uncordon_node(self, ref: WorkspaceRef, node: str) -> None:
        with self._sessions.begin() as session:
            self._require_pool_node(session, ref, node)
            obj = self._get(session, HOST, "Node", "", node)
            if obj is not None:
                session.delete(obj)

    def drain_node(self, ref: WorkspaceRef, node: str) -> int:
        """Cordon a pool node and evict its pods; their ReplicaSets recreate them elsewhere.

        Returns how many pods were evicted. Pods with nowhere to go stay Pending.
        """
        self.cordon_node(ref, node)
        evicted = 0
        with self._sessions.begin() as session:
            deployments = session.scalars(
                select(SandboxObject).where(
                    SandboxObject.cluster == ref.host_namespace,
                    SandboxObject.kind == "Deployment",
                )
            ).all()
            for obj in deployments:
                names = {p["name"] for p in obj.status.get("pods", []) if p.get("node") == node}
                if names:
                    evicted += len(names)
                    self._replace_pods(session, obj, names)
        return evicted

    def delete_pod(self, ref: WorkloadRef, pod: str) -> ObservedApplication:
        """Delete one pod of an application; its replacement is in the returned application."""
        with self._sessions.begin() as session:
            cluster = ref.namespace_ref.workspace_ref.host_namespace
            obj = self._get(session, cluster, "Deployment", ref.namespace, ref.name)
            if obj is None or pod not in {p["name"] for p in obj.status.get("pods", [])}:
                raise DriverError(
                    f"pod {pod} of application {ref.name} does not exist in namespace "
                    f"{ref.namespace}: list the application's pods and pick a current one"
                )
            self._replace_pods(session, obj, {pod})
            return self._observe_application(session, ref)

    def _replace_pods(self, session: Session, obj: SandboxObject, names: set[str]) -> list[str]:
        status = dict(obj.status)
        nodes = self._schedulable(session, obj.cluster)
        serial = int(status.get("serial", 0))
        pods, created = [], []
        for pod in status.get("pods", []):
            if pod["name"] in names:
                serial += 1
                template, slot = pod.get("template", ""), int(pod.get("slot", 0))
                name = f"{obj.name}-{template}-{_digest(template, slot, serial, length=5)}"
                pod = self._new_pod(name, template, slot, nodes)
                created.append(name)
            pods.append(pod)
        obj.status = {**status, "pods": pods, "serial": serial}
        obj.resource_version += 1
        at = sandbox_time(session)
        record_events(
            session,
            obj.cluster,
            obj.namespace,
            (
                ObservedEvent(
                    kind="Pod",
                    name=name,
                    reason="Killing",
                    type="Normal",
                    message=f"Stopping container {obj.name}",
                    first_seen=at,
                    last_seen=at,
                )
                for name in sorted(names)
            ),
        )
        _forget_pod_logs(session, obj.cluster, obj.namespace, names)
        return created

    # -- diagnostics: events and pod logs -----------------------------------------------------

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

    @staticmethod
    def _certificate(obj: SandboxObject) -> ObservedCertificate:
        return ObservedCertificate(
            ready=bool(obj.status.get("ready", False)), revision=int(obj.spec.get("renewals", 0))
        )

    def get_certificate(self, ref: NamespaceRef, name: str) -> ObservedCertificate | None:
        with self._sessions() as session:
            key = (ref.workspace_ref.host_namespace, "Certificate", ref.namespace, name)
            obj = session.get(SandboxObject, key)
            return None if obj is None else self._certificate(obj)

    def renew_certificate(self, ref: NamespaceRef, name: str) -> ObservedCertificate:
        """Renew a TLS certificate (as cert-manager's `cmctl renew`, issued at once)."""
        with self._sessions.begin() as session:
            cluster = ref.workspace_ref.host_namespace
            obj = self._get(session, cluster, "Certificate", ref.namespace, name)
            if obj is None:
                raise DriverError(f"certificate {name} does not exist in namespace {ref.namespace}")
            obj.spec = {**obj.spec, "renewals": int(obj.spec.get("renewals", 0)) + 1}
            obj.status = {"ready": True}
            obj.resource_version += 1
            return self._certificate(obj)

    def list_network_policies(self, ref: NamespaceRef) -> list[str]:
        with self._sessions() as session:
            return list(
                session.scalars(
                    select(SandboxObject.name)
                    .where(
                        SandboxObject.cluster == ref.workspace_ref.host_namespace,
                        SandboxObject.kind == "NetworkPolicy",
                        SandboxObject.namespace == ref.namespace,
                    )
                    .order_by(SandboxObject.name)
                )
            )

    def delete_network_policy(self, ref: NamespaceRef, name: str) -> None:
        with self._sessions.begin() as session:
            cluster = ref.workspace_ref.host_namespace
            obj = self._get(session, cluster, "NetworkPolicy", ref.namespace, name)
            if obj is not None:
                session.delete(obj)

    def get_coredns(self, ref: WorkspaceRef) -> ObservedComponent | None:
        with self._sessions() as session:
            if (
                session.get(SandboxObject, (HOST, "VCluster", ref.host_namespace, "vcluster"))
                is None
            ):
                return None
            key = (ref.host_namespace, "SystemComponent", "kube-system", "coredns")
            obj = session.get(SandboxObject, key)
            if obj is None:  # every vCluster runs CoreDNS; stored once first restarted
                return ObservedComponent(ready=True)
            return ObservedComponent(
                ready=bool(obj.status.get("ready", True)),
                restart_generation=int(obj.spec.get("restart_generation", 0)),
            )

    def restart_coredns(self, ref: WorkspaceRef) -> ObservedComponent:
        """Rolling restart of the vCluster's CoreDNS (kube-system/coredns)."""
        with self._sessions.begin() as session:
            self._require_vcluster(session, ref)
            obj = self._get(
                session, ref.host_namespace, "SystemComponent", "kube-system", "coredns"
            )
            generation = (0 if obj is None else int(obj.spec.get("restart_generation", 0))) + 1
            self._put(
                session,
                ref.host_namespace,
                "SystemComponent",
                "kube-system",
                "coredns",
                {"restart_generation": generation},
                {"ready": True},
            )
            return ObservedComponent(ready=True, restart_generation=generation)

    def list_objects(self, cluster: str | None = None) -> list[dict[str, Any]]:
        """Every object of the sandbox (or of one vCluster), for status views and tests."""
        with self._sessions() as session:
            query = select(SandboxObject).order_by(
                SandboxObject.cluster,
                SandboxObject.kind,
                SandboxObject.namespace,
                SandboxObject.name,
            )
            if cluster is not None:
                query = query.where(SandboxObject.cluster == cluster)
            return [
                {"cluster": o.cluster, "kind": o.kind, "namespace": o.namespace, "name": o.name}
                for o in session.scalars(query)
            ]
