"""The driver's shared core: settings, bounded waits and reaching a workspace's vCluster."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable
from typing import Any

import yaml  # type: ignore[import-untyped]  # PyYAML ships no stubs; used for one safe_load
from kubernetes.client import (
    ApiClient,
    CustomObjectsApi,
    NetworkingV1Api,
    RbacAuthorizationV1Api,
    V1Pod,
)

from hexaops.platform.drivers.contract import NamespaceRef, WorkloadRef, WorkspaceRef
from hexaops.platform.drivers.kubernetes.api import T, _Cluster, _read, client_from_kubeconfig
from hexaops.platform.drivers.kubernetes.manifests import (
    APP_LABEL,
    DEFAULT_CHART_VERSION,
    KUBECONFIG_SECRET,
)
from hexaops.platform.errors import DriverError


class _DriverCore:
    """What every part of KubernetesDriver uses: the host APIs, waits, and the vCluster of a
    workspace (its client cached by kubeconfig digest)."""

    def __init__(
        self,
        host: ApiClient,
        *,
        chart_version: str = DEFAULT_CHART_VERSION,
        wait_seconds: float = 120.0,
        poll_seconds: float = 1.0,
        platform_namespace: str = "hexaops",
        vcluster_client: Callable[[dict[str, Any]], ApiClient] = client_from_kubeconfig,
    ) -> None:
        self._host = _Cluster.of(host)
        self._networking = NetworkingV1Api(host)
        self._rbac = RbacAuthorizationV1Api(host)
        self._chart_version = chart_version
        self._wait_seconds = wait_seconds
        self._poll_seconds = poll_seconds
        self._platform_namespace = platform_namespace
        self._vcluster_client = vcluster_client
        # Keyed by a digest of the kubeconfig: a re-created vCluster has new credentials.
        self._vclusters: dict[str, _Cluster] = {}

    def _wait(self, done: Callable[[], T | None]) -> T | None:
        """Poll `done` until it returns a value or the wait budget is spent (then None)."""
        deadline = time.monotonic() + self._wait_seconds
        while True:
            result = done()
            if result is not None or time.monotonic() >= deadline:
                return result
            time.sleep(self._poll_seconds)

    def _wait_gone(self, cluster: _Cluster, namespace: str, what: str) -> None:
        """Namespace deletion finishes asynchronously; re-creating it too early would fail."""

        def gone() -> bool | None:
            return (
                True
                if _read(what, lambda: cluster.core.read_namespace(namespace)) is None
                else None
            )

        if self._wait(gone) is None:
            raise DriverError(
                f"{what} is still terminating after {self._wait_seconds:.0f}s: check its "
                "finalizers (kubectl get namespace -o yaml) and retry"
            )

    # -- the vCluster of a workspace -------------------------------------------------------

    def _vcluster(self, ref: WorkspaceRef) -> _Cluster | None:
        """The vCluster API of a workspace, or None when the workspace has none (yet)."""
        ns = ref.host_namespace
        secret = _read(
            f"Secret {KUBECONFIG_SECRET} in {ns}",
            lambda: self._host.core.read_namespaced_secret(KUBECONFIG_SECRET, ns),
        )
        encoded = (secret.data or {}).get("config") if secret is not None else None
        if not encoded:
            return None
        kubeconfig = base64.b64decode(encoded)
        key = hashlib.sha256(kubeconfig).hexdigest()
        if key not in self._vclusters:
            document = yaml.safe_load(kubeconfig)
            if not isinstance(document, dict):
                raise DriverError(f"Secret {KUBECONFIG_SECRET} in {ns} holds no kubeconfig")
            self._vclusters[key] = _Cluster.of(self._vcluster_client(document))
        return self._vclusters[key]

    def _require_vcluster(self, ref: WorkspaceRef) -> _Cluster:
        cluster = self._vcluster(ref)
        if cluster is None:
            raise DriverError(
                f"workspace {ref.org}/{ref.workspace} has no running vCluster (no Secret "
                f"{KUBECONFIG_SECRET} in host namespace {ref.host_namespace}): provision the "
                "workspace first, or wait until it is ready"
            )
        return cluster

    def _require_namespace(self, ref: NamespaceRef) -> _Cluster:
        cluster = self._require_vcluster(ref.workspace_ref)
        what = f"namespace {ref.namespace} in workspace {ref.org}/{ref.workspace}"
        if _read(what, lambda: cluster.core.read_namespace(ref.namespace)) is None:
            raise DriverError(f"{what} does not exist: create the project first")
        return cluster

    def custom_objects(self, ref: NamespaceRef) -> CustomObjectsApi:
        """The custom-resource API of a project namespace's vCluster (e.g. for trivy-operator's
        VulnerabilityReports); DriverError when the namespace does not exist."""
        return self._require_namespace(ref).custom


def _app_pod(cluster: _Cluster, ref: WorkloadRef, pod: str) -> V1Pod:
    """Pod `pod` of application `ref`; DriverError when it is gone or belongs to another app."""
    what = f"pod {pod} in namespace {ref.namespace}"
    found = _read(what, lambda: cluster.core.read_namespaced_pod(pod, ref.namespace))
    labels = (found.metadata.labels if found is not None and found.metadata else None) or {}
    if found is None or labels.get(APP_LABEL) != ref.name:
        raise DriverError(
            f"pod {pod} of application {ref.name} does not exist in namespace "
            f"{ref.namespace}: list the application's pods and pick a current one"
        )
    return found
