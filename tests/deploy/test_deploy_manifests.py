"""deploy/kubernetes: base and production overlay render to valid Kubernetes objects with the
security settings, probes and least-privilege RBAC the platform relies on."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
from deploy_support import BASE, PRODUCTION, containers, pod_spec, render

from hexaops.platform.drivers.kubernetes import manifests

KUBERNETES_VERSION = "1.33.0"  # K3s of the host cluster
DRIVER = Path(manifests.__file__).parent
IMAGE = "registry.example.com/platform/hexaops:0.1.0"


def template(obj: dict[str, Any]) -> dict[str, Any]:
    spec = pod_spec(obj)
    assert spec is not None
    return spec


def by_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


@pytest.mark.parametrize("directory", [BASE, PRODUCTION], ids=["base", "production"])
def test_every_object_is_valid_for_kubernetes(directory: Path) -> None:
    objects = render(directory)
    kinds = {o["kind"] for o in objects}
    assert {"Deployment", "Job", "Service", "ClusterRole", "NetworkPolicy"} <= kinds
    for obj in objects:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_production_overlay_scales_pins_the_image_and_configures_services() -> None:
    objects = render(PRODUCTION)
    deployments = by_kind(objects, "Deployment")
    assert {n: d["spec"]["replicas"] for n, d in deployments.items()} == {
        "hexaops-api": 3,
        "hexaops-worker": 3,
    }
    assert {c["image"] for o in objects for c in containers(o)} == {IMAGE}
    config = by_kind(objects, "ConfigMap")["hexaops-config"]["data"]
    assert config["HEXAOPS_DRIVER"] == "kubernetes"  # the base's settings stay
    assert config["HEXAOPS_NATS_URL"].startswith("nats://")
    assert config["HEXAOPS_OIDC_ISSUER"].startswith("https://")
    assert config["HEXAOPS_DEV_LOGIN"] == "false"
    assert render(BASE) != objects  # the overlay changed something, the base is untouched


def test_pods_run_locked_down_with_resources_and_settings() -> None:
    for obj in render(PRODUCTION):
        spec = pod_spec(obj)
        if spec is None:
            continue
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True
        assert pod["seccompProfile"]["type"] == "RuntimeDefault"
        for container in containers(obj):
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True
            assert security["allowPrivilegeEscalation"] is False
            assert security["capabilities"]["drop"] == ["ALL"]
            assert set(container["resources"]) == {"requests", "limits"}
            sources = {next(iter(s.values()))["name"] for s in container["envFrom"]}
            assert sources == {"hexaops-config", "hexaops-secrets"}
            mounts = {m["mountPath"] for m in container["volumeMounts"]}
            assert {"/tmp", "/var/lib/hexaops"} <= mounts  # writable places on a read-only root


def test_api_serves_port_8000_with_health_probes() -> None:
    objects = render(PRODUCTION)
    (api,) = by_kind(objects, "Deployment")["hexaops-api"]["spec"]["template"]["spec"]["containers"]
    assert api["args"][:1] == ["serve"]
    assert api["args"][api["args"].index("--port") + 1] == "8000"
    assert api["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert api[probe]["httpGet"] == {"path": "/healthz", "port": "http"}
    service = by_kind(objects, "Service")["hexaops-api"]
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    ingress = by_kind(objects, "NetworkPolicy")["hexaops-api-ingress"]["spec"]["ingress"]
    assert ingress == [{"ports": [{"protocol": "TCP", "port": 8000}]}]


# Kubernetes client method → (resource, verb), for the calls the driver makes on the host.
_VERBS = {"read": "get", "list": "list", "create": "create", "patch": "patch", "delete": "delete"}
_RESOURCES = {
    "namespace": "namespaces",
    "resource_quota": "resourcequotas",
    "limit_range": "limitranges",
    "network_policy": "networkpolicies",
    "role": "roles",
    "role_binding": "rolebindings",
    "secret": "secrets",
    "node": "nodes",
    "pod": "pods",
    "pod_eviction": "pods/eviction",
}
# `core` alone is workspaces.py's alias of the host API; `cluster.core` is often a vCluster.
_HOST_CALL = re.compile(
    r"(?:self\._host\.core|self\._networking|self\._rbac|(?<![.\w])core)\.(\w+)\("
)


def _host_calls() -> set[tuple[str, str]]:
    """(resource, verb) of every host-cluster call in the driver's source (workspace
    provisioning, node maintenance, reading the vCluster kubeconfig)."""
    calls = set()
    for name in ("base.py", "workspaces.py", "maintenance.py"):
        for method in _HOST_CALL.findall((DRIVER / name).read_text()):
            verb, _, rest = method.partition("_")
            rest = rest.replace("namespaced_", "").replace("_for_all_namespaces", "")
            assert rest in _RESOURCES, f"driver calls {method}: map it here and grant it"
            calls.add((_RESOURCES[rest], _VERBS[verb]))
    return calls


def _granted(role: dict[str, Any]) -> set[tuple[str, str]]:
    return {(r, v) for rule in role["rules"] for r in rule["resources"] for v in rule["verbs"]}


def test_driver_role_grants_what_the_driver_calls_and_no_wildcards() -> None:
    objects = render(PRODUCTION)
    role = by_kind(objects, "ClusterRole")["hexaops-driver"]
    granted = _granted(role)
    assert _host_calls() <= granted
    # Beyond the calls: reading a namespace back, the Flux objects (custom-object calls), and
    # what the workspace-admin Role the driver creates grants (one can only grant what one has).
    role_reads = {
        (r, v)
        for r in ("pods", "pods/log", "services", "events", "resourcequotas", "helmreleases")
        for v in ("get", "list", "watch")
    }
    flux = {("helmreleases", v) for v in ("create", "patch", "delete")} | {
        ("helmrepositories", v) for v in ("create", "patch")
    }
    assert granted - _host_calls() <= role_reads | flux | {("namespaces", "get")}
    for group, _, plural in (manifests.FLUX_HELM, manifests.FLUX_SOURCE):
        assert any(group in r["apiGroups"] and plural in r["resources"] for r in role["rules"])
    for rule in role["rules"]:
        assert "*" not in rule["verbs"] + rule["resources"] + rule["apiGroups"]
        assert not {"escalate", "bind", "impersonate"} & set(rule["verbs"])
        if "secrets" in rule["resources"]:  # the vCluster kubeconfig and nothing else
            assert rule["resourceNames"] == [manifests.KUBECONFIG_SECRET]
            assert rule["verbs"] == ["get"]

    subjects = by_kind(objects, "ClusterRoleBinding")["hexaops-driver"]["subjects"]
    assert subjects == [
        {"kind": "ServiceAccount", "name": "hexaops-driver", "namespace": "hexaops"}
    ]
    for deployment in by_kind(objects, "Deployment").values():
        assert template(deployment)["serviceAccountName"] == "hexaops-driver"
    job = template(by_kind(objects, "Job")["hexaops-migrations"])
    assert job["automountServiceAccountToken"] is False  # migrations need no Kubernetes API
