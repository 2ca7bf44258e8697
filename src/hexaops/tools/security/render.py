"""The manifests of a workspace's workloads as the kubernetes driver writes them, for scanners.

Deployments come from the driver's own renderer, so a config scan judges exactly what would be
applied; HPAs mirror what the driver writes for an application's autoscaling.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hexaops.platform.domain import Resources
from hexaops.platform.drivers.contract import ApplicationSpec, HpaSpec, WorkloadRef
from hexaops.platform.drivers.kubernetes.manifests import (
    deployment_manifest,
    hpa_manifest,
)
from hexaops.platform.views import ApplicationView


@dataclass(frozen=True)
class RenderedObject:
    """One manifest and the platform object it stands for."""

    object_id: str  # "org/workspace/project/Kind/name"
    file_name: str
    manifest: dict[str, Any]


def object_id(app: ApplicationView, kind: str) -> str:
    return f"{app.org}/{app.workspace}/{app.project}/{kind}/{app.name}"


def deployment(app: ApplicationView) -> dict[str, Any]:
    ref = WorkloadRef(org=app.org, workspace=app.workspace, namespace=app.project, name=app.name)
    resources = Resources.parse(**{k: str(v) for k, v in app.resources.items()})
    spec = ApplicationSpec(
        image=app.image, replicas=app.replicas, resources=resources, revision=app.revision
    )
    body = deployment_manifest(ref, spec)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        **body,
        "metadata": {**body["metadata"], "namespace": app.project},
    }


def hpa(app: ApplicationView) -> dict[str, Any] | None:
    scaling = app.autoscaling
    if not scaling:
        return None
    ref = WorkloadRef(org=app.org, workspace=app.workspace, namespace=app.project, name=app.name)
    spec = HpaSpec(
        min_replicas=scaling["min_replicas"],
        max_replicas=scaling["max_replicas"],
        target_cpu_percent=scaling["target_cpu_percent"],
    )
    body = hpa_manifest(ref, spec)
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        **body,
        "metadata": {**body["metadata"], "namespace": app.project},
    }


def render(apps: list[ApplicationView]) -> list[RenderedObject]:
    """One manifest file per object, named after it, so a finding's file names its object."""
    objects = []
    for app in apps:
        stem = f"{app.project}--{app.name}"
        objects.append(
            RenderedObject(
                object_id(app, "Deployment"), f"{stem}--deployment.yaml", deployment(app)
            )
        )
        if (autoscaler := hpa(app)) is not None:
            objects.append(
                RenderedObject(
                    object_id(app, "HorizontalPodAutoscaler"), f"{stem}--hpa.yaml", autoscaler
                )
            )
    return objects


def runs_as_root(manifest: dict[str, Any]) -> bool:
    """Whether a Deployment lets its containers run as root: no runAsNonRoot (pod or
    container) and no non-zero runAsUser. The image's USER is unknown here, so this is
    "may run as root" — as Kubernetes' restricted Pod Security Standard judges it."""
    pod = manifest.get("spec", {}).get("template", {}).get("spec", {})
    pod_ctx = pod.get("securityContext") or {}
    for container in pod.get("containers", []):
        ctx = {**pod_ctx, **(container.get("securityContext") or {})}
        if not ctx.get("runAsNonRoot") and not ctx.get("runAsUser"):
            return True
    return False


def privileged(manifest: dict[str, Any]) -> bool:
    pod = manifest.get("spec", {}).get("template", {}).get("spec", {})
    return any(
        (c.get("securityContext") or {}).get("privileged") is True
        for c in pod.get("containers", [])
    )
