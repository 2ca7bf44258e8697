"""Applications (Deployments with simulated pods, HPAs) and functions in a vCluster."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from hexaops.platform.db.models import SandboxObject
from hexaops.platform.drivers.contract import (
    ApplicationSpec,
    FunctionSpec,
    HpaSpec,
    ObservedApplication,
    ObservedEvent,
    ObservedFunction,
    ObservedPod,
    WorkloadRef,
    WorkspaceRef,
    WorkspaceSpec,
)
from hexaops.platform.drivers.sandbox.diagnostics import _forget_pod_logs, record_events
from hexaops.platform.drivers.sandbox.store import (
    HOST,
    _digest,
    _Store,
    cordoned,
    sandbox_time,
    workspace_nodes,
)
from hexaops.platform.errors import DriverError


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


class _Applications(_Store):
    """Applications and functions. Pod names and placement derive from names and revisions."""

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
        off = cordoned(session, nodes)
        return [n for n in nodes if n not in off]

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

    # -- functions -------------------------------------------------------------------------

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
