"""The alert a sandbox fault would raise, as an Alertmanager alert on the symptomatic object.

This plays the part of Prometheus' alerting rules for the simulation: it reads the fault's
record (where it is) — never its root cause — to name the alert the symptom would fire and the
object it fires on, which is not always the object at fault: a blocked or slow service alerts
on its caller, a hung CoreDNS on an application that resolves names.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from hexaops.incidents.alerts import Alert
from hexaops.platform.sandbox.load import DEPENDENCIES

# fault kind → (alertname, severity, summary, where the symptom shows)
RULES: Final[dict[str, tuple[str, str, str, str]]] = {
    "oom_memory_leak": ("KubeContainerOOMKilled", "critical", "containers are OOMKilled", "target"),
    "crashloop_bad_config": ("KubePodCrashLooping", "critical", "pods are crash looping", "target"),
    "image_pull_backoff": (
        "KubeDeploymentReplicasMismatch",
        "warning",
        "replicas are not available",
        "target",
    ),
    "cpu_saturation": ("HighErrorRate", "critical", "5xx responses above 5%", "target"),
    "quota_exhausted": (
        "KubeDeploymentReplicasMismatch",
        "warning",
        "replicas are not available",
        "target",
    ),
    "node_memory_pressure": (
        "KubeNodeMemoryPressure",
        "critical",
        "node under memory pressure",
        "node",
    ),
    "node_disk_pressure": ("KubeNodeDiskPressure", "critical", "node under disk pressure", "node"),
    "noisy_neighbour": ("HighLatency", "warning", "p95 latency above 1 s", "caller"),
    "hpa_at_max": ("KubeHpaMaxedOut", "warning", "HPA running at max replicas", "target"),
    "bad_deploy_error_spike": ("HighErrorRate", "critical", "5xx responses above 5%", "target"),
    "slow_dependency": ("HighLatency", "warning", "p95 latency above 1 s", "caller"),
    "certificate_expiry": ("HighErrorRate", "critical", "5xx responses above 5%", "target"),
    "vulnerable_image": ("CriticalVulnerability", "warning", "image has critical CVEs", "target"),
    "network_policy_blocking": ("HighErrorRate", "critical", "5xx responses above 5%", "caller"),
    "disk_full": ("HighErrorRate", "critical", "5xx responses above 5%", "pod"),
    "dns_failure": ("HighErrorRate", "critical", "5xx responses above 5%", "workspace"),
    "liveness_probe_misconfigured": (
        "KubePodCrashLooping",
        "critical",
        "pods are crash looping",
        "target",
    ),
}


def _caller(app: str) -> str:
    return next((c for c, callees in DEPENDENCIES.items() if app in callees), app)


def alert_for_fault(fault: dict[str, Any], at: datetime, apps: list[tuple[str, str]]) -> Alert:
    """The alert of a fault record (`Simulation.truth` shape: kind, org, workspace, namespace,
    target), firing at `at`; `apps` are the (project, application) pairs of its workspace (a
    workspace-wide fault alerts on one that calls others)."""
    name, severity, summary, where = RULES[fault["kind"]]
    labels = {
        "alertname": name,
        "severity": severity,
        "org": fault["org"],
        "workspace": fault["workspace"],
    }
    if where == "node":
        labels["node"] = fault["target"]
    elif where == "workspace":
        project, app = next((pa for pa in apps if pa[1] in DEPENDENCIES), apps[0])
        labels |= {"project": project, "application": app}
    elif where == "pod":
        labels |= {"project": fault["namespace"], "pod": fault["target"]}
    else:
        app = fault["target"] if where == "target" else _caller(fault["target"])
        labels |= {"project": fault["namespace"], "application": app}
    return Alert.model_validate(
        {
            "status": "firing",
            "labels": labels,
            "annotations": {"summary": summary, "source": f"sandbox fault {fault['fault_id']}"},
            "startsAt": at.isoformat(),
        }
    )
