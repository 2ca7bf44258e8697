"""Platform tools: the platform core's reads and operations, as the principal.

Reads answer from the same queries as the CLI. Writes are one tool per platform operation, built
from the operation's own parameter model: they request an action through the action pipeline —
authorized as the principal, planned, and waiting for an approver where policy says so. A write
tool never changes the cluster itself.
"""

from __future__ import annotations

import inspect
from copy import copy
from typing import Any

from pydantic import Field, create_model

from hexaops.platform.domain import Risk
from hexaops.platform.operations import OPERATIONS, Operation, build_operation
from hexaops.platform.views import ActionView
from hexaops.tools.args import OrgArg, ToolArgs
from hexaops.tools.context import ToolContext
from hexaops.tools.contract import Evidence, Outcome, Tool, register_tool, tool


def _dump(views: list[Any]) -> list[dict[str, Any]]:
    return [v.model_dump(mode="json") for v in views]


# -- reads ------------------------------------------------------------------------------------


class NoArgs(ToolArgs):
    pass


@tool("platform_organizations", "platform")
def list_organizations(ctx: ToolContext, args: NoArgs) -> Outcome:
    """List the organizations you belong to and your role in each."""
    orgs = ctx.platform.organizations(ctx.principal)
    return Outcome(
        "; ".join(f"{o.slug} ({o.role})" for o in orgs) or "you belong to no organization",
        _dump(orgs),
        [Evidence(kind="object", backend="platform", objects=[o.slug for o in orgs])],
        empty=not orgs,
    )


@tool("platform_workspaces", "platform")
def list_workspaces(ctx: ToolContext, args: OrgArg) -> Outcome:
    """List the workspaces (vClusters) of an organization with plan, status, capacity and what
    is allocated to projects."""
    org = ctx.organization(args.org)
    views = ctx.platform.workspaces(ctx.principal, org)
    summary = f"{len(views)} workspaces in {org}: " + ", ".join(
        f"{v.name} ({v.plan}, {v.status})" for v in views
    )
    return Outcome(
        summary if views else f"{org} has no workspaces",
        _dump(views),
        [Evidence(kind="object", backend="platform", objects=[f"{org}/{v.name}" for v in views])],
        empty=not views,
    )


class WorkspaceArgs(OrgArg):
    workspace: str = Field(description="Workspace name.")


@tool("platform_projects", "platform")
def list_projects(ctx: ToolContext, args: WorkspaceArgs) -> Outcome:
    """List the projects (namespaces) of a workspace with their quotas and what they use."""
    ws = ctx.workspace(args.workspace, args.org)
    views = ctx.platform.projects(ctx.principal, ws.name, ws.org)
    summary = f"{len(views)} projects in {ws.org}/{ws.name}: " + ", ".join(
        f"{p.name} (cpu {p.used.get('cpu')}/{p.quota.get('cpu')}, "
        f"memory {p.used.get('memory')}/{p.quota.get('memory')})"
        for p in views
    )
    return Outcome(
        summary if views else f"workspace {ws.name} has no projects",
        _dump(views),
        [
            Evidence(
                kind="object",
                backend="platform",
                objects=[f"{ws.org}/{ws.name}/{p.name}" for p in views],
            )
        ],
        empty=not views,
    )


class ProjectArgs(WorkspaceArgs):
    project: str = Field(description="Project (namespace) name.")


@tool("platform_workloads", "platform")
def list_workloads(ctx: ToolContext, args: ProjectArgs) -> Outcome:
    """List the applications (Deployments: image, replicas, revision, resources, autoscaling)
    and functions of a project."""
    project = ctx.project(args.workspace, args.project, args.org)
    where = (project.org, project.workspace, project.name)
    apps = ctx.platform.applications(ctx.principal, project.workspace, project.name, project.org)
    functions = ctx.platform.functions(ctx.principal, project.workspace, project.name, project.org)
    parts = [f"{a.name} {a.image} ×{a.replicas} rev {a.revision} ({a.status})" for a in apps]
    parts += [f"function {f.name} {f.runtime} ({f.status})" for f in functions]
    prefix = "/".join(where)
    return Outcome(
        f"{prefix}: " + "; ".join(parts) if parts else f"{prefix} has no workloads",
        {"applications": _dump(apps), "functions": _dump(functions)},
        [
            Evidence(
                kind="object",
                backend="platform",
                objects=[f"{prefix}/Deployment/{a.name}" for a in apps]
                + [f"{prefix}/Function/{f.name}" for f in functions],
            )
        ],
        empty=not parts,
    )


@tool("platform_members", "platform")
def list_members(ctx: ToolContext, args: OrgArg) -> Outcome:
    """List the members of an organization and their roles (owner, admin, developer, viewer)."""
    org = ctx.organization(args.org)
    members = ctx.platform.members(ctx.principal, org)
    return Outcome(
        f"{len(members)} members of {org}: " + ", ".join(f"{m.email} ({m.role})" for m in members),
        _dump(members),
        [Evidence(kind="object", backend="platform", objects=[org])],
    )


class ActionsArgs(OrgArg):
    status: str | None = Field(
        default=None,
        description="Only actions in this status: pending, approved, executing, succeeded, "
        "failed, rejected.",
    )
    limit: int = Field(default=20, ge=1, le=200, description="Most actions to return.")


def _action_line(view: ActionView) -> str:
    return f"#{view.id} {view.operation} {view.target} {view.status}"


@tool("platform_actions", "platform")
def list_actions(ctx: ToolContext, args: ActionsArgs) -> Outcome:
    """List platform actions (requested changes), newest first: what was asked, by whom, and
    whether it waits for approval, ran, or failed."""
    org = ctx.organization(args.org)
    views = ctx.platform.list_actions(ctx.principal, org, args.status, args.limit)
    return Outcome(
        f"{len(views)} actions in {org}: " + "; ".join(_action_line(v) for v in views)
        if views
        else f"no {args.status or ''} actions in {org}".replace("  ", " "),
        _dump(views),
        [Evidence(kind="action", backend="platform", objects=[f"action/{v.id}" for v in views])],
        empty=not views,
    )


class ActionArgs(ToolArgs):
    action_id: int = Field(ge=1, description="The action's number.")


@tool("platform_action", "platform")
def show_action(ctx: ToolContext, args: ActionArgs) -> Outcome:
    """Show one platform action: its plan (the dry-run diff), status, requester, approver,
    result or error."""
    view = ctx.platform.action(ctx.principal, args.action_id)
    return Outcome(
        f"{_action_line(view)}: {view.summary}" + (f" — error: {view.error}" if view.error else ""),
        view.model_dump(mode="json"),
        [Evidence(kind="action", backend="platform", objects=[f"action/{view.id}"])],
    )


class ChangesArgs(OrgArg):
    workspace: str | None = Field(
        default=None, description="Only changes to this workspace (and what is in it)."
    )
    limit: int = Field(default=30, ge=1, le=200, description="Most changes to return.")


@tool("platform_recent_changes", "platform")
def recent_changes(ctx: ToolContext, args: ChangesArgs) -> Outcome:
    """List recent changes carried out on the platform, newest first — deploys, scaling,
    quota and configuration changes, restarts, deletions — to correlate a problem with what
    changed before it."""
    org = ctx.organization(args.org)
    prefix = f"{org}/{ctx.workspace(args.workspace, org).name}" if args.workspace else org
    changes = [
        v
        for v in ctx.platform.list_actions(ctx.principal, org, limit=500)
        if v.status in ("succeeded", "failed") and (v.target + "/").startswith(prefix + "/")
    ][: args.limit]
    data = [
        {
            "at": v.updated_at.isoformat() if v.updated_at else None,
            "action_id": v.id,
            "operation": v.operation,
            "target": v.target,
            "outcome": v.status,
            "change": v.summary,
            "requested_by": v.requested_by,
            "approved_by": v.approved_by,
        }
        for v in changes
    ]
    return Outcome(
        f"{len(changes)} recent changes in {prefix}: "
        + "; ".join(f"#{v.id} {v.operation} {v.target} ({v.status})" for v in changes[:5])
        if changes
        else f"no changes carried out in {prefix} yet",
        data,
        [
            Evidence(
                kind="action",
                backend="platform",
                query=f"actions carried out in {prefix}",
                objects=[f"action/{v.id}" for v in changes],
            )
        ],
        empty=not changes,
    )


class AuditArgs(OrgArg):
    limit: int = Field(default=50, ge=1, le=500, description="Most audit events to return.")


@tool("platform_audit", "platform")
def audit_log(ctx: ToolContext, args: AuditArgs) -> Outcome:
    """Read the organization's audit log, newest first: every state change of every action
    (requested, approved, rejected, executed, failed) with who did it. Owners and admins only."""
    org = ctx.organization(args.org)
    events = ctx.platform.audit(ctx.principal, org, limit=args.limit)
    data = [
        {
            "at": e.at.isoformat(),
            "event": e.event,
            "operation": e.operation,
            "target": e.target,
            "actor": e.actor,
            "action_id": e.action_id,
            "approved_by": e.approved_by,
        }
        for e in events
    ]
    return Outcome(
        f"{len(events)} audit events in {org}, newest: "
        + "; ".join(f"{e.actor} {e.event} {e.operation} {e.target}" for e in events[:3])
        if events
        else f"the audit log of {org} is empty",
        data,
        [Evidence(kind="query", backend="platform", query=f"audit log of {org}")],
        empty=not events,
    )


# -- writes: one tool per operation ------------------------------------------------------------

_APPROVAL = {
    Risk.LOW: "Low risk: runs at once when the policy allows it for your role.",
    Risk.HIGH: "High risk: waits for an owner or admin to approve before anything changes.",
}


# What the operations' common parameters mean, for the model (operations name them uniformly).
_FIELD_HELP = {
    "org": "Organization slug; default: your only organization.",
    "workspace": "Workspace name.",
    "project": "Project (namespace) name.",
    "name": "Name of the object (DNS-1123: lowercase letters, digits, '-').",
    "application": "Application (Deployment) name.",
    "replicas": "Number of replicas.",
    "image": "Container image, e.g. ghcr.io/acme/checkout:1.4.3.",
    "cpu_request": "CPU request per replica, e.g. 250m or 1.",
    "memory_request": "Memory request per replica, e.g. 256Mi.",
    "cpu_limit": "CPU limit per replica, e.g. 500m.",
    "memory_limit": "Memory limit per replica, e.g. 512Mi.",
    "cpu": "CPU quota of the project, e.g. 4.",
    "memory": "Memory quota (or a function's memory), e.g. 8Gi.",
    "pods": "Most pods the project may run.",
    "to_revision": "Revision to roll back to; default: the previous one.",
    "min_replicas": "Fewest replicas the autoscaler keeps.",
    "max_replicas": "Most replicas the autoscaler may run.",
    "target_cpu_percent": "CPU utilisation (% of request) the autoscaler aims for.",
    "concurrency": "Concurrent requests one function instance takes.",
    "max_instances": "Most function instances.",
    "runtime": "Function runtime, e.g. python3.12 or node22.",
    "email": "The person's email address.",
    "role": "owner, admin, developer or viewer.",
    "pod": "Pod name.",
    "node": "Node name (of the workspace's dedicated pool).",
    "plan_name": "Workspace plan: shared or dedicated.",
    "kubernetes_version": "Kubernetes version of the vCluster, e.g. 1.34.",
    "node_pool": "Dedicated plan only: nodes, cpu_per_node, memory_per_node.",
}


def _operation_tool(kind: str, operation: type[Operation]) -> Tool[Any]:
    fields: dict[str, Any] = {}
    for name, info in operation.model_fields.items():
        described = copy(info)
        if not described.description and name in _FIELD_HELP:
            described.description = _FIELD_HELP[name]
        fields[name] = (info.annotation, described)
    fields["dry_run"] = (
        bool,
        Field(default=False, description="Only plan: show what would change, change nothing."),
    )
    args_model = create_model(f"{operation.__name__}Args", __base__=ToolArgs, **fields)

    def request(ctx: ToolContext, args: ToolArgs) -> Outcome:
        params = args.model_dump(exclude={"dry_run"}, exclude_none=True)
        view = ctx.platform.submit(
            ctx.principal,
            build_operation(kind, params),
            idempotency_key=ctx.action_key(),
            dry_run=bool(getattr(args, "dry_run", False)),
        )
        return Outcome(_action_outcome(view), view.model_dump(mode="json"), [_evidence(view)])

    description = (
        f"{inspect.cleandoc(operation.__doc__ or kind)}\n\n"
        f"Requests the platform action `{kind}`. {_APPROVAL[operation.risk]}"
    )
    name = "platform_" + kind.replace(".", "_")
    return Tool(name, "platform", description, args_model, request, writes=True)


def _action_outcome(view: ActionView) -> str:
    if view.id is None:
        return f"dry run of {view.operation} on {view.target}: {view.summary}"
    status = {
        "pending": "waits for approval by an owner or admin",
        "succeeded": "done",
        "failed": f"failed: {view.error}",
        "rejected": "was rejected",
    }.get(view.status, view.status)
    replay = " (an earlier identical request)" if view.replayed else ""
    return f"action #{view.id}{replay} {view.operation} on {view.target} {status}: {view.summary}"


def _evidence(view: ActionView) -> Evidence:
    objects = [view.target] if view.id is None else [f"action/{view.id}", view.target]
    return Evidence(kind="action", backend="platform", objects=objects)


for _kind, _operation in OPERATIONS.items():
    register_tool(_operation_tool(_kind, _operation))
