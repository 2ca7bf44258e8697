"""When a mitigation took effect: each fault kind compares the cluster now with its baseline.

The baseline is what the target looked like when the fault began. A fault is resolved by a change
of the cluster that removes its cause — not by time passing, and not by changes that only look
busy (a restart that brings back the same broken image, scaling a deployment that crashes).
"""

from __future__ import annotations

from collections.abc import Callable

from hexaops.platform.sandbox.effects import ActiveFault
from hexaops.platform.sandbox.topology import Deployment, Topology

Check = Callable[[ActiveFault, Deployment], bool]


def _image_changed(fault: ActiveFault, d: Deployment) -> bool:
    return d.spec.image != str(fault.baseline["image"])


def _new_revision(fault: ActiveFault, d: Deployment) -> bool:
    return d.spec.revision > int(fault.baseline["revision"])


def _pods_replaced(fault: ActiveFault, d: Deployment) -> bool:
    return d.restart_generation > int(fault.baseline["restart_generation"]) or _new_revision(
        fault, d
    )


def _cpu_capacity(fault: ActiveFault, d: Deployment) -> bool:
    return d.spec.replicas * d.spec.resources.cpu_limit_millis >= int(
        fault.baseline["needed_cpu_millis"]
    )


def _hpa_raised(fault: ActiveFault, d: Deployment) -> bool:
    return d.hpa is not None and d.hpa.max_replicas >= int(fault.baseline["needed_replicas"])


def _noisy_tamed(fault: ActiveFault, d: Deployment) -> bool:
    return d.spec.resources.cpu_limit_millis < int(
        fault.baseline["cpu_limit_millis"]
    ) or d.spec.replicas < int(fault.baseline["replicas"])


def _pod_gone(fault: ActiveFault, d: Deployment) -> bool:
    return fault.target not in {p["name"] for p in d.pods}


_DEPLOYMENT_CHECKS: dict[str, Check] = {
    "oom_memory_leak": _image_changed,
    "crashloop_bad_config": _new_revision,
    "image_pull_backoff": _image_changed,
    "cpu_saturation": _cpu_capacity,
    "noisy_neighbour": _noisy_tamed,
    "hpa_at_max": _hpa_raised,
    "bad_deploy_error_spike": _image_changed,
    "slow_dependency": _pods_replaced,
    "vulnerable_image": _image_changed,
    "disk_full": _pod_gone,
    "liveness_probe_misconfigured": _new_revision,
}


def is_resolved(fault: ActiveFault, topo: Topology) -> bool:
    base = fault.baseline
    if fault.kind in ("node_memory_pressure", "node_disk_pressure"):
        node = topo.node(fault.target)
        # Drained: cordoned, and no pod runs on it any more.
        on_node = any(p.get("node") == fault.target for d in topo.deployments for p in d.pods)
        return node is None or (node.cordoned and not on_node)
    if fault.kind == "dns_failure":
        coredns = topo.addons.get((fault.cluster, "SystemComponent", "kube-system", "coredns"))
        generation = 0 if coredns is None else int(coredns.get("restart_generation", 0))
        return fault.cluster not in topo.workspaces or generation > int(base["coredns_generation"])
    if fault.kind == "network_policy_blocking":
        key = (fault.cluster, "NetworkPolicy", fault.namespace, str(base["policy"]))
        return key not in topo.addons
    if fault.kind == "certificate_expiry":
        cert = topo.addons.get((fault.cluster, "Certificate", fault.namespace, base["certificate"]))
        return cert is None or int(cert.get("renewals", 0)) > int(base["renewals"])
    deployment = topo.deployment(fault.cluster, fault.namespace, str(base["deployment"]))
    if deployment is None:
        return True  # the faulty object is gone, and with it the fault
    if fault.kind == "quota_exhausted":
        quota = topo.quotas.get((fault.cluster, fault.namespace))
        if quota is None:
            return True
        per_pod = deployment.spec.resources.cpu_request_millis
        free_cpu = quota.cpu_millis - int(base["taken_cpu_millis"])
        free_pods = quota.pods - int(base["taken_pods"])
        return min(free_cpu // per_pod, free_pods) >= deployment.spec.replicas
    return _DEPLOYMENT_CHECKS[fault.kind](fault, deployment)
