"""Status of the simulated cluster as `kubectl get` would show it.

`pod_statuses` writes each pod's phase, readiness, restarts and reason back to the store after
an `advance`, so the driver's reads (and through them the platform core and the agents' tools)
see CrashLoopBackOff, Pending or OOMKilled pods. `workspace_status` is the `sandbox status` view.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from hexaops.platform.db.models import SandboxFault, SandboxObject
from hexaops.platform.sandbox.effects import Effects, PodMode
from hexaops.platform.sandbox.runtime import PodRuntime, TickResult
from hexaops.platform.sandbox.topology import Topology

_WAITING = {
    PodMode.CRASH_AT_START: "CrashLoopBackOff",
    PodMode.LIVENESS_KILLED: "CrashLoopBackOff",
    PodMode.LEAKING: "CrashLoopBackOff",
    PodMode.IMAGE_PULL: "ImagePullBackOff",
    PodMode.QUOTA_PENDING: "FailedCreate",
}
_LAST_STATE = {
    PodMode.CRASH_AT_START: "Error",
    PodMode.LIVENESS_KILLED: "Error",
    PodMode.LEAKING: "OOMKilled",
}


def _pod(
    rt: PodRuntime, fx: Effects, res: TickResult, p: int, pod: dict[str, Any]
) -> dict[str, Any]:
    mode = int(fx.pod_mode[p])
    pending = not rt.scheduled[p] or mode in (PodMode.IMAGE_PULL, PodMode.QUOTA_PENDING)
    ready = bool(res.ready[p])
    restarts = int(rt.state["restarts"][p])
    reason = "" if ready else _WAITING.get(mode, "Unschedulable" if pending else "")
    return {
        **pod,
        "phase": "Pending" if pending else "Running",
        "ready": ready,
        "restarts": restarts,
        "reason": reason,
        "last_state": _LAST_STATE.get(mode, "") if restarts else pod.get("last_state", ""),
    }


def pod_statuses(
    session: Session, topo: Topology, rt: PodRuntime, fx: Effects, res: TickResult
) -> None:
    """Write what the last tick observed into each Deployment's pods (only where it changed)."""
    observed: dict[int, list[dict[str, Any]]] = {}
    for p, (a, pod) in enumerate(rt.pod_keys):
        observed.setdefault(a, []).append(_pod(rt, fx, res, p, pod))
    for a, d in enumerate(topo.deployments):
        pods = observed.get(a, [])
        if pods == d.pods:
            continue
        obj = session.get(
            SandboxObject, (d.cluster, "Deployment", d.namespace, d.name), with_for_update=True
        )
        stored = [] if obj is None else obj.status.get("pods", [])
        # Only if nobody replaced the pods since this snapshot (a rollout wins over a status).
        if obj is not None and [p["name"] for p in stored] == [p["name"] for p in pods]:
            obj.status = {**obj.status, "pods": pods}
            obj.resource_version += 1


def workspace_status(
    topo: Topology, org: str, workspace: str, now: datetime, faults: Sequence[SandboxFault]
) -> dict[str, Any]:
    cluster = next(c for c, names in topo.workspaces.items() if names == (org, workspace))
    deployments = [d for d in topo.deployments if d.cluster == cluster]
    used_nodes = {p.get("node") for d in deployments for p in d.pods}
    nodes = [
        {
            "name": n.name,
            "cordoned": n.cordoned,
            "capacity": {"cpu_millis": n.cpu_millis, "memory_bytes": n.memory_bytes},
            "allocatable": {
                "cpu_millis": n.allocatable_cpu_millis,
                "memory_bytes": n.allocatable_memory_bytes,
            },
        }
        for n in topo.nodes
        if n.name in used_nodes or (n.org, n.workspace) == (org, workspace)
    ]
    return {
        "org": org,
        "workspace": workspace,
        "now": now.isoformat(),
        "nodes": nodes,
        "quotas": {
            ns: q.model_dump() for (c, ns), q in sorted(topo.quotas.items()) if c == cluster
        },
        "deployments": [
            {
                "namespace": d.namespace,
                "name": d.name,
                "image": d.spec.image,
                "revision": d.spec.revision,
                "replicas": d.spec.replicas,
                "ready_replicas": sum(bool(p.get("ready")) for p in d.pods),
                "hpa": None if d.hpa is None else d.hpa.model_dump(),
                "endpoints": [p["name"] for p in d.pods if p.get("ready")],
                "pods": [
                    {k: p.get(k) for k in ("name", "phase", "ready", "restarts", "node", "reason")}
                    for p in d.pods
                ],
            }
            for d in deployments
        ],
        "functions": [
            {"namespace": f.namespace, "name": f.name, "concurrency": f.concurrency}
            for f in topo.functions
            if f.cluster == cluster
        ],
        "faults": [
            {"id": f.id, "kind": f.kind, "target": f.target, "status": f.status} for f in faults
        ],
    }
