"""Workloads in a workspace's vCluster: namespaces with quotas, applications (Deployments and
HPAs) and functions (Knative Services)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

from kubernetes.client import V1Deployment, V1Namespace, V1ResourceQuota, V2HorizontalPodAutoscaler

from hexaops.platform.domain import Quota
from hexaops.platform.drivers.contract import (
    ApplicationSpec,
    FunctionSpec,
    HpaSpec,
    NamespaceRef,
    ObservedApplication,
    ObservedFunction,
    WorkloadRef,
)
from hexaops.platform.drivers.kubernetes.api import (
    MERGE_PATCH,
    _api,
    _Cluster,
    _delete,
    _read,
    _upsert,
)
from hexaops.platform.drivers.kubernetes.base import _DriverCore
from hexaops.platform.drivers.kubernetes.conversions import (
    _hpa_spec,
    _observed_pod,
    _parse_resources,
    _rollout_done,
)
from hexaops.platform.drivers.kubernetes.manifests import (
    A_MAX_SCALE,
    A_RESTARTED_AT,
    A_RESTARTS,
    A_REVISION,
    A_RUNTIME,
    APP_LABEL,
    KNATIVE,
    _meta,
    _model,
    _quota_hard,
    deployment_manifest,
    hpa_manifest,
)
from hexaops.platform.errors import DriverError
from hexaops.platform.names import format_memory, parse_cpu, parse_memory


class _Workloads(_DriverCore):
    """Namespaces, applications and functions, all objects of the vCluster API."""

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

    def apply_application(self, ref: WorkloadRef, spec: ApplicationSpec) -> ObservedApplication:
        cluster = self._require_namespace(ref.namespace_ref)
        manifest = deployment_manifest(ref, spec)
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
            _observed_pod(pod)
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
        body = hpa_manifest(ref, hpa)
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
