"""Remediation: the top hypothesis' mitigation as typed platform operations, policy-checked.

`plan` maps a cause to the operations that remove it, with parameters read from the platform
(current replicas, quota, HPA, image) and, where it can be undone, the operation that undoes
it. `check` dry-runs a step as the automation principal and asks the organization's policy;
`execute` requests it under the incident's idempotency key — a retry or a resumed worker gets
the same platform action back, never a second run.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from hexaops.agents.approvals import AutomationPolicy
from hexaops.incidents.automation import automation, least_role
from hexaops.incidents.hypotheses import Hypothesis
from hexaops.platform.core import Platform
from hexaops.platform.domain import Principal, Role
from hexaops.platform.errors import PlatformError
from hexaops.platform.names import format_cpu, parse_cpu
from hexaops.platform.views import ActionView, ApplicationView


@dataclass
class Step:
    operation: str
    params: dict[str, Any]
    why: str
    undo: dict[str, Any] | None = None  # {"operation", "params"} that reverts it

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def of(cls, data: dict[str, Any]) -> Step:
        return cls(**data)

    def describe(self) -> str:
        shown = {k: v for k, v in self.params.items() if k not in ("org", "workspace")}
        return f"{self.operation} {shown}"


@dataclass
class Check:
    covered: bool
    why: str
    risk: str
    target: str
    error: str | None = None  # the platform refused the dry run


def plan(platform: Platform, h: Hypothesis, org: str, workspace: str) -> list[Step]:
    """The steps that remove the hypothesised cause (empty: nothing the platform can do)."""
    viewer = automation(platform.engine, org)
    base: dict[str, Any] = {"org": org, "workspace": workspace}
    project = h.details.get("project")
    app = _app(platform, viewer, org, workspace, project, h.workload) if project else None
    in_app = {**base, "project": project, "name": h.workload}
    cause = h.cause
    if cause in ("bad_config", "missing_image", "bad_probe", "bad_deploy"):
        return [Step("application.rollback", in_app, "back to the revision that worked")]
    if cause == "memory_leak" and app is not None:
        if app.revision > 1:
            return [Step("application.rollback", in_app, "back to the revision without the leak")]
        limit = app.resources.get("memory_limit") or app.resources.get("memory_request")
        return [
            _redeploy(
                app, in_app, "more memory while the leak is fixed", memory_limit=_double(str(limit))
            )
        ]
    if cause == "quota_exhausted" and project:
        quota = next(
            p for p in platform.projects(viewer, workspace, org) if p.name == project
        ).quota
        cpu = format_cpu(2 * parse_cpu(str(quota["cpu"])))
        undo = {
            "operation": "project.update_quota",
            "params": {
                **base,
                "name": project,
                "cpu": str(quota["cpu"]),
                "pods": int(quota["pods"]),
            },
        }
        return [
            Step(
                "project.update_quota",
                {**base, "name": project, "cpu": cpu, "pods": 2 * int(quota["pods"])},
                "room for the pods the quota keeps pending",
                undo,
            )
        ]
    if cause in ("node_memory_pressure", "node_disk_pressure"):
        return [
            Step(
                "node.drain",
                {**base, "node": h.workload},
                "move the pods off the node under pressure",
            )
        ]
    if cause == "hpa_at_max" and app is not None and app.autoscaling:
        hpa = app.autoscaling
        used = re.search(r"(\d+)% of requests", str(h.details.get("title", "")))
        demand = int(used.group(1)) if used else 100
        # Throttled pods hide part of the demand: never less than triple the old ceiling.
        wanted = max(
            math.ceil(hpa["max_replicas"] * demand / hpa["target_cpu_percent"]) + 1,
            3 * hpa["max_replicas"],
        )
        undo = {"operation": "application.set_hpa", "params": {**in_app, **hpa}}
        return [
            Step(
                "application.set_hpa",
                {
                    **in_app,
                    "min_replicas": hpa["min_replicas"],
                    "max_replicas": wanted,
                    "target_cpu_percent": hpa["target_cpu_percent"],
                },
                "let the HPA follow the load",
                undo,
            )
        ]
    if cause == "cpu_saturation" and app is not None:
        # Demand above the limit is invisible while throttled: scale by 4× (quota checks the rest).
        undo = {"operation": "application.scale", "params": {**in_app, "replicas": app.replicas}}
        return [
            Step(
                "application.scale",
                {**in_app, "replicas": 4 * app.replicas},
                "more CPU for the load",
                undo,
            )
        ]
    if cause == "noisy_neighbour" and app is not None:
        undo = {"operation": "application.scale", "params": {**in_app, "replicas": app.replicas}}
        return [
            Step(
                "application.scale",
                {**in_app, "replicas": max(1, app.replicas - 1)},
                "fewer CPU-burning pods on the shared nodes",
                undo,
            )
        ]
    if cause == "slow_dependency":
        return [Step("application.restart", in_app, "fresh pods with a fresh connection pool")]
    if cause == "certificate_expired":
        return [
            Step(
                "certificate.renew",
                {
                    **base,
                    "project": project,
                    "name": h.details.get("certificate", f"{h.workload}-tls"),
                },
                "re-issue the expired certificate",
            )
        ]
    if cause == "vulnerable_image" and app is not None:
        return [
            _redeploy(
                app, in_app, "the next patch release of the image", image=_next_patch(app.image)
            )
        ]
    if cause == "network_policy_blocking" and h.details.get("network_policy"):
        return [
            Step(
                "network_policy.delete",
                {**base, "project": project, "name": h.details["network_policy"]},
                "remove the NetworkPolicy that blocks the calls",
            )
        ]
    if cause == "disk_full" and h.details.get("pod"):
        return [
            Step(
                "pod.delete",
                {**base, "project": project, "application": h.workload, "pod": h.details["pod"]},
                "a replacement pod starts with an empty volume",
            )
        ]
    if cause == "dns_failure":
        return [
            Step(
                "workspace.restart_dns", {"org": org, "name": workspace}, "restart the hung CoreDNS"
            )
        ]
    return []


def _app(
    platform: Platform, viewer: Principal, org: str, workspace: str, project: str, name: str
) -> ApplicationView | None:
    return next(
        (a for a in platform.applications(viewer, workspace, project, org) if a.name == name), None
    )


def _redeploy(app: ApplicationView, where: dict[str, Any], why: str, **change: str) -> Step:
    spec = {
        "image": app.image,
        "cpu_request": app.resources["cpu_request"],
        "memory_request": app.resources["memory_request"],
        "cpu_limit": app.resources.get("cpu_limit"),
        "memory_limit": app.resources.get("memory_limit"),
    }
    params = {**where, **{k: v for k, v in {**spec, **change}.items() if v is not None}}
    return Step(
        "application.deploy", params, why, {"operation": "application.rollback", "params": where}
    )


def _double(quantity: str) -> str:
    number = re.match(r"(\d+)(.*)", quantity)
    return f"{2 * int(number.group(1))}{number.group(2)}" if number else quantity


def _next_patch(image: str) -> str:
    repo, _, tag = image.rpartition(":")
    parts = re.match(r"^(.*?)(\d+)$", tag)
    if not repo or parts is None:
        return image
    return f"{repo}:{parts.group(1)}{int(parts.group(2)) + 1}"


def check(
    platform: Platform,
    org: str,
    step: Step,
    policy: AutomationPolicy | None,
    now: datetime,
) -> Check:
    """Dry-run `step` as the automation principal and ask the organization's policy."""
    principal = automation(platform.engine, org, least_role(step.operation))
    try:
        view = platform.request(principal, step.operation, step.params, dry_run=True)
    except PlatformError as exc:  # a refused plan is a finding, not a crash
        return Check(False, f"the platform refuses it: {exc.message}", "unknown", "", exc.message)
    if policy is None:
        return Check(
            False, f"{org} has no automation policy: a person decides", view.risk, view.target
        )

    def recent() -> list[ActionView]:
        return platform.list_actions(principal, org, limit=200)

    def application() -> dict[str, Any] | None:
        parts = view.target.split("/")
        if len(parts) != 4:
            return None
        found = _app(platform, principal, org, parts[1], parts[2], parts[3])
        return None if found is None else found.model_dump()

    covered, why = policy.covers(view, step.params, recent, application, now)
    return Check(covered, why, view.risk, view.target)


def execute(
    platform: Platform, org: str, step: Step, key: str, approver: Principal | None, note: str
) -> ActionView:
    """Request `step` under `key` as the automation principal; a pending (high-risk) action is
    approved by `approver` (a person) or, when the policy covered it, by the automation
    principal itself. The same key returns the same action: nothing runs twice."""
    principal = automation(platform.engine, org, least_role(step.operation))
    view = platform.request(principal, step.operation, step.params, idempotency_key=key)
    if view.status == "pending" and view.id is not None:
        decider = approver or automation(platform.engine, org, Role.ADMIN)
        view = platform.approve(decider, view.id, note)
    elif view.status in ("approved", "executing") and view.id is not None:
        view = platform.wait_for(principal, view.id)
    return view
