"""Maintenance: the dedicated pool's host nodes (cordon, drain) and, in the vCluster, pods,
cert-manager Certificates, NetworkPolicies and CoreDNS."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import urllib3
from kubernetes.client import V1Deployment, V1Eviction, V1Node, V1ObjectMeta, V1Pod
from kubernetes.client.exceptions import ApiException

from hexaops.platform.drivers.contract import (
    NamespaceRef,
    ObservedApplication,
    ObservedCertificate,
    ObservedComponent,
    ObservedNode,
    WorkloadRef,
    WorkspaceRef,
)
from hexaops.platform.drivers.kubernetes.api import (
    MERGE_PATCH,
    _api,
    _Cluster,
    _delete,
    _must,
    _read,
    api_error,
)
from hexaops.platform.drivers.kubernetes.base import _app_pod
from hexaops.platform.drivers.kubernetes.conversions import (
    _evictable,
    _observed_certificate,
    _observed_component,
    _rollout_done,
)
from hexaops.platform.drivers.kubernetes.manifests import (
    A_RESTARTED_AT,
    A_RESTARTS,
    CERT_MANAGER,
    POOL_LABEL,
)
from hexaops.platform.drivers.kubernetes.workloads import _Workloads
from hexaops.platform.errors import DriverError


class _Maintenance(_Workloads):
    """Maintenance operations. Deleting a pod observes the application it belongs to, hence
    the workloads part underneath."""

    # -- the dedicated pool's host nodes (kubectl cordon / drain) --------------------------

    def _pool_nodes(self, ref: WorkspaceRef) -> dict[str, V1Node]:
        """Host nodes labelled for the workspace's pool, by name; none on the shared plan."""
        selector = f"{POOL_LABEL}={ref.host_namespace}"
        with _api(f"nodes of the node pool of {ref.org}/{ref.workspace}"):
            nodes = self._host.core.list_node(label_selector=selector).items
        return {n.metadata.name: n for n in nodes if n.metadata and n.metadata.name}

    def _require_pool_node(self, ref: WorkspaceRef, node: str) -> None:
        pool = sorted(self._pool_nodes(ref))
        if node not in pool:
            raise DriverError(
                f"node {node} is not in the dedicated node pool of workspace "
                f"{ref.org}/{ref.workspace} (pool: {', '.join(pool) or 'none, shared plan'})"
            )

    def _evictable_pods(self, node: str) -> list[V1Pod]:
        """Pods `kubectl drain` evicts: not DaemonSet-owned, not static (mirror) pods."""
        with _api(f"pods on node {node}"):
            pods = self._host.core.list_pod_for_all_namespaces(
                field_selector=f"spec.nodeName={node}"
            ).items
        return [
            p for p in pods if p.spec is not None and p.spec.node_name == node and _evictable(p)
        ]

    def list_pool_nodes(self, ref: WorkspaceRef) -> list[ObservedNode]:
        return [
            ObservedNode(
                name=name,
                unschedulable=bool(node.spec and node.spec.unschedulable),
                workload_pods=len(self._evictable_pods(name)),
            )
            for name, node in sorted(self._pool_nodes(ref).items())
        ]

    def _set_unschedulable(self, ref: WorkspaceRef, node: str, unschedulable: bool) -> None:
        self._require_pool_node(ref, node)
        with _api(f"node {node}"):  # what `kubectl cordon` / `uncordon` patches
            self._host.core.patch_node(
                node, {"spec": {"unschedulable": unschedulable}}, _content_type=MERGE_PATCH
            )

    def cordon_node(self, ref: WorkspaceRef, node: str) -> None:
        self._set_unschedulable(ref, node, True)

    def uncordon_node(self, ref: WorkspaceRef, node: str) -> None:
        self._set_unschedulable(ref, node, False)

    def drain_node(self, ref: WorkspaceRef, node: str) -> int:
        """Cordon, then evict through the Eviction API so PodDisruptionBudgets are honoured."""
        self.cordon_node(ref, node)
        pods = self._evictable_pods(node)
        for pod in pods:
            assert pod.metadata is not None  # _evictable checked it
            self._evict(node, pod.metadata.name or "", pod.metadata.namespace or "")

        def drained() -> bool | None:
            return True if not self._evictable_pods(node) else None

        if self._wait(drained) is None:
            raise DriverError(
                f"node {node} is cordoned but pods are still terminating on it after "
                f"{self._wait_seconds:.0f}s: check their finalizers and grace periods, then retry"
            )
        return len(pods)

    def _evict(self, node: str, name: str, namespace: str) -> None:
        what = f"eviction of pod {namespace}/{name} from node {node}"
        body = V1Eviction(metadata=V1ObjectMeta(name=name, namespace=namespace))
        try:
            self._host.core.create_namespaced_pod_eviction(name, namespace, body)
        except ApiException as exc:
            if exc.status == 404:
                return  # gone already
            if exc.status == 429:  # the eviction would violate a PodDisruptionBudget
                raise DriverError(
                    f"{what} is blocked by a PodDisruptionBudget: the node stays cordoned; scale "
                    "the application up (or wait for its pods to be ready) and drain again"
                ) from exc
            raise api_error(what, exc) from exc
        except urllib3.exceptions.HTTPError as exc:
            raise DriverError(f"{what}: the Kubernetes API is unreachable ({exc})") from exc

    def delete_pod(self, ref: WorkloadRef, pod: str) -> ObservedApplication:
        cluster = self._require_namespace(ref.namespace_ref)
        what = f"pod {pod} in namespace {ref.namespace}"
        _app_pod(cluster, ref, pod)
        _delete(what, lambda: cluster.core.delete_namespaced_pod(pod, ref.namespace))

        def replaced() -> ObservedApplication | None:
            observed = self._observe(cluster, ref)
            if observed is None:
                raise DriverError(f"application {ref.name} disappeared while its pod was deleted")
            gone = pod not in {p.name for p in observed.pods}
            return observed if gone and len(observed.pods) >= observed.replicas else None

        observed = self._wait(replaced)
        return observed or _must(self._observe(cluster, ref), f"application {ref.name}")

    # -- add-ons in the vCluster: certificates, NetworkPolicies, CoreDNS -------------------

    def _certificate(
        self, cluster: _Cluster, ref: NamespaceRef, name: str
    ) -> dict[str, Any] | None:
        group, version, plural = CERT_MANAGER
        found = _read(
            f"Certificate {name} in namespace {ref.namespace}",
            lambda: cluster.custom.get_namespaced_custom_object(
                group, version, ref.namespace, plural, name
            ),
        )
        return cast(dict[str, Any], found) if isinstance(found, dict) else None

    def get_certificate(self, ref: NamespaceRef, name: str) -> ObservedCertificate | None:
        cluster = self._vcluster(ref.workspace_ref)
        found = None if cluster is None else self._certificate(cluster, ref, name)
        return None if found is None else _observed_certificate(found)

    def list_certificates(self, ref: NamespaceRef) -> dict[str, ObservedCertificate]:
        cluster = self._vcluster(ref.workspace_ref)
        if cluster is None:
            return {}
        group, version, plural = CERT_MANAGER
        # 404: cert-manager's CRD is not installed in the vCluster, so there are none.
        found = _read(
            f"Certificates in namespace {ref.namespace}",
            lambda: cluster.custom.list_namespaced_custom_object(
                group, version, ref.namespace, plural
            ),
        )
        items = found.get("items", []) if isinstance(found, dict) else []
        named = {str(i.get("metadata", {}).get("name", "")): i for i in items}
        return {n: _observed_certificate(named[n]) for n in sorted(named) if n}

    def renew_certificate(self, ref: NamespaceRef, name: str) -> ObservedCertificate:
        """`cmctl renew`: set the Issuing condition (reason ManuallyTriggered) on the status
        subresource; cert-manager's issuing controller then re-issues the certificate."""
        cluster = self._require_namespace(ref)
        what = f"Certificate {name} in namespace {ref.namespace}"
        found = self._certificate(cluster, ref, name)
        if found is None:
            raise DriverError(f"{what} does not exist: list the project's certificates")
        before = _observed_certificate(found)
        if not before.issuing:  # already being issued: cmctl skips it too
            conditions = [
                c
                for c in found.get("status", {}).get("conditions", [])
                if c.get("type") != "Issuing"
            ]
            conditions.append(
                {
                    "type": "Issuing",
                    "status": "True",
                    "reason": "ManuallyTriggered",
                    "message": "Certificate re-issuance manually triggered",
                    "lastTransitionTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "observedGeneration": found.get("metadata", {}).get("generation", 0),
                }
            )
            group, version, plural = CERT_MANAGER
            with _api(what):
                cluster.custom.patch_namespaced_custom_object_status(
                    group,
                    version,
                    ref.namespace,
                    plural,
                    name,
                    {"status": {"conditions": conditions}},
                    _content_type=MERGE_PATCH,
                )

        def issued() -> ObservedCertificate | None:
            current = self._certificate(cluster, ref, name)
            observed = None if current is None else _observed_certificate(current)
            return observed if observed and observed.revision > before.revision else None

        # On timeout cert-manager is still issuing: the caller sees issuing=True.
        return self._wait(issued) or _observed_certificate(
            _must(self._certificate(cluster, ref, name), what)
        )

    def list_network_policies(self, ref: NamespaceRef) -> list[str]:
        cluster = self._vcluster(ref.workspace_ref)
        if cluster is None:
            return []
        with _api(f"NetworkPolicies in namespace {ref.namespace}"):
            policies = cluster.networking.list_namespaced_network_policy(ref.namespace).items
        return sorted(p.metadata.name for p in policies if p.metadata and p.metadata.name)

    def delete_network_policy(self, ref: NamespaceRef, name: str) -> None:
        cluster = self._vcluster(ref.workspace_ref)
        if cluster is None:
            return
        _delete(
            f"NetworkPolicy {name} in namespace {ref.namespace}",
            lambda: cluster.networking.delete_namespaced_network_policy(name, ref.namespace),
        )

    def _coredns(self, cluster: _Cluster) -> V1Deployment | None:
        return _read(
            "Deployment kube-system/coredns of the vCluster",
            lambda: cluster.apps.read_namespaced_deployment("coredns", "kube-system"),
        )

    def get_coredns(self, ref: WorkspaceRef) -> ObservedComponent | None:
        cluster = self._vcluster(ref)
        found = None if cluster is None else self._coredns(cluster)
        return None if found is None else _observed_component(found)

    def restart_coredns(self, ref: WorkspaceRef) -> ObservedComponent:
        """`kubectl -n kube-system rollout restart deployment/coredns` in the vCluster."""
        cluster = self._require_vcluster(ref)
        what = f"Deployment kube-system/coredns of workspace {ref.org}/{ref.workspace}"
        current = self._coredns(cluster)
        if current is None:
            raise DriverError(f"{what} does not exist: check the vCluster's CoreDNS add-on")
        generation = _observed_component(current).restart_generation + 1
        patch = {
            "metadata": {"annotations": {A_RESTARTS: str(generation)}},
            "spec": {
                "template": {
                    "metadata": {"annotations": {A_RESTARTED_AT: datetime.now(UTC).isoformat()}}
                }
            },
        }
        with _api(what):
            cluster.apps.patch_namespaced_deployment(
                "coredns", "kube-system", patch, _content_type=MERGE_PATCH
            )

        def rolled_out() -> V1Deployment | None:
            found = self._coredns(cluster)
            return found if found is not None and _rollout_done(found) else None

        return _observed_component(self._wait(rolled_out) or _must(self._coredns(cluster), what))
