"""What the driver writes: names, labels and annotations, and the manifests of host and
vCluster objects."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

from hexaops.platform.domain import Plan, Quota, Resources
from hexaops.platform.drivers.contract import (
    ApplicationSpec,
    HpaSpec,
    WorkloadRef,
    WorkspaceRef,
    WorkspaceSpec,
)
from hexaops.platform.names import format_cpu, format_memory

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

# HelmRelease Ready=False reasons after which Flux stops retrying on its own.
_FAILED_REASONS = {"InstallFailed", "UpgradeFailed", "RetriesExceeded", "ArtifactFailed"}

M = TypeVar("M", bound=BaseModel)


# -- manifests -----------------------------------------------------------------------------


def _model(cls: type[M], manifest: dict[str, Any]) -> M:
    """A typed client model from a manifest written the way it reads in YAML."""
    return cls.model_validate(manifest)


def _meta(name: str, **extra: Any) -> dict[str, Any]:
    labels = {**MANAGED_BY, **extra.pop("labels", {})}
    return {"name": name, "labels": labels, **extra}


def network_policies(platform_namespace: str) -> list[dict[str, Any]]:
    """NetworkPolicies of a workspace's host namespace: default deny, then what vCluster needs."""
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
                                    "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
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
                                        "kubernetes.io/metadata.name": platform_namespace
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


def vcluster_values(ref: WorkspaceRef, spec: WorkspaceSpec) -> dict[str, Any]:
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


def deployment_manifest(ref: WorkloadRef, spec: ApplicationSpec) -> dict[str, Any]:
    """The Deployment of an application (its pod template carries the revision)."""
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


def hpa_manifest(ref: WorkloadRef, hpa: HpaSpec) -> dict[str, Any]:
    """The HorizontalPodAutoscaler (autoscaling/v2) of an application: CPU utilisation target."""
    return {
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
