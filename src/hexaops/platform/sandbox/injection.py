"""Injecting a fault: validate the request, then — when its time comes — record its baseline.

`locate` turns the user's target into the object at fault (or a clear error, nothing changed).
`activate` runs at the fault's start tick: it snapshots the target (mitigations are judged against
that snapshot), creates the objects the fault consists of (a NetworkPolicy, an expired
Certificate) and completes the ground truth.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy.orm import Session

from hexaops.platform.db.models import SandboxFault, SandboxObject
from hexaops.platform.errors import Conflict, InvalidInput, NotFound
from hexaops.platform.sandbox.faults import FaultKind
from hexaops.platform.sandbox.load import profile
from hexaops.platform.sandbox.topology import Deployment, Topology

# Findings of the vulnerable image, as Trivy reports them.
CVES = (
    {"id": "CVE-2024-3094", "package": "xz-utils", "version": "5.6.0", "severity": "CRITICAL"},
    {
        "id": "CVE-2024-6387",
        "package": "openssh-server",
        "version": "9.6p1",
        "severity": "CRITICAL",
    },
    {
        "id": "CVE-2023-44487",
        "package": "golang.org/x/net",
        "version": "0.15.0",
        "severity": "HIGH",
    },
)
PEAK_LOAD = 1.6  # the diurnal peak relative to the daily mean
HEADROOM = 0.7  # capacity counts as enough when the peak uses at most 70 % of the CPU limit


def _cluster(topo: Topology, org: str, workspace: str) -> str:
    for cluster, names in topo.workspaces.items():
        if names == (org, workspace):
            return cluster
    raise NotFound(f"workspace {org}/{workspace} does not exist in the sandbox")


def _split(target: str) -> tuple[str | None, str]:
    namespace, _, name = target.rpartition("/")
    return (namespace or None), name


def locate(
    topo: Topology, kind: FaultKind, org: str, workspace: str, target: str
) -> tuple[str, str, str, dict[str, Any]]:
    """(cluster, namespace, target, baseline seed) of a fault, or InvalidInput / NotFound."""
    cluster = _cluster(topo, org, workspace)
    in_ws = [d for d in topo.deployments if d.cluster == cluster]
    if kind.target == "Workspace":
        if target not in ("", workspace, "coredns"):
            raise InvalidInput(f"{kind.kind} targets the workspace: give --target {workspace}")
        return cluster, "kube-system", "coredns", {}
    if kind.target == "Node":
        nodes = {p.get("node") for d in in_ws for p in d.pods} | {
            n.name for n in topo.nodes if (n.org, n.workspace) == (org, workspace)
        }
        if target not in nodes or topo.node(target) is None:
            known = ", ".join(sorted(str(n) for n in nodes if n)) or "none"
            raise NotFound(f"node {target!r} runs no pods of {org}/{workspace}; nodes: {known}")
        return cluster, "", target, {"node": target}
    namespace, name = _split(target)
    if kind.target == "Pod":
        owners = [
            d
            for d in in_ws
            if namespace in (None, d.namespace) and name in {p["name"] for p in d.pods}
        ]
        if not owners:
            raise NotFound(f"pod {target!r} does not exist in workspace {org}/{workspace}")
        return cluster, owners[0].namespace, name, {"deployment": owners[0].name}
    matches = [d for d in in_ws if d.name == name and namespace in (None, d.namespace)]
    if not matches:
        raise NotFound(f"deployment {target!r} does not exist in workspace {org}/{workspace}")
    if len(matches) > 1:
        raise InvalidInput(f"deployment {name!r} exists in several projects: use PROJECT/{name}")
    d = matches[0]
    if kind.kind == "hpa_at_max" and d.hpa is None:
        raise InvalidInput(f"deployment {d.name} has no HPA: set one first (application.set_hpa)")
    return cluster, d.namespace, d.name, {"deployment": d.name}


def check_not_duplicate(session: Session, kind: str, cluster: str, target: str) -> None:
    open_faults = session.query(SandboxFault).filter(
        SandboxFault.kind == kind,
        SandboxFault.cluster == cluster,
        SandboxFault.target == target,
        SandboxFault.status != "resolved",
    )
    if open_faults.first() is not None:
        raise Conflict(f"a {kind} fault on {target} is already injected and not resolved")


def _deployment_baseline(d: Deployment, seed: int) -> dict[str, Any]:
    rps, cpu_per_request, _ = profile(d.name, seed)
    return {
        "image": d.spec.image,
        "revision": d.spec.revision,
        "restart_generation": d.restart_generation,
        "replicas": d.spec.replicas,
        "cpu_limit_millis": d.spec.resources.cpu_limit_millis,
        "peak_cores": rps * PEAK_LOAD * cpu_per_request,
    }


def _put(session: Session, fault: SandboxFault, kind: str, name: str, spec: dict[str, Any]) -> None:
    key = (fault.cluster, kind, fault.namespace, name)
    obj = session.get(SandboxObject, key)
    if obj is None:
        session.add(
            SandboxObject(
                cluster=fault.cluster,
                kind=kind,
                namespace=fault.namespace,
                name=name,
                spec=spec,
                status={},
            )
        )
        session.flush()


def activate(session: Session, fault: SandboxFault, topo: Topology, seed: int) -> bool:
    """Snapshot the target and create the fault's objects; False when the target is gone."""
    base = dict(fault.baseline)
    details: dict[str, Any] = {}
    if fault.kind in ("node_memory_pressure", "node_disk_pressure"):
        if topo.node(fault.target) is None:
            return False
    elif fault.kind == "dns_failure":
        coredns = topo.addons.get((fault.cluster, "SystemComponent", "kube-system", "coredns"))
        base["coredns_generation"] = 0 if coredns is None else coredns.get("restart_generation", 0)
    else:
        d = topo.deployment(fault.cluster, fault.namespace, str(base["deployment"]))
        if d is None or (fault.kind == "disk_full" and fault.target not in _pod_names(d)):
            return False
        base |= _deployment_baseline(d, seed)
        limit_cores = d.spec.resources.cpu_limit_millis / 1000
        if fault.kind == "cpu_saturation":
            base["extra_cores"] = 2.0 * d.spec.replicas * limit_cores
            need = (base["extra_cores"] + base["peak_cores"]) / HEADROOM
            base["needed_cpu_millis"] = math.ceil(need * 1000)
            details["needed_replicas"] = math.ceil(need / limit_cores)
        elif fault.kind == "hpa_at_max" and d.hpa is not None:
            base["extra_cores"] = 2.0 * d.hpa.max_replicas * limit_cores
            need = (base["extra_cores"] + base["peak_cores"]) / HEADROOM
            base["needed_replicas"] = math.ceil(need / limit_cores)
            details["needed_max_replicas"] = base["needed_replicas"]
        elif fault.kind == "quota_exhausted":
            quota = topo.quotas[(fault.cluster, fault.namespace)]
            fits = d.spec.replicas // 2
            base["fits"] = fits
            base["taken_cpu_millis"] = quota.cpu_millis - fits * d.spec.resources.cpu_request_millis
            base["taken_pods"] = quota.pods - fits
            details["pending_pods"] = d.spec.replicas - fits
        elif fault.kind == "network_policy_blocking":
            base["policy"] = f"deny-ingress-{d.name}"
            _put(
                session,
                fault,
                "NetworkPolicy",
                base["policy"],
                {"podSelector": {"app": d.name}, "policyTypes": ["Ingress"], "ingress": []},
            )
            details["network_policy"] = f"{fault.namespace}/{base['policy']}"
        elif fault.kind == "certificate_expiry":
            base["certificate"] = f"{d.name}-tls"
            _put(session, fault, "Certificate", base["certificate"], {"renewals": 0})
            cert = session.get(
                SandboxObject, (fault.cluster, "Certificate", fault.namespace, base["certificate"])
            )
            base["renewals"] = 0 if cert is None else int(cert.spec.get("renewals", 0))
            details["certificate"] = f"{fault.namespace}/{base['certificate']}"
        elif fault.kind == "vulnerable_image":
            base["cves"] = [c["id"] for c in CVES if c["severity"] == "CRITICAL"]
            details["vulnerabilities"] = list(CVES)
    fault.baseline = base
    fault.truth = {**fault.truth, "details": {**fault.truth.get("details", {}), **details}}
    return True


def _pod_names(d: Deployment) -> set[str]:
    return {str(p["name"]) for p in d.pods}


def objects_at_fault(
    kind: FaultKind, namespace: str, target: str, deployment: str | None
) -> list[dict[str, str]]:
    objects = [{"kind": kind.target, "namespace": namespace, "name": target}]
    if kind.target == "Pod" and deployment:
        objects.append({"kind": "Deployment", "namespace": namespace, "name": deployment})
    if kind.kind == "network_policy_blocking":
        objects.append(
            {"kind": "NetworkPolicy", "namespace": namespace, "name": f"deny-ingress-{target}"}
        )
    if kind.kind == "certificate_expiry":
        objects.append({"kind": "Certificate", "namespace": namespace, "name": f"{target}-tls"})
    return objects
