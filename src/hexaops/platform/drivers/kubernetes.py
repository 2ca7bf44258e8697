"""The kubernetes driver: a real K3s host cluster running vCluster + Flux, via the official client.

Layout of a workspace on the host (namespace `WorkspaceRef.host_namespace`):
  ResourceQuota `workspace-quota` (the plan cap), LimitRange `workspace-defaults`,
  NetworkPolicies (default deny + what vCluster needs), Role/RoleBinding for the workspace admins,
  a Flux HelmRepository `loft` (charts.loft.sh) and the vCluster as HelmRelease `vcluster`.
The workspace status follows the HelmRelease's Ready condition.

Inside a workspace, objects live in the vCluster's own API server. The driver reaches it with the
kubeconfig vCluster exports to Secret `vc-vcluster` (key `config`) in the host namespace, so
whatever that kubeconfig points at (a real vCluster, or a second API emulator in tests) is used.

Functions are Knative Serving Services (`serving.knative.dev/v1`), which vCluster workspaces run
for the platform's function feature: a different kind from Deployments, so a function and an
application may share a name; concurrency is `containerConcurrency`, max instances the
`autoscaling.knative.dev/max-scale` annotation, the runtime an annotation of ours.

Maintenance: pool nodes are host nodes labelled hexaops.io/node-pool=<host
namespace>, cordoned and drained on the host the kubectl way; pods, cert-manager Certificates,
NetworkPolicies and CoreDNS are objects of the vCluster API.

Writes are create-or-merge-patch (idempotent, and the emulator used in tests has no server-side
apply). The API is asynchronous, the contract is not: writes wait (bounded) until controllers
converge — Deployment rolled out, HelmRelease Ready, namespace gone.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import urllib3
import yaml  # type: ignore[import-untyped]  # PyYAML ships no stubs; used for one safe_load
from kubernetes import config as kube_config
from kubernetes.client import (
    ApiClient,
    AppsV1Api,
    AutoscalingV2Api,
    Configuration,
    CoreV1Api,
    CoreV1Event,
    CustomObjectsApi,
    NetworkingV1Api,
    RbacAuthorizationV1Api,
    V1Deployment,
    V1Eviction,
    V1LimitRange,
    V1Namespace,
    V1NetworkPolicy,
    V1Node,
    V1ObjectMeta,
    V1Pod,
    V1ResourceQuota,
    V1Role,
    V1RoleBinding,
    V2HorizontalPodAutoscaler,
)
from kubernetes.client.exceptions import ApiException
from pydantic import BaseModel

from hexaops.platform.domain import SHARED_PLAN_CAP, Plan, Quota, Resources
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
from hexaops.platform.errors import ConfigurationError, DriverError
from hexaops.platform.names import format_cpu, format_memory, parse_cpu, parse_memory

DEFAULT_CHART_VERSION = "0.26.0"
RELEASE = "vcluster"
KUBECONFIG_SECRET = f"vc-{RELEASE}"  # vCluster's convention: vc-<release name>, key "config"
HELM_REPOSITORY = "loft"
CHART_URL = "https://charts.loft.sh"

FLUX_HELM = ("helm.toolkit.fluxcd.io", "v2", "helmreleases")
FLUX_SOURCE = ("source.toolkit.fluxcd.io", "v1", "helmrepositories")
KNATIVE = ("serving.knative.dev", "v1", "services")
CERT_MANAGER = ("cert-manager.io", "v1", "certificates")

MANAGED_BY = {"app.kubernetes.io/managed-by": "hexaops"}
APP_LABEL = "hexaops.io/application"
POOL_LABEL = "hexaops.io/node-pool"
A_REVISION = "hexaops.io/revision"
A_RESTARTS = "hexaops.io/restart-generation"
A_RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"  # what `kubectl rollout restart` sets
A_K8S_VERSION = "hexaops.io/kubernetes-version"
A_RUNTIME = "hexaops.io/runtime"
A_MAX_SCALE = "autoscaling.knative.dev/max-scale"
MERGE_PATCH = "application/merge-patch+json"  # the client would otherwise pick json-patch

# HelmRelease Ready=False reasons after which Flux stops retrying on its own.
_FAILED_REASONS = {"InstallFailed", "UpgradeFailed", "RetriesExceeded", "ArtifactFailed"}

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


# -- API calls and their errors --------------------------------------------------------------


def _status_message(exc: ApiException) -> str:
    """The `message` of the Kubernetes Status in the body, or the HTTP reason."""
    try:
        body = json.loads(exc.body or "")
    except ValueError:
        return str(exc.reason or "no details")
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    return str(exc.reason or "no details")


def api_error(what: str, exc: ApiException) -> DriverError:
    """A DriverError that says what failed and what to do about it."""
    status, message = exc.status or 0, _status_message(exc)
    if status == 404:
        hint = "it does not exist (create the workspace/namespace/object first)"
    elif status == 409:
        hint = "it conflicts with the current state (read it again and retry)"
    elif status in (400, 422):
        hint = "the API server rejected the object as invalid (fix the spec)"
    elif status in (401, 403):
        hint = "hexaops' credentials may not do this (check its ServiceAccount's RBAC)"
    elif status == 429 or status >= 500:
        hint = "the API server failed or is overloaded (retry later; the write is idempotent)"
    else:
        hint = "unexpected API error"
    return DriverError(f"{what}: {hint} — HTTP {status}: {message}")


@contextmanager
def _api(what: str) -> Iterator[None]:
    """Translate client errors into DriverError; `what` names the object for the user."""
    try:
        yield
    except ApiException as exc:
        raise api_error(what, exc) from exc
    except urllib3.exceptions.HTTPError as exc:
        raise DriverError(
            f"{what}: the Kubernetes API is unreachable ({exc}); check HEXAOPS_KUBECONFIG, "
            "HEXAOPS_KUBE_CONTEXT and the network"
        ) from exc


def _read(what: str, call: Callable[[], T]) -> T | None:
    """A read where 404 means "absent"."""
    with _api(what):
        try:
            return call()
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise


def _delete(what: str, call: Callable[[], object]) -> None:
    """A delete where 404 means "already gone"."""
    with _api(what):
        try:
            call()
        except ApiException as exc:
            if exc.status != 404:
                raise


def _upsert(what: str, create: Callable[[], object], patch: Callable[[], object]) -> None:
    """Create, or merge-patch what exists: the same call twice gives the same object."""
    with _api(what):
        try:
            create()
            return
        except ApiException as exc:
            if exc.status != 409:
                raise
        patch()


def _model(cls: type[M], manifest: dict[str, Any]) -> M:
    """A typed client model from a manifest written the way it reads in YAML."""
    return cls.model_validate(manifest)


def _meta(name: str, **extra: Any) -> dict[str, Any]:
    labels = {**MANAGED_BY, **extra.pop("labels", {})}
    return {"name": name, "labels": labels, **extra}


def client_from_kubeconfig(kubeconfig: dict[str, Any]) -> ApiClient:
    """An API client for a kubeconfig document (e.g. the one vCluster exports)."""
    try:
        return cast(
            ApiClient,
            kube_config.new_client_from_config_dict(  # type: ignore[no-untyped-call]
                config_dict=kubeconfig, persist_config=False
            ),
        )
    except kube_config.ConfigException as exc:
        raise DriverError(f"the vCluster kubeconfig is unusable: {exc}") from exc


def host_client(kubeconfig: str | None = None, context: str | None = None) -> ApiClient:
    """The host cluster's client: the kubeconfig file if named, else in-cluster, else ~/.kube."""
    try:
        if kubeconfig is None and context is None:
            try:
                configuration = Configuration()
                kube_config.load_incluster_config(  # type: ignore[no-untyped-call]
                    client_configuration=configuration
                )
                return ApiClient(configuration)
            except kube_config.ConfigException:
                pass  # not in a pod: fall back to the default kubeconfig
        return cast(
            ApiClient,
            kube_config.new_client_from_config(  # type: ignore[no-untyped-call]
                config_file=kubeconfig, context=context, persist_config=False
            ),
        )
    except (kube_config.ConfigException, OSError) as exc:
        if kubeconfig is not None:
            where = f"HEXAOPS_KUBECONFIG={kubeconfig}"
        else:
            where = "HEXAOPS_KUBECONFIG is unset, not in a pod, and ~/.kube/config"
        context_hint = f" (HEXAOPS_KUBE_CONTEXT={context})" if context else ""
        raise ConfigurationError(
            f"{where}{context_hint} gives no usable host cluster: {exc}"
        ) from exc


@dataclass(frozen=True)
class _Cluster:
    """The typed APIs of one API server (the host, or a workspace's vCluster)."""

    core: CoreV1Api
    apps: AppsV1Api
    autoscaling: AutoscalingV2Api
    custom: CustomObjectsApi
    networking: NetworkingV1Api

    @classmethod
    def of(cls, client: ApiClient) -> _Cluster:
        return cls(
            CoreV1Api(client),
            AppsV1Api(client),
            AutoscalingV2Api(client),
            CustomObjectsApi(client),
            NetworkingV1Api(client),
        )


# -- the driver ------------------------------------------------------------------------------


class KubernetesDriver:
    """PlatformDriver on a host cluster with vCluster + Flux (see the module docstring)."""

    name = "kubernetes"

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

    # -- workspaces (host cluster) ---------------------------------------------------------

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
        for policy in self._network_policies():
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

    def _network_policies(self) -> list[dict[str, Any]]:
        dns_port = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
        everyone: dict[str, Any] = {"podSelector": {}}
        return [
            # Nothing in or out unless a policy below allows it.
            {
                "metadata": _meta("default-deny"),
                "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
            },
            # vCluster's control plane and the workloads it syncs talk to each other.
            {
                "metadata": _meta("allow-same-namespace"),
                "spec": {
                    "podSelector": {},
                    "policyTypes": ["Ingress", "Egress"],
                    "ingress": [{"from": [everyone]}],
                    "egress": [{"to": [everyone]}],
                },
            },
            # Name resolution through the host's CoreDNS.
            {
                "metadata": _meta("allow-dns"),
                "spec": {
                    "podSelector": {},
                    "policyTypes": ["Egress"],
                    "egress": [
                        {
                            "to": [
                                {
                                    "namespaceSelector": {
                                        "matchLabels": {
                                            "kubernetes.io/metadata.name": "kube-system"
                                        }
                                    },
                                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                                }
                            ],
                            "ports": dns_port,
                        }
                    ],
                },
            },
            # The vCluster syncer talks to the host API server, whose address is not a pod.
            {
                "metadata": _meta("allow-host-api"),
                "spec": {
                    "podSelector": {"matchLabels": {"app": "vcluster"}},
                    "policyTypes": ["Egress"],
                    "egress": [
                        {
                            "ports": [
                                {"protocol": "TCP", "port": 443},
                                {"protocol": "TCP", "port": 6443},
                            ]
                        }
                    ],
                },
            },
            # hexaops reaches the vCluster API server (the driver itself).
            {
                "metadata": _meta("allow-platform"),
                "spec": {
                    "podSelector": {"matchLabels": {"app": "vcluster"}},
                    "policyTypes": ["Ingress"],
                    "ingress": [
                        {
                            "from": [
                                {
                                    "namespaceSelector": {
                                        "matchLabels": {
                                            "kubernetes.io/metadata.name": self._platform_namespace
                                        }
                                    }
                                }
                            ],
                            "ports": [{"protocol": "TCP", "port": 8443}],
                        }
                    ],
                },
            },
        ]

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
        ns = ref.host_namespace
        values: dict[str, Any] = {
            "controlPlane": {
                "distro": {"k8s": {"enabled": True, "version": f"v{spec.kubernetes_version}"}},
            },
            # The kubeconfig in vc-vcluster points at the in-cluster service, reachable by hexaops.
            "exportKubeConfig": {"server": f"https://{RELEASE}.{ns}.svc:443"},
        }
        if spec.plan == Plan.DEDICATED and spec.node_pool is not None:
            # The pool's nodes carry label and taint hexaops.io/node-pool=<host namespace>.
            selector = {POOL_LABEL: ns}
            toleration = {
                "key": POOL_LABEL,
                "operator": "Equal",
                "value": ns,
                "effect": "NoSchedule",
            }
            values["controlPlane"]["statefulSet"] = {
                "scheduling": {"nodeSelector": selector, "tolerations": [toleration]}
            }
            values["sync"] = {
                # Only the pool's nodes are visible in the vCluster, and synced pods land there.
                "fromHost": {"nodes": {"enabled": True, "selector": {"labels": selector}}},
                "toHost": {"pods": {"enforceTolerations": [f"{POOL_LABEL}={ns}:NoSchedule"]}},
            }
        return values

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

    # -- namespaces (in the vCluster) ------------------------------------------------------

    def create_namespace(self, ref: NamespaceRef, quota: Quota) -> None:
        cluster = self._require_vcluster(ref.workspace_ref)
        what = f"namespace {ref.namespace} in workspace {ref.org}/{ref.workspace}"
        namespace = {"metadata": _meta(ref.namespace)}
        _upsert(
            what,
            lambda: cluster.core.create_namespace(_model(V1Namespace, namespace)),
            lambda: cluster.core.patch_namespace(
                ref.namespace, namespace, _content_type=MERGE_PATCH
            ),
        )
        self._put_quota(cluster, ref, quota)

    def _put_quota(self, cluster: _Cluster, ref: NamespaceRef, quota: Quota) -> None:
        body = {"metadata": _meta("project-quota"), "spec": {"hard": _quota_hard(quota)}}
        _upsert(
            f"ResourceQuota of namespace {ref.namespace}",
            lambda: cluster.core.create_namespaced_resource_quota(
                ref.namespace, _model(V1ResourceQuota, body)
            ),
            lambda: cluster.core.patch_namespaced_resource_quota(
                "project-quota", ref.namespace, body, _content_type=MERGE_PATCH
            ),
        )

    def set_quota(self, ref: NamespaceRef, quota: Quota) -> None:
        self._put_quota(self._require_namespace(ref), ref, quota)

    def delete_namespace(self, ref: NamespaceRef) -> None:
        cluster = self._vcluster(ref.workspace_ref)
        if cluster is None:
            return
        what = f"namespace {ref.namespace} in workspace {ref.org}/{ref.workspace}"
        _delete(what, lambda: cluster.core.delete_namespace(ref.namespace))
        self._wait_gone(cluster, ref.namespace, what)

    def get_quota(self, ref: NamespaceRef) -> Quota | None:
        cluster = self._vcluster(ref.workspace_ref)
        if cluster is None:
            return None
        found = _read(
            f"ResourceQuota of namespace {ref.namespace}",
            lambda: cluster.core.read_namespaced_resource_quota("project-quota", ref.namespace),
        )
        hard = found.spec.hard if found is not None and found.spec is not None else None
        if not hard:
            return None
        return Quota(
            cpu_millis=parse_cpu(hard.get("requests.cpu", "0")),
            memory_bytes=parse_memory(hard.get("requests.memory", "0")),
            pods=int(hard.get("pods", "0")),
        )

    # -- applications (Deployments in the vCluster) ----------------------------------------

    def _deployment_manifest(self, ref: WorkloadRef, spec: ApplicationSpec) -> dict[str, Any]:
        selector = {APP_LABEL: ref.name}
        return {
            "metadata": _meta(
                ref.name,
                labels={**selector, "app.kubernetes.io/name": ref.name},
                annotations={A_REVISION: str(spec.revision)},
            ),
            "spec": {
                "replicas": spec.replicas,
                "selector": {"matchLabels": selector},
                "template": {
                    # The revision is in the pod template, so re-applying an older image as a
                    # new revision (a rollback) still rolls out new pods.
                    "metadata": {
                        "labels": selector,
                        "annotations": {A_REVISION: str(spec.revision)},
                    },
                    "spec": {
                        "containers": [
                            {
                                "name": "app",
                                "image": spec.image,
                                "resources": _resources(spec.resources),
                            }
                        ]
                    },
                },
            },
        }

    def apply_application(self, ref: WorkloadRef, spec: ApplicationSpec) -> ObservedApplication:
        cluster = self._require_namespace(ref.namespace_ref)
        manifest = self._deployment_manifest(ref, spec)
        created = {**manifest, "metadata": {**manifest["metadata"]}}
        created["metadata"]["annotations"] = {
            **manifest["metadata"]["annotations"],
            A_RESTARTS: "0",
        }
        _upsert(
            f"Deployment {ref.name} in namespace {ref.namespace}",
            lambda: cluster.apps.create_namespaced_deployment(
                ref.namespace, _model(V1Deployment, created)
            ),
            # A merge patch keeps the restart annotations an earlier restart added.
            lambda: cluster.apps.patch_namespaced_deployment(
                ref.name, ref.namespace, manifest, _content_type=MERGE_PATCH
            ),
        )
        return self._rolled_out(cluster, ref)

    def _patch_deployment(
        self, ref: WorkloadRef, patch: Callable[[V1Deployment], dict[str, Any]]
    ) -> ObservedApplication:
        cluster = self._require_namespace(ref.namespace_ref)
        what = f"Deployment {ref.name} in namespace {ref.namespace}"
        current = _read(
            what, lambda: cluster.apps.read_namespaced_deployment(ref.name, ref.namespace)
        )
        if current is None:
            raise DriverError(f"application {ref.name} does not exist in namespace {ref.namespace}")
        body = patch(current)
        with _api(what):
            cluster.apps.patch_namespaced_deployment(
                ref.name, ref.namespace, body, _content_type=MERGE_PATCH
            )
        return self._rolled_out(cluster, ref)

    def scale_application(self, ref: WorkloadRef, replicas: int) -> ObservedApplication:
        return self._patch_deployment(ref, lambda _: {"spec": {"replicas": replicas}})

    def restart_application(self, ref: WorkloadRef) -> ObservedApplication:
        def restart(current: V1Deployment) -> dict[str, Any]:
            annotations = (current.metadata.annotations if current.metadata else None) or {}
            generation = int(annotations.get(A_RESTARTS, "0")) + 1
            now = datetime.now(UTC).isoformat()
            return {
                "metadata": {"annotations": {A_RESTARTS: str(generation)}},
                "spec": {"template": {"metadata": {"annotations": {A_RESTARTED_AT: now}}}},
            }

        return self._patch_deployment(ref, restart)

    def delete_application(self, ref: WorkloadRef) -> None:
        cluster = self._vcluster(ref.namespace_ref.workspace_ref)
        if cluster is None:
            return
        where = f"{ref.name} in namespace {ref.namespace}"
        _delete(
            f"HorizontalPodAutoscaler {where}",
            lambda: cluster.autoscaling.delete_namespaced_horizontal_pod_autoscaler(
                ref.name, ref.namespace
            ),
        )
        # Foreground: the Deployment goes once its pods are gone, so an application re-created
        # under this name never meets (or adopts) the old ReplicaSets.
        _delete(
            f"Deployment {where}",
            lambda: cluster.apps.delete_namespaced_deployment(
                ref.name, ref.namespace, propagation_policy="Foreground"
            ),
        )

        def gone() -> bool | None:
            found = _read(
                f"Deployment {where}",
                lambda: cluster.apps.read_namespaced_deployment(ref.name, ref.namespace),
            )
            return True if found is None else None

        if self._wait(gone) is None:
            raise DriverError(
                f"Deployment {where} is still being deleted after {self._wait_seconds:.0f}s: "
                "check its pods' finalizers and retry"
            )

    def get_application(self, ref: WorkloadRef) -> ObservedApplication | None:
        cluster = self._vcluster(ref.namespace_ref.workspace_ref)
        if cluster is None:
            return None
        return self._observe(cluster, ref)

    def _rolled_out(self, cluster: _Cluster, ref: WorkloadRef) -> ObservedApplication:
        """Wait until the Deployment controller has converged, then observe."""
        what = f"Deployment {ref.name} in namespace {ref.namespace}"

        def converged() -> bool | None:
            found = _read(
                what, lambda: cluster.apps.read_namespaced_deployment(ref.name, ref.namespace)
            )
            return True if found is not None and _rollout_done(found) else None

        self._wait(converged)  # on timeout, report what is there: the caller verifies
        observed = self._observe(cluster, ref)
        if observed is None:
            raise DriverError(f"{what} disappeared while rolling out")
        return observed

    def _observe(self, cluster: _Cluster, ref: WorkloadRef) -> ObservedApplication | None:
        what = f"Deployment {ref.name} in namespace {ref.namespace}"
        found = _read(
            what, lambda: cluster.apps.read_namespaced_deployment(ref.name, ref.namespace)
        )
        if found is None or found.spec is None or found.metadata is None:
            return None
        annotations = found.metadata.annotations or {}
        containers = found.spec.template.spec.containers if found.spec.template.spec else []
        # Ours is "app"; anything else in the template was added by someone else.
        container = next((c for c in containers if c.name == "app"), containers[0])
        requirements = container.resources
        with _api(f"pods of {what}"):
            pods = cluster.core.list_namespaced_pod(
                ref.namespace, label_selector=f"{APP_LABEL}={ref.name}"
            ).items
        observed_pods = [
            ObservedPod(
                name=(pod.metadata.name if pod.metadata else None) or "",
                phase=(pod.status.phase if pod.status else None) or "Pending",
                ready=any(
                    c.type == "Ready" and c.status == "True"
                    for c in ((pod.status.conditions if pod.status else None) or [])
                ),
                restarts=sum(
                    s.restart_count
                    for s in ((pod.status.container_statuses if pod.status else None) or [])
                ),
                node=(pod.spec.node_name if pod.spec else None) or "",
            )
            # Pods of a replaced ReplicaSet linger while terminating; they are not the app.
            for pod in pods
            if pod.metadata is None or pod.metadata.deletion_timestamp is None
        ]
        hpa = _read(
            f"HorizontalPodAutoscaler {ref.name} in namespace {ref.namespace}",
            lambda: cluster.autoscaling.read_namespaced_horizontal_pod_autoscaler(
                ref.name, ref.namespace
            ),
        )
        return ObservedApplication(
            image=container.image or "",
            replicas=found.spec.replicas if found.spec.replicas is not None else 1,
            ready_replicas=(found.status.ready_replicas if found.status else None) or 0,
            revision=int(annotations.get(A_REVISION, "0")),
            resources=_parse_resources(
                (requirements.requests if requirements else None) or {},
                (requirements.limits if requirements else None) or {},
            ),
            restart_generation=int(annotations.get(A_RESTARTS, "0")),
            pods=sorted(observed_pods, key=lambda p: p.name),
            hpa=_hpa_spec(hpa) if hpa is not None else None,
        )

    def set_hpa(self, ref: WorkloadRef, hpa: HpaSpec) -> None:
        cluster = self._require_namespace(ref.namespace_ref)
        what = f"Deployment {ref.name} in namespace {ref.namespace}"
        current = _read(
            what, lambda: cluster.apps.read_namespaced_deployment(ref.name, ref.namespace)
        )
        if current is None or current.spec is None:
            raise DriverError(f"application {ref.name} does not exist in namespace {ref.namespace}")
        body = {
            "metadata": _meta(ref.name),
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": ref.name},
                "minReplicas": hpa.min_replicas,
                "maxReplicas": hpa.max_replicas,
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {
                                "type": "Utilization",
                                "averageUtilization": hpa.target_cpu_percent,
                            },
                        },
                    }
                ],
            },
        }
        _upsert(
            f"HorizontalPodAutoscaler {ref.name} in namespace {ref.namespace}",
            lambda: cluster.autoscaling.create_namespaced_horizontal_pod_autoscaler(
                ref.namespace, _model(V2HorizontalPodAutoscaler, body)
            ),
            lambda: cluster.autoscaling.patch_namespaced_horizontal_pod_autoscaler(
                ref.name, ref.namespace, body, _content_type=MERGE_PATCH
            ),
        )
        # The HPA controller would clamp replicas into [min, max] on its next sync (~15 s);
        # doing the same clamp now makes the change visible when set_hpa returns.
        replicas = current.spec.replicas if current.spec.replicas is not None else 1
        clamped = min(max(replicas, hpa.min_replicas), hpa.max_replicas)
        if clamped != replicas:
            self.scale_application(ref, clamped)

    # -- functions (Knative Services in the vCluster) --------------------------------------

    def apply_function(self, ref: WorkloadRef, spec: FunctionSpec) -> ObservedFunction:
        cluster = self._require_namespace(ref.namespace_ref)
        group, version, plural = KNATIVE
        service = {
            "apiVersion": f"{group}/{version}",
            "kind": "Service",
            "metadata": _meta(
                ref.name, namespace=ref.namespace, annotations={A_RUNTIME: spec.runtime}
            ),
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "image": spec.image,
                                "resources": {
                                    "limits": {"memory": format_memory(spec.memory_bytes)}
                                },
                            }
                        ]
                    }
                }
            },
        }
        # The merge patch leaves the scaling that set_function_scaling put there.
        _upsert(
            f"function {ref.name} in namespace {ref.namespace}",
            lambda: cluster.custom.create_namespaced_custom_object(
                group, version, ref.namespace, plural, service
            ),
            lambda: cluster.custom.patch_namespaced_custom_object(
                group, version, ref.namespace, plural, ref.name, service, _content_type=MERGE_PATCH
            ),
        )
        observed = self._function(cluster, ref)
        if observed is None:
            raise DriverError(f"function {ref.name} disappeared right after it was applied")
        return observed

    def set_function_scaling(self, ref: WorkloadRef, concurrency: int, max_instances: int) -> None:
        cluster = self._require_namespace(ref.namespace_ref)
        if self._function(cluster, ref) is None:
            raise DriverError(f"function {ref.name} does not exist in namespace {ref.namespace}")
        group, version, plural = KNATIVE
        patch = {
            "spec": {
                "template": {
                    "metadata": {"annotations": {A_MAX_SCALE: str(max_instances)}},
                    "spec": {"containerConcurrency": concurrency},
                }
            }
        }
        with _api(f"function {ref.name} in namespace {ref.namespace}"):
            cluster.custom.patch_namespaced_custom_object(
                group, version, ref.namespace, plural, ref.name, patch, _content_type=MERGE_PATCH
            )

    def delete_function(self, ref: WorkloadRef) -> None:
        cluster = self._vcluster(ref.namespace_ref.workspace_ref)
        if cluster is None:
            return
        group, version, plural = KNATIVE
        _delete(
            f"function {ref.name} in namespace {ref.namespace}",
            lambda: cluster.custom.delete_namespaced_custom_object(
                group, version, ref.namespace, plural, ref.name
            ),
        )

    def get_function(self, ref: WorkloadRef) -> ObservedFunction | None:
        cluster = self._vcluster(ref.namespace_ref.workspace_ref)
        return None if cluster is None else self._function(cluster, ref)

    def _function(self, cluster: _Cluster, ref: WorkloadRef) -> ObservedFunction | None:
        group, version, plural = KNATIVE
        found = _read(
            f"function {ref.name} in namespace {ref.namespace}",
            lambda: cluster.custom.get_namespaced_custom_object(
                group, version, ref.namespace, plural, ref.name
            ),
        )
        if not isinstance(found, dict):
            return None
        service = cast(dict[str, Any], found)
        template = service.get("spec", {}).get("template", {})
        container = template.get("spec", {}).get("containers", [{}])[0]
        max_scale = template.get("metadata", {}).get("annotations", {}).get(A_MAX_SCALE)
        concurrency = template.get("spec", {}).get("containerConcurrency")
        return ObservedFunction(
            runtime=str(service.get("metadata", {}).get("annotations", {}).get(A_RUNTIME, "")),
            image=str(container.get("image", "")),
            memory_bytes=parse_memory(
                container.get("resources", {}).get("limits", {}).get("memory", "0")
            ),
            concurrency=int(concurrency) if concurrency is not None else None,
            max_instances=int(max_scale) if max_scale is not None else None,
        )

    # -- maintenance: the dedicated pool's host nodes (kubectl cordon / drain) -------------

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

    # -- maintenance: pods, certificates, NetworkPolicies, CoreDNS (in the vCluster) -------

    def delete_pod(self, ref: WorkloadRef, pod: str) -> ObservedApplication:
        cluster = self._require_namespace(ref.namespace_ref)
        what = f"pod {pod} in namespace {ref.namespace}"
        found = _read(what, lambda: cluster.core.read_namespaced_pod(pod, ref.namespace))
        labels = (found.metadata.labels if found is not None and found.metadata else None) or {}
        if found is None or labels.get(APP_LABEL) != ref.name:
            raise DriverError(
                f"pod {pod} of application {ref.name} does not exist in namespace "
                f"{ref.namespace}: list the application's pods and pick a current one"
            )
        _delete(what, lambda: cluster.core.delete_namespaced_pod(pod, ref.namespace))

        def replaced() -> ObservedApplication | None:
            observed = self._observe(cluster, ref)
            if observed is None:
                raise DriverError(f"application {ref.name} disappeared while its pod was deleted")
            gone = pod not in {p.name for p in observed.pods}
            return observed if gone and len(observed.pods) >= observed.replicas else None

        observed = self._wait(replaced)
        return observed or _must(self._observe(cluster, ref), f"application {ref.name}")

    # -- diagnostics: events and pod logs (in the vCluster) ----------------------------------

    def list_events(
        self, ref: NamespaceRef, since: datetime | None = None, limit: int = EVENT_LIMIT
    ) -> list[ObservedEvent]:
        cluster = self._require_namespace(ref)
        # The whole namespace, not `limit=`: the API pages in key order, not by time, so the
        # newest events are only known after reading all (the API server keeps them ~1 h).
        with _api(f"events in namespace {ref.namespace}"):
            items = cluster.core.list_namespaced_event(ref.namespace).items
        return newest_last((_observed_event(e) for e in items), since, limit)

    def read_pod_logs(
        self, ref: WorkloadRef, pod: str, tail_lines: int = LOG_TAIL_LINES
    ) -> list[str]:
        cluster = self._require_namespace(ref.namespace_ref)
        what = f"pod {pod} in namespace {ref.namespace}"
        found = _read(what, lambda: cluster.core.read_namespaced_pod(pod, ref.namespace))
        labels = (found.metadata.labels if found is not None and found.metadata else None) or {}
        if found is None or labels.get(APP_LABEL) != ref.name:
            raise DriverError(
                f"pod {pod} of application {ref.name} does not exist in namespace "
                f"{ref.namespace}: list the application's pods and pick a current one"
            )
        wanted = min(tail_lines, LOG_TAIL_LINES)
        if wanted <= 0:
            return []
        containers = [c.name for c in (found.spec.containers if found.spec else [])]
        # A pod with sidecars needs the container named; ours is "app".
        container = "app" if "app" in containers else None
        with _api(f"logs of {what}"):
            text = cluster.core.read_namespaced_pod_log(
                pod, ref.namespace, container=container, tail_lines=wanted
            )
        # Bounded here too: a server (or proxy) that ignores tailLines must not flood the caller.
        return text.splitlines()[-wanted:]

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


# -- conversions -----------------------------------------------------------------------------


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _observed_event(event: CoreV1Event) -> ObservedEvent:
    """A core/v1 Event in the contract's shape. Events written through events.k8s.io/v1 carry
    eventTime and series instead of first/lastTimestamp and count; either is read."""
    series = event.series
    created = event.metadata.creation_timestamp if event.metadata else None
    last = _utc(
        event.last_timestamp
        or (series.last_observed_time if series else None)
        or event.event_time
        or created
    )
    first = _utc(event.first_timestamp or event.event_time or created) or last
    moment = last or first or datetime.now(UTC)  # an event with no time at all: seen now
    involved = event.involved_object
    return ObservedEvent(
        kind=involved.kind or "",
        name=involved.name or "",
        reason=event.reason or "",
        type=event.type or "Normal",
        message=event.message or "",
        count=event.count or (series.count if series else None) or 1,
        first_seen=min(first or moment, moment),
        last_seen=moment,
    )


def _settled(observed: ObservedWorkspace | None) -> ObservedWorkspace | None:
    return observed if observed is not None and observed.status != "provisioning" else None


def _quota_hard(quota: Quota) -> dict[str, str]:
    return {
        "requests.cpu": format_cpu(quota.cpu_millis),
        "requests.memory": format_memory(quota.memory_bytes),
        "pods": str(quota.pods),
    }


def _resources(resources: Resources) -> dict[str, dict[str, str]]:
    return {
        "requests": {
            "cpu": format_cpu(resources.cpu_request_millis),
            "memory": format_memory(resources.memory_request_bytes),
        },
        "limits": {
            "cpu": format_cpu(resources.cpu_limit_millis),
            "memory": format_memory(resources.memory_limit_bytes),
        },
    }


def _parse_resources(requests: dict[str, str], limits: dict[str, str]) -> Resources:
    """Requests and limits of a container; what is unset reads as the LimitRange default."""
    default = Resources()
    return Resources(
        cpu_request_millis=parse_cpu(requests.get("cpu", format_cpu(default.cpu_request_millis))),
        memory_request_bytes=parse_memory(
            requests.get("memory", format_memory(default.memory_request_bytes))
        ),
        cpu_limit_millis=parse_cpu(limits.get("cpu", format_cpu(default.cpu_limit_millis))),
        memory_limit_bytes=parse_memory(
            limits.get("memory", format_memory(default.memory_limit_bytes))
        ),
    )


def _replacing(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """A merge patch that turns `old` into `new` (nulls remove keys `new` lacks)."""
    patch: dict[str, Any] = {key: None for key in old if key not in new}
    for key, value in new.items():
        previous = old.get(key)
        if isinstance(value, dict) and isinstance(previous, dict):
            patch[key] = _replacing(previous, value)
        else:
            patch[key] = value
    return patch


def _rollout_done(deployment: V1Deployment) -> bool:
    """`kubectl rollout status` semantics: the new template is out and no old pods are left."""
    metadata, spec, status = deployment.metadata, deployment.spec, deployment.status
    if spec is None or status is None:
        return False
    generation = (metadata.generation if metadata else None) or 0
    if (status.observed_generation or 0) < generation:
        return False
    for condition in status.conditions or []:
        if condition.type == "Progressing" and condition.reason == "ProgressDeadlineExceeded":
            return True  # stuck: stop waiting and let the caller see the unready pods
    wanted = spec.replicas if spec.replicas is not None else 1
    return (status.updated_replicas or 0) == (status.replicas or 0) == wanted and (
        status.ready_replicas or 0
    ) == wanted


def _hpa_spec(hpa: V2HorizontalPodAutoscaler) -> HpaSpec | None:
    if hpa.spec is None:
        return None
    target = next(
        (
            m.resource.target.average_utilization
            for m in hpa.spec.metrics or []
            if m.resource is not None and m.resource.name == "cpu"
        ),
        None,
    )
    return HpaSpec(
        min_replicas=hpa.spec.min_replicas if hpa.spec.min_replicas is not None else 1,
        max_replicas=hpa.spec.max_replicas,
        target_cpu_percent=target or 0,
    )


def _must(found: T | None, what: str) -> T:
    if found is None:
        raise DriverError(f"{what} disappeared while the change was being applied")
    return found


def _evictable(pod: V1Pod) -> bool:
    metadata = pod.metadata
    if metadata is None or metadata.deletion_timestamp is not None:
        return False
    if "kubernetes.io/config.mirror" in (metadata.annotations or {}):
        return False  # a static pod: the kubelet owns it
    return not any(o.kind == "DaemonSet" for o in metadata.owner_references or [])


def _condition(obj: dict[str, Any], kind: str) -> bool:
    return any(
        c.get("type") == kind and c.get("status") == "True"
        for c in obj.get("status", {}).get("conditions", [])
    )


def _observed_certificate(certificate: dict[str, Any]) -> ObservedCertificate:
    return ObservedCertificate(
        ready=_condition(certificate, "Ready"),
        revision=int(certificate.get("status", {}).get("revision", 0)),
        issuing=_condition(certificate, "Issuing"),
    )


def _observed_component(deployment: V1Deployment) -> ObservedComponent:
    annotations = (deployment.metadata.annotations if deployment.metadata else None) or {}
    wanted = deployment.spec.replicas if deployment.spec and deployment.spec.replicas else 1
    ready = (deployment.status.ready_replicas if deployment.status else None) or 0
    return ObservedComponent(
        ready=ready >= wanted, restart_generation=int(annotations.get(A_RESTARTS, "0"))
    )
