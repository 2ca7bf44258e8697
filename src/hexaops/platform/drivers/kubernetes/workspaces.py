"""Workspaces on the host cluster: namespace, quota, NetworkPolicies, RBAC and the Flux
HelmRelease that installs the vCluster."""

from __future__ import annotations

from typing import Any, cast

from kubernetes.client import (
    V1LimitRange,
    V1Namespace,
    V1NetworkPolicy,
    V1ResourceQuota,
    V1Role,
    V1RoleBinding,
)

from hexaops.platform.domain import SHARED_PLAN_CAP, Plan, Resources
from hexaops.platform.drivers.contract import ObservedWorkspace, WorkspaceRef, WorkspaceSpec
from hexaops.platform.drivers.kubernetes.api import MERGE_PATCH, _delete, _read, _upsert
from hexaops.platform.drivers.kubernetes.base import _DriverCore
from hexaops.platform.drivers.kubernetes.conversions import _settled
from hexaops.platform.drivers.kubernetes.manifests import (
    _FAILED_REASONS,
    A_K8S_VERSION,
    CHART_URL,
    FLUX_HELM,
    FLUX_SOURCE,
    HELM_REPOSITORY,
    KUBECONFIG_SECRET,
    RELEASE,
    _meta,
    _model,
    _quota_hard,
    _replacing,
    _resources,
    network_policies,
    vcluster_values,
)


class _Workspaces(_DriverCore):
    """Workspaces (host cluster): the host namespace and the vCluster installed by Flux."""

    def provision_workspace(self, ref: WorkspaceRef, spec: WorkspaceSpec) -> ObservedWorkspace:
        ns = ref.host_namespace
        labels = {"hexaops.io/org": ref.org, "hexaops.io/workspace": ref.workspace}
        core = self._host.core
        namespace = {"metadata": _meta(ns, labels={**labels, "hexaops.io/plan": spec.plan})}
        _upsert(
            f"host namespace {ns}",
            lambda: core.create_namespace(_model(V1Namespace, namespace)),
            lambda: core.patch_namespace(ns, namespace, _content_type=MERGE_PATCH),
        )
        pool = spec.node_pool if spec.plan == Plan.DEDICATED else None
        cap = pool.capacity() if pool is not None else SHARED_PLAN_CAP
        quota = {"metadata": _meta("workspace-quota"), "spec": {"hard": _quota_hard(cap)}}
        _upsert(
            f"ResourceQuota workspace-quota in {ns}",
            lambda: core.create_namespaced_resource_quota(ns, _model(V1ResourceQuota, quota)),
            lambda: core.patch_namespaced_resource_quota(
                "workspace-quota", ns, quota, _content_type=MERGE_PATCH
            ),
        )
        # Containers without requests/limits get the platform defaults (quotas need them).
        defaults = _resources(Resources())
        limits = {
            "metadata": _meta("workspace-defaults"),
            "spec": {
                "limits": [
                    {
                        "type": "Container",
                        "defaultRequest": defaults["requests"],
                        "default": defaults["limits"],
                    }
                ]
            },
        }
        _upsert(
            f"LimitRange workspace-defaults in {ns}",
            lambda: core.create_namespaced_limit_range(ns, _model(V1LimitRange, limits)),
            lambda: core.patch_namespaced_limit_range(
                "workspace-defaults", ns, limits, _content_type=MERGE_PATCH
            ),
        )
        for policy in network_policies(self._platform_namespace):
            self._apply_network_policy(ns, policy)
        self._apply_rbac(ref)
        self._apply_flux(ref, spec)
        observed = self._wait(lambda: _settled(self.get_workspace(ref)))
        return observed or ObservedWorkspace(status="provisioning", message="HelmRelease pending")

    def _apply_network_policy(self, ns: str, policy: dict[str, Any]) -> None:
        name = policy["metadata"]["name"]
        _upsert(
            f"NetworkPolicy {name} in {ns}",
            lambda: self._networking.create_namespaced_network_policy(
                ns, _model(V1NetworkPolicy, policy)
            ),
            lambda: self._networking.patch_namespaced_network_policy(
                name, ns, policy, _content_type=MERGE_PATCH
            ),
        )

    def _apply_rbac(self, ref: WorkspaceRef) -> None:
        """Workspace admins (an IdP group) may read their vCluster and fetch its kubeconfig."""
        ns = ref.host_namespace
        role = {
            "metadata": _meta("workspace-admin"),
            "rules": [
                {
                    "apiGroups": [""],
                    "resources": ["pods", "pods/log", "services", "events", "resourcequotas"],
                    "verbs": ["get", "list", "watch"],
                },
                {
                    "apiGroups": [""],
                    "resources": ["secrets"],
                    "resourceNames": [KUBECONFIG_SECRET],
                    "verbs": ["get"],
                },
                {
                    "apiGroups": [FLUX_HELM[0]],
                    "resources": [FLUX_HELM[2]],
                    "verbs": ["get", "list", "watch"],
                },
            ],
        }
        binding = {
            "metadata": _meta("workspace-admins"),
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": "workspace-admin",
            },
            "subjects": [
                {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "Group",
                    "name": f"hexaops:{ref.org}:{ref.workspace}:admins",
                }
            ],
        }
        _upsert(
            f"Role workspace-admin in {ns}",
            lambda: self._rbac.create_namespaced_role(ns, _model(V1Role, role)),
            lambda: self._rbac.patch_namespaced_role(
                "workspace-admin", ns, role, _content_type=MERGE_PATCH
            ),
        )
        _upsert(
            f"RoleBinding workspace-admins in {ns}",
            lambda: self._rbac.create_namespaced_role_binding(ns, _model(V1RoleBinding, binding)),
            lambda: self._rbac.patch_namespaced_role_binding(
                "workspace-admins", ns, binding, _content_type=MERGE_PATCH
            ),
        )

    def helm_values(self, ref: WorkspaceRef, spec: WorkspaceSpec) -> dict[str, Any]:
        """vcluster.yaml values of a workspace (chart >= 0.20 schema)."""
        return vcluster_values(ref, spec)

    def _apply_flux(self, ref: WorkspaceRef, spec: WorkspaceSpec) -> None:
        ns = ref.host_namespace
        custom = self._host.custom
        group, version, plural = FLUX_SOURCE
        repository = {
            "apiVersion": f"{group}/{version}",
            "kind": "HelmRepository",
            "metadata": _meta(HELM_REPOSITORY, namespace=ns),
            "spec": {"url": CHART_URL, "interval": "1h"},
        }
        _upsert(
            f"HelmRepository {HELM_REPOSITORY} in {ns}",
            lambda: custom.create_namespaced_custom_object(group, version, ns, plural, repository),
            lambda: custom.patch_namespaced_custom_object(
                group, version, ns, plural, HELM_REPOSITORY, repository, _content_type=MERGE_PATCH
            ),
        )
        group, version, plural = FLUX_HELM
        values = self.helm_values(ref, spec)
        release: dict[str, Any] = {
            "apiVersion": f"{group}/{version}",
            "kind": "HelmRelease",
            "metadata": _meta(
                RELEASE,
                namespace=ns,
                annotations={A_K8S_VERSION: spec.kubernetes_version, "hexaops.io/plan": spec.plan},
            ),
            "spec": {
                "interval": "10m",
                "releaseName": RELEASE,
                "chart": {
                    "spec": {
                        "chart": "vcluster",
                        "version": self._chart_version,
                        "sourceRef": {"kind": "HelmRepository", "name": HELM_REPOSITORY},
                    }
                },
                "install": {"remediation": {"retries": 3}},
                "upgrade": {"remediation": {"retries": 3}},
                "values": values,
            },
        }

        def patch() -> object:
            # A merge patch would keep values of the old spec (e.g. the node pool after a move
            # to the shared plan): null out what the new values no longer have.
            current = custom.get_namespaced_custom_object(group, version, ns, plural, RELEASE)
            old = cast(dict[str, Any], current).get("spec", {}).get("values", {})
            body = {**release, "spec": {**release["spec"], "values": _replacing(old, values)}}
            return custom.patch_namespaced_custom_object(
                group, version, ns, plural, RELEASE, body, _content_type=MERGE_PATCH
            )

        _upsert(
            f"HelmRelease {RELEASE} in {ns}",
            lambda: custom.create_namespaced_custom_object(group, version, ns, plural, release),
            patch,
        )

    def delete_workspace(self, ref: WorkspaceRef) -> None:
        ns = ref.host_namespace
        group, version, plural = FLUX_HELM
        # The HelmRelease first, so helm-controller uninstalls while the namespace still exists.
        _delete(
            f"HelmRelease {RELEASE} in {ns}",
            lambda: self._host.custom.delete_namespaced_custom_object(
                group, version, ns, plural, RELEASE
            ),
        )
        _delete(f"host namespace {ns}", lambda: self._host.core.delete_namespace(ns))
        self._wait_gone(self._host, ns, f"host namespace {ns}")

    def get_workspace(self, ref: WorkspaceRef) -> ObservedWorkspace | None:
        ns = ref.host_namespace
        group, version, plural = FLUX_HELM
        found = _read(
            f"HelmRelease {RELEASE} in {ns}",
            lambda: self._host.custom.get_namespaced_custom_object(
                group, version, ns, plural, RELEASE
            ),
        )
        if not isinstance(found, dict):
            return None
        release = cast(dict[str, Any], found)
        metadata = release.get("metadata", {})
        values = release.get("spec", {}).get("values", {})
        observed = ObservedWorkspace(
            status="provisioning",
            message="waiting for Flux to install the vCluster",
            api_endpoint=str(values.get("exportKubeConfig", {}).get("server", "")),
            kubernetes_version=str(metadata.get("annotations", {}).get(A_K8S_VERSION, "")),
        )
        for condition in release.get("status", {}).get("conditions", []):
            if condition.get("type") != "Ready":
                continue
            stale = condition.get("observedGeneration", 0) < metadata.get("generation", 0)
            message = str(condition.get("message", ""))
            if condition.get("status") == "True" and not stale:
                return observed.model_copy(update={"status": "ready", "message": message})
            if condition.get("reason") in _FAILED_REASONS and not stale:
                return observed.model_copy(update={"status": "failed", "message": message})
            if message:
                observed = observed.model_copy(update={"message": message})
        return observed
