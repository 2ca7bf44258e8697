"""How active faults bend the simulation: per-application, per-pod and per-node modifiers.

The runtime computes a healthy cluster; these arrays say where it is not healthy and which
fault is responsible (so events and logs can be attributed, and ground truth stays exact).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray


class PodMode:
    """What is wrong with a pod's container (0: nothing)."""

    HEALTHY = 0
    CRASH_AT_START = 1  # exits right after start: CrashLoopBackOff
    LIVENESS_KILLED = 2  # killed by a failing liveness probe after its initial delay
    LEAKING = 3  # working set grows until the memory limit: OOMKilled
    IMAGE_PULL = 4  # never starts: ErrImagePull / ImagePullBackOff
    QUOTA_PENDING = 5  # never created: exceeded quota
    DISK_FULL = 6  # runs, but its writes fail


@dataclass(frozen=True)
class ActiveFault:
    id: int
    kind: str
    cluster: str
    namespace: str
    target: str
    baseline: dict[str, Any]


@dataclass
class Effects:
    load_extra_cores: NDArray[np.float64]  # [A] extra CPU demand (cores), split over ready pods
    error_add: NDArray[np.float64]  # [A] share of own requests that fail
    latency_add: NDArray[np.float64]  # [A] seconds added to own latency
    blocked: NDArray[np.bool_]  # [A] calls to this application do not arrive
    dns_broken: NDArray[np.bool_]  # [A] this application cannot resolve service names
    noisy: NDArray[np.bool_]  # [A] pods spin at their CPU limit
    hpa_floor: NDArray[np.int64]  # [A] replicas the HPA wants at least
    critical_cves: NDArray[np.int64]  # [A]
    pod_mode: NDArray[np.int8]  # [P]
    node_cpu_share: NDArray[np.float64]  # [N] share of CPU limit other pods get
    node_memory_pressure: NDArray[np.bool_]  # [N]
    node_disk_pressure: NDArray[np.bool_]  # [N]
    app_fault: dict[int, ActiveFault] = field(default_factory=dict)  # cause per application
    pod_fault: dict[int, ActiveFault] = field(default_factory=dict)  # cause per pod
    node_fault: dict[int, ActiveFault] = field(default_factory=dict)  # cause per node

    @classmethod
    def none(cls, apps: int, pods: int, nodes: int) -> Effects:
        return cls(
            load_extra_cores=np.zeros(apps),
            error_add=np.zeros(apps),
            latency_add=np.zeros(apps),
            blocked=np.zeros(apps, dtype=bool),
            dns_broken=np.zeros(apps, dtype=bool),
            noisy=np.zeros(apps, dtype=bool),
            hpa_floor=np.zeros(apps, dtype=np.int64),
            critical_cves=np.zeros(apps, dtype=np.int64),
            pod_mode=np.zeros(pods, dtype=np.int8),
            node_cpu_share=np.ones(nodes),
            node_memory_pressure=np.zeros(nodes, dtype=bool),
            node_disk_pressure=np.zeros(nodes, dtype=bool),
        )


# CPU share a noisy neighbour leaves to the other pods of its nodes (of their CPU limit).
NOISY_NODE_SHARE = 0.04

# Deployment faults that set the mode of every pod of the target.
_POD_MODES = {
    "crashloop_bad_config": PodMode.CRASH_AT_START,
    "liveness_probe_misconfigured": PodMode.LIVENESS_KILLED,
    "oom_memory_leak": PodMode.LEAKING,
}


def apply_fault(
    effects: Effects,
    fault: ActiveFault,
    app_index: dict[tuple[str, str, str], int],
    pods_of_app: list[list[int]],
    pod_names: list[str],
    pod_node: NDArray[np.int64],
    node_index: dict[str, int],
    apps_of_cluster: dict[str, list[int]],
) -> None:
    """Fold one active fault into `effects` (targets that vanished are left alone)."""
    kind, base = fault.kind, fault.baseline
    if kind in ("node_memory_pressure", "node_disk_pressure"):
        n = node_index.get(fault.target)
        if n is not None:
            pressure = (
                effects.node_memory_pressure
                if kind == "node_memory_pressure"
                else effects.node_disk_pressure
            )
            pressure[n] = True
            effects.node_fault[n] = fault
        return
    if kind == "dns_failure":
        for a in apps_of_cluster.get(fault.cluster, []):
            effects.dns_broken[a] = True
            effects.app_fault.setdefault(a, fault)
        return
    a_or_none = app_index.get((fault.cluster, fault.namespace, str(base.get("deployment"))))
    if a_or_none is None:
        return
    a = a_or_none
    effects.app_fault[a] = fault
    pods = pods_of_app[a]
    if kind in _POD_MODES:
        for p in pods:
            effects.pod_mode[p] = _POD_MODES[kind]
            effects.pod_fault[p] = fault
    elif kind == "image_pull_backoff":
        # The new ReplicaSet's pods never start; the rest of the old ones keep serving.
        for p in pods[len(pods) - (len(pods) + 1) // 2 :]:
            effects.pod_mode[p] = PodMode.IMAGE_PULL
            effects.pod_fault[p] = fault
    elif kind == "quota_exhausted":
        for p in pods[int(base["fits"]) :]:
            effects.pod_mode[p] = PodMode.QUOTA_PENDING
            effects.pod_fault[p] = fault
    elif kind == "disk_full":
        for p in pods:
            if pod_names[p] == fault.target:
                effects.pod_mode[p] = PodMode.DISK_FULL
                effects.pod_fault[p] = fault
    elif kind in ("cpu_saturation", "hpa_at_max"):
        effects.load_extra_cores[a] += float(base["extra_cores"])
        effects.hpa_floor[a] = max(int(effects.hpa_floor[a]), int(base.get("needed_replicas", 0)))
    elif kind == "noisy_neighbour":
        effects.noisy[a] = True
        for p in pods:
            n = int(pod_node[p])
            if n >= 0:
                effects.node_cpu_share[n] = min(float(effects.node_cpu_share[n]), NOISY_NODE_SHARE)
                effects.node_fault.setdefault(n, fault)
    elif kind == "bad_deploy_error_spike":
        effects.error_add[a] += 0.35
    elif kind == "slow_dependency":
        effects.latency_add[a] += 2.5
    elif kind == "certificate_expiry":
        effects.error_add[a] += 0.9
    elif kind == "network_policy_blocking":
        effects.blocked[a] = True
    elif kind == "vulnerable_image":
        effects.critical_cves[a] += len(base.get("cves", []))
