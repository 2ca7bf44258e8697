"""Remedies: the write a diagnosis finding's suggested operation becomes, with its arguments.

Findings suggest platform operations by kind ("certificate.renew — re-issue the certificate").
The planner offers the first one it can fill in as a question; the user's yes requests it
through the operation's write tool, so approval works as for any write. A remedy only ever acts
on the finding's own object (its Deployment, pod, certificate, node, project or workspace),
named by the finding's object path; values come from its structured evidence or the listed
application, and the suggestion's words only pick a direction or a bounded number ("at least 9
replicas", "a lower cpu_limit", a NetworkPolicy the evidence lists). Deleting an application,
function, project or workspace is never offered.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from hexaops.tools.catalog import all_tools

Args = dict[str, Any]
Remedy = tuple[str, Args]  # (tool, arguments)
Listed = dict[str, Any]  # an application as platform_workloads listed it this turn
_OPERATION: Final = re.compile(r"^[a-z_]+\.[a-z_]+$")
_NEVER: Final = ("application.delete", "function.delete", "project.delete", "workspace.delete")
_QUOTA_RAISE: Final = 1.5  # a quota raise: half again the current limits (the owner may edit it)
_POD_SUFFIX: Final = re.compile(r"-[a-z0-9]{5,10}-[a-z0-9]{5}$")  # ReplicaSet hash, pod id


def tool_of(operation: str) -> str:
    """The write tool of a platform operation kind (`certificate.renew` → its tool)."""
    return "platform_" + operation.replace(".", "_")


def operation_of(tool: str) -> str:
    """The operation kind a write tool requests (`tool_of` reversed), or the tool's name."""
    return next((op for op in _BUILDERS if tool_of(op) == tool), tool)


def object_parts(obj: str) -> dict[str, str]:
    """'org/ws/project/Kind/name' (or 'org/ws/Kind/name' for cluster-wide objects) → parts."""
    parts = obj.split("/")
    if len(parts) == 4:
        return dict(zip(("org", "workspace", "kind", "name"), parts, strict=True))
    return dict(zip(("org", "workspace", "project", "kind", "name"), parts, strict=False))


def suggestions(finding: dict[str, Any]) -> list[tuple[str, str]]:
    """The finding's suggested platform operations as (operation, why): well-formed operation
    names only, no deletion of applications, projects or workspaces, and no rollback when the
    finding says the application runs its first revision."""
    found = []
    first = re.search(r"\brevision 1\b", str(finding.get("detail") or ""))
    for step in finding.get("next_steps") or []:
        operation, _, why = str(step).partition(" — ")
        operation = operation.strip()
        if operation == "application.rollback" and first:
            continue
        if _OPERATION.match(operation) and operation not in _NEVER:
            found.append((operation, why.strip()))
    return found


def remedy(finding: dict[str, Any] | None, listed: Listed | None = None) -> Remedy | None:
    """The first suggested operation of `finding` whose arguments the finding gives, with the
    finding's application as listed (`listed`, for the changes that keep the rest of its spec)."""
    if finding is None:
        return None
    obj = object_parts(str(finding.get("object") or ""))
    for operation, why in suggestions(finding):
        build = _BUILDERS.get(operation)
        args = build(_Case(obj, finding, why, listed or {})) if build else None
        if args and tool_of(operation) in _write_tools():
            return tool_of(operation), args
    return None


def target_name(obj: dict[str, str]) -> str:
    """What the answer calls the object a remedy acts on."""
    return obj.get("name") or obj.get("workspace") or "it"


@dataclass(frozen=True)
class _Case:
    obj: dict[str, str]  # the finding's object path, in parts
    finding: dict[str, Any]
    why: str  # the suggestion's words after the operation ("at least 9 replicas of …")
    listed: Listed  # the application as listed this turn, or {}


def _write_tools() -> frozenset[str]:
    return frozenset(n for n, t in all_tools().items() if t.writes)


def owner_of_pod(pod: str) -> str | None:
    """The Deployment a pod belongs to, by the Kubernetes naming (name-<hash>-<id>)."""
    return _POD_SUFFIX.sub("", pod) if _POD_SUFFIX.search(pod) else None


def application_of(obj: dict[str, str]) -> str | None:
    """The Deployment the finding is about: itself, or the owner of its pod."""
    if obj.get("kind") == "Deployment":
        return obj.get("name")
    if obj.get("kind") == "Pod":
        return owner_of_pod(obj.get("name", ""))
    return None


def _workload(case: _Case) -> Args | None:
    """rollback / restart of the finding's application."""
    obj = case.obj
    name = application_of(obj)
    if not name or not obj.get("project") or obj.get("project") == "kube-system":
        return None
    return {"workspace": obj["workspace"], "project": obj["project"], "name": name}


def _pod_delete(case: _Case) -> Args | None:
    obj = case.obj
    application = application_of(obj)
    if obj.get("kind") != "Pod" or not application:
        return None
    return {
        "workspace": obj["workspace"],
        "project": obj["project"],
        "application": application,
        "pod": obj["name"],
    }


def _certificate(case: _Case) -> Args | None:
    obj = case.obj
    if obj.get("kind") != "Certificate":
        return None
    return {"workspace": obj["workspace"], "project": obj["project"], "name": obj["name"]}


def _dns(case: _Case) -> Args | None:
    obj = case.obj
    return {"name": obj["workspace"]} if obj.get("workspace") else None


def _node(case: _Case) -> Args | None:
    obj = case.obj
    if obj.get("kind") != "Node":
        return None
    return {"workspace": obj["workspace"], "node": obj["name"]}


def _quota(case: _Case) -> Args | None:
    """The project's quota raised by half: enough for the replicas it could not create while
    staying a bounded change (the approver sees the numbers)."""
    obj, finding = case.obj, case.finding
    quota = _evidence(finding, "quota")
    if quota is None or not obj.get("project"):
        return None
    args: Args = {
        "workspace": obj["workspace"],
        "name": str(quota.get("project") or obj["project"]),
    }
    if isinstance(quota.get("cpu_millis"), int):
        args["cpu"] = f"{math.ceil(quota['cpu_millis'] * _QUOTA_RAISE)}m"
    if isinstance(quota.get("memory_bytes"), int):
        args["memory"] = f"{math.ceil(quota['memory_bytes'] * _QUOTA_RAISE / 2**20)}Mi"
    if isinstance(quota.get("pods"), int):
        args["pods"] = math.ceil(quota["pods"] * _QUOTA_RAISE)
    return args if len(args) > 2 else None


def _hpa(case: _Case) -> Args | None:
    """A higher autoscaler ceiling: what the measured CPU asks for at the target, and at least
    three times the current maximum (the utilization of throttled pods understates demand)."""
    obj, finding = case.obj, case.finding
    hpa = _evidence(finding, "hpa")
    name = application_of(obj)
    if hpa is None or not name or not isinstance(hpa.get("max_replicas"), int):
        return None
    ceiling = int(hpa["max_replicas"])
    target = hpa.get("target_cpu_percent") or 80
    utilization = next(
        (
            e.get("value")
            for e in finding.get("evidence") or []
            if isinstance(e, dict) and str(e.get("name", "")).startswith("cpu utilization")
        ),
        None,
    )
    wanted = ceiling * 3
    if isinstance(utilization, int | float) and utilization > 0:
        wanted = max(wanted, math.ceil(ceiling * utilization / float(target)))
    return {
        "workspace": obj["workspace"],
        "project": obj["project"],
        "name": name,
        "min_replicas": int(hpa.get("min_replicas") or 1),
        "max_replicas": min(wanted, 100),
        "target_cpu_percent": int(target),
    }


def _network_policy(case: _Case) -> Args | None:
    """The policy the suggestion names, when it is one of the project's policies the finding
    lists as evidence."""
    obj, finding, why = case.obj, case.finding, case.why
    listed = _evidence(finding, "network_policies")
    names = [str(n) for n in (listed or {}).get("names") or []]
    named = re.match(r"([a-z0-9][a-z0-9.-]*)", why)
    if not named or named[1] not in names or not obj.get("project"):
        return None
    return {"workspace": obj["workspace"], "project": obj["project"], "name": named[1]}


def _evidence(finding: dict[str, Any], kind: str) -> dict[str, Any] | None:
    return next(
        (e for e in finding.get("evidence") or [] if isinstance(e, dict) and e.get("kind") == kind),
        None,
    )


_SCALE_TO: Final = re.compile(r"\bat least (\d+) replicas\b")
_REPLICA_CAP: Final = 50  # a remedy never scales beyond this (the approver can go further)


def _scale(case: _Case) -> Args | None:
    """At least the replicas the finding asks for, or one fewer when it asks for fewer."""
    where = _workload(case)
    current = case.listed.get("replicas")
    if where is None:
        return None
    if match := _SCALE_TO.search(case.why):
        return {**where, "replicas": min(int(match[1]), _REPLICA_CAP)}
    if re.search(r"\bfewer replicas\b", case.why) and isinstance(current, int) and current > 1:
        return {**where, "replicas": current - 1}
    return None


def _deploy(case: _Case) -> Args | None:
    """The running image with its CPU limit halved (a lower limit, never under the request)
    or doubled (a higher limit); other deploys (a fixed image) need a person's choice."""
    where = _workload(case)
    resources = case.listed.get("resources") or {}
    limit, request = (
        _millicores(resources.get("cpu_limit")),
        _millicores(resources.get("cpu_request")),
    )
    if where is None or not case.listed.get("image") or limit is None:
        return None
    if re.search(r"\blower cpu_limit\b", case.why):
        new = max(limit // 2, request or 0)
    elif re.search(r"\bhigher cpu_limit\b", case.why):
        new = limit * 2
    else:
        return None
    if new == limit:
        return None
    keys = ("cpu_request", "memory_request", "memory_limit")
    spec = {k: resources[k] for k in keys if resources.get(k)}
    replicas = case.listed.get("replicas")
    return {
        **where,
        "image": case.listed["image"],
        **({"replicas": replicas} if isinstance(replicas, int) else {}),
        **spec,
        "cpu_limit": f"{new}m",
    }


def _millicores(quantity: Any) -> int | None:
    """'500m' → 500, '1.5' → 1500 (a CPU quantity as listed)."""
    text = str(quantity or "")
    if re.fullmatch(r"\d+m", text):
        return int(text[:-1])
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return round(float(text) * 1000)
    return None


_BUILDERS: Final[dict[str, Callable[[_Case], Args | None]]] = {
    "application.scale": _scale,
    "application.deploy": _deploy,
    "application.rollback": _workload,
    "application.restart": _workload,
    "pod.delete": _pod_delete,
    "certificate.renew": _certificate,
    "workspace.restart_dns": _dns,
    "node.drain": _node,
    "node.cordon": _node,
    "node.uncordon": _node,
    "project.update_quota": _quota,
    "application.set_hpa": _hpa,
    "network_policy.delete": _network_policy,
}
