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

The package: `api` (API calls, errors, clients), `manifests` (what is written), `conversions`
(what is read back) and `driver`, which puts together the driver's parts `base`, `workspaces`,
`workloads`, `maintenance` and `diagnostics`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from hexaops.platform.drivers.kubernetes.manifests import (
    A_K8S_VERSION,
    A_MAX_SCALE,
    A_RESTARTED_AT,
    A_RESTARTS,
    A_REVISION,
    A_RUNTIME,
    APP_LABEL,
    CERT_MANAGER,
    CHART_URL,
    DEFAULT_CHART_VERSION,
    FLUX_HELM,
    FLUX_SOURCE,
    HELM_REPOSITORY,
    KNATIVE,
    KUBECONFIG_SECRET,
    MANAGED_BY,
    POOL_LABEL,
    RELEASE,
)

if TYPE_CHECKING:
    from hexaops.platform.drivers.kubernetes.api import (
        MERGE_PATCH,
        api_error,
        client_from_kubeconfig,
        host_client,
    )
    from hexaops.platform.drivers.kubernetes.driver import KubernetesDriver

# The kubernetes client takes about a second to import; what needs it loads on first use, so
# reading the manifests (e.g. to scan them) does not pay for it.
_LAZY = {
    "MERGE_PATCH": "api",
    "api_error": "api",
    "client_from_kubeconfig": "api",
    "host_client": "api",
    "KubernetesDriver": "driver",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(f"{__name__}.{_LAZY[name]}")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "APP_LABEL",
    "A_K8S_VERSION",
    "A_MAX_SCALE",
    "A_RESTARTED_AT",
    "A_RESTARTS",
    "A_REVISION",
    "A_RUNTIME",
    "CERT_MANAGER",
    "CHART_URL",
    "DEFAULT_CHART_VERSION",
    "FLUX_HELM",
    "FLUX_SOURCE",
    "HELM_REPOSITORY",
    "KNATIVE",
    "KUBECONFIG_SECRET",
    "MANAGED_BY",
    "MERGE_PATCH",
    "POOL_LABEL",
    "RELEASE",
    "KubernetesDriver",
    "api_error",
    "client_from_kubeconfig",
    "host_client",
]
