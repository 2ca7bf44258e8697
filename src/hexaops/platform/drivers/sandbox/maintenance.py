"""Maintenance: cordon and drain of a dedicated pool's nodes, pod deletion, certificate
renewal, NetworkPolicy deletion and CoreDNS restart."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hexaops.platform.db.models import SandboxObject
from hexaops.platform.domain import Plan
from hexaops.platform.drivers.contract import (
    NamespaceRef,
    ObservedApplication,
    ObservedCertificate,
    ObservedComponent,
    ObservedEvent,
    ObservedNode,
    WorkloadRef,
    WorkspaceRef,
    WorkspaceSpec,
)
from hexaops.platform.drivers.sandbox.applications import _Applications
from hexaops.platform.drivers.sandbox.diagnostics import _forget_pod_logs, record_events
from hexaops.platform.drivers.sandbox.store import (
    HOST,
    _digest,
    cordoned,
    sandbox_time,
    workspace_nodes,
)
from hexaops.platform.errors import DriverError


class _Maintenance(_Applications):
    """Maintenance operations. Evicted and deleted pods are replaced the way the application
    part places pods, hence that part underneath."""

    # -- pool nodes and pods ---------------------------------------------------------------

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
            off = cordoned(session, pool)
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
                ObservedNode(name=n, unschedulable=n in off, workload_pods=pods.get(n, 0))
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

    # -- add-ons: certificates, NetworkPolicies, CoreDNS -----------------------------------

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

    def list_certificates(self, ref: NamespaceRef) -> dict[str, ObservedCertificate]:
        with self._sessions() as session:
            rows = session.scalars(
                select(SandboxObject)
                .where(
                    SandboxObject.cluster == ref.workspace_ref.host_namespace,
                    SandboxObject.kind == "Certificate",
                    SandboxObject.namespace == ref.namespace,
                )
                .order_by(SandboxObject.name)
            ).all()
            return {obj.name: self._certificate(obj) for obj in rows}

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
