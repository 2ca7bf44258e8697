"""The fault catalog: what can go wrong in the sandbox, what it looks like, and what fixes it.

Each kind documents its ground truth: the object kind it targets, the root cause, the symptoms
it produces in metrics, logs and events, the mitigations that resolve it (platform-core operation
kinds, as the LLM and people request them) and mitigations that look plausible but do not. `resolution.py` decides when a mitigation took effect; `effects.py` how the fault
shows up while it is active.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from hexaops.platform.errors import InvalidInput


@dataclass(frozen=True)
class FaultKind:
    kind: str
    target: str  # Deployment | Pod | Node | Workspace
    root_cause: str
    metrics: tuple[str, ...]
    logs: tuple[str, ...]  # substrings of the log messages it produces
    events: tuple[str, ...]  # Kubernetes event reasons
    mitigations: tuple[str, ...]  # any one of these, done right, resolves the fault
    wrong_mitigations: tuple[str, ...]  # plausible but ineffective

    def to_json(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


_CATALOG = (
    FaultKind(
        "oom_memory_leak",
        "Deployment",
        "the running image leaks memory until the container exceeds its memory limit",
        ("container_memory_working_set_bytes", "kube_pod_container_status_restarts_total"),
        ("heap usage", "OOMKilled"),
        ("OOMKilling", "BackOff"),
        ("application.rollback", "application.deploy (a fixed image)"),
        ("application.restart", "application.scale"),
    ),
    FaultKind(
        "crashloop_bad_config",
        "Deployment",
        "the running revision reads an invalid configuration and exits at start",
        ("kube_pod_container_status_restarts_total", "kube_deployment_status_replicas_available"),
        ("invalid configuration",),
        ("BackOff",),
        ("application.rollback",),
        ("application.restart", "application.scale"),
    ),
    FaultKind(
        "image_pull_backoff",
        "Deployment",
        "the image tag of the running revision does not exist in the registry",
        ("kube_deployment_status_replicas_available", "kube_pod_container_status_ready"),
        (),
        ("Failed", "BackOff"),
        ("application.rollback", "application.deploy (an existing image)"),
        ("application.restart", "application.scale"),
    ),
    FaultKind(
        "cpu_saturation",
        "Deployment",
        "traffic outgrew the CPU the deployment may use: its pods are throttled at their limit",
        (
            "container_cpu_usage_seconds_total",
            "container_cpu_cfs_throttled_periods_total",
            "http_request_duration_seconds_bucket",
        ),
        ("request took",),
        (),
        ("application.scale (to at least the replicas in the truth)", "application.deploy"),
        ("application.restart",),
    ),
    FaultKind(
        "quota_exhausted",
        "Deployment",
        "a batch job took the project's remaining quota: the deployment's new pods stay Pending",
        ("kube_deployment_status_replicas_available", "kube_pod_status_phase"),
        (),
        ("FailedCreate",),
        ("project.update_quota (raise cpu and pods)",),
        ("application.restart",),
    ),
    FaultKind(
        "node_memory_pressure",
        "Node",
        "a host node runs out of memory; the kubelet evicts pods from it",
        ("node_memory_MemAvailable_bytes", "kube_node_status_condition"),
        (),
        ("EvictionThresholdMet", "Evicted"),
        ("node.drain", "node.cordon + application.restart"),
        ("application.scale", "node.cordon alone"),
    ),
    FaultKind(
        "node_disk_pressure",
        "Node",
        "a host node's image filesystem is full; image garbage collection fails, pods are evicted",
        ("node_filesystem_avail_bytes", "kube_node_status_condition"),
        (),
        ("FreeDiskSpaceFailed", "Evicted"),
        ("node.drain", "node.cordon + application.restart"),
        ("application.restart alone",),
    ),
    FaultKind(
        "noisy_neighbour",
        "Deployment",
        "the deployment's pods burn CPU up to a far too generous limit, starving its node",
        ("container_cpu_usage_seconds_total", "container_cpu_cfs_throttled_periods_total"),
        ("request took",),
        (),
        ("application.deploy (lower its cpu_limit)", "application.scale (fewer replicas)"),
        ("application.restart",),
    ),
    FaultKind(
        "hpa_at_max",
        "Deployment",
        "load exceeds what the HPA may scale to: it is pinned at maxReplicas",
        (
            "kube_horizontalpodautoscaler_status_current_replicas",
            "kube_horizontalpodautoscaler_spec_max_replicas",
            "http_request_duration_seconds_bucket",
        ),
        ("request took",),
        (),
        ("application.set_hpa (max_replicas at least the replicas in the truth)",),
        ("application.restart",),
    ),
    FaultKind(
        "bad_deploy_error_spike",
        "Deployment",
        "the running revision has a bug: a share of requests fail with HTTP 500",
        ("http_requests_total",),
        ("unhandled exception",),
        (),
        ("application.rollback",),
        ("application.restart", "application.scale"),
    ),
    FaultKind(
        "slow_dependency",
        "Deployment",
        "the deployment's connection pool is stuck: its calls are slow, so are its callers'",
        ("http_request_duration_seconds_bucket",),
        ("upstream request timeout",),
        (),
        ("application.restart",),
        ("application.scale",),
    ),
    FaultKind(
        "certificate_expiry",
        "Deployment",
        "the TLS certificate serving the deployment expired; clients fail the handshake",
        ("http_requests_total",),
        ("x509: certificate has expired",),
        ("CertificateExpired",),
        ("certificate.renew",),
        ("application.restart",),
    ),
    FaultKind(
        "vulnerable_image",
        "Deployment",
        "the running image contains packages with critical CVEs",
        ("trivy_image_vulnerabilities",),
        (),
        ("VulnerabilityReportCreated",),
        ("application.deploy (a patched image)",),
        ("application.restart",),
    ),
    FaultKind(
        "network_policy_blocking",
        "Deployment",
        "a NetworkPolicy denies ingress to the deployment; its callers' calls time out",
        ("http_requests_total",),
        ("connection timed out",),
        (),
        ("network_policy.delete",),
        ("application.restart",),
    ),
    FaultKind(
        "disk_full",
        "Pod",
        "the pod's emptyDir volume filled with logs; writes fail",
        ("container_fs_usage_bytes", "http_requests_total"),
        ("no space left on device",),
        (),
        ("pod.delete", "application.restart"),
        ("application.scale",),
    ),
    FaultKind(
        "dns_failure",
        "Workspace",
        "CoreDNS of the workspace's vCluster is hung; service names do not resolve",
        ("http_requests_total",),
        ("no such host",),
        (),
        ("workspace.restart_dns",),
        ("application.restart",),
    ),
    FaultKind(
        "liveness_probe_misconfigured",
        "Deployment",
        "the liveness probe of the running revision points at a path that does not exist",
        ("kube_pod_container_status_restarts_total",),
        (),
        ("Unhealthy", "Killing", "BackOff"),
        ("application.rollback", "application.deploy (a new revision)"),
        ("application.restart", "application.scale"),
    ),
)

CATALOG: dict[str, FaultKind] = {f.kind: f for f in _CATALOG}


def fault_kind(kind: str) -> FaultKind:
    try:
        return CATALOG[kind]
    except KeyError:
        raise InvalidInput(
            f"unknown fault kind {kind!r}: choose one of {', '.join(sorted(CATALOG))}"
        ) from None


def catalog() -> list[dict[str, Any]]:
    """The catalog as JSON-able records (`hexaops sandbox faults --json`)."""
    return [f.to_json() for f in _CATALOG]
