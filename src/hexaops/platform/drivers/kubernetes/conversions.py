"""Reading back: API objects in the driver contract's Observed* shapes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kubernetes.client import CoreV1Event, V1Deployment, V1Pod, V2HorizontalPodAutoscaler

from hexaops.platform.domain import Resources
from hexaops.platform.drivers.contract import (
    HpaSpec,
    ObservedCertificate,
    ObservedComponent,
    ObservedEvent,
    ObservedPod,
    ObservedWorkspace,
)
from hexaops.platform.drivers.kubernetes.manifests import A_RESTARTS
from hexaops.platform.names import format_cpu, format_memory, parse_cpu, parse_memory


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


def _observed_pod(pod: V1Pod) -> ObservedPod:
    """A pod as `kubectl describe` shows it: phase, readiness, restarts, and why it is not
    running (a container's waiting reason, else the scheduler's) and why it last terminated."""
    status, spec = pod.status, pod.spec
    conditions = (status.conditions if status else None) or []
    containers = (status.container_statuses if status else None) or []
    waiting = [
        c.state.waiting.reason
        for c in containers
        if c.state is not None and c.state.waiting is not None and c.state.waiting.reason
    ]
    unscheduled = [
        c.reason
        for c in conditions
        if c.type == "PodScheduled" and c.status == "False" and c.reason
    ]
    terminated = [
        c.last_state.terminated.reason
        for c in containers
        if c.last_state is not None
        and c.last_state.terminated is not None
        and c.last_state.terminated.reason
    ]
    return ObservedPod(
        name=(pod.metadata.name if pod.metadata else None) or "",
        phase=(status.phase if status else None) or "Pending",
        ready=any(c.type == "Ready" and c.status == "True" for c in conditions),
        restarts=sum(c.restart_count or 0 for c in containers),
        node=(spec.node_name if spec else None) or "",
        reason=(waiting or unscheduled or [""])[0],
        last_state=(terminated or [""])[0],
    )
