"""`hexaops platform …`: organizations, workspaces, projects, applications, actions, audit."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from hexaops.platform.domain import ActionStatus
from hexaops.platform.seed import seed
from hexaops.platform.views import OrganizationOverview
from hexaops.ui.cli.output import (
    AsUser,
    DryRun,
    IdempotencyKey,
    JsonFlag,
    OrgOption,
    acting,
    console,
    emit_action,
    emit_json,
    emit_table,
    platform_session,
)

app = typer.Typer(
    help="The deterministic platform core: every change is an audited action.", no_args_is_help=True
)
org_app = typer.Typer(help="Organizations you belong to.", no_args_is_help=True)
member_app = typer.Typer(help="Members of an organization and their roles.", no_args_is_help=True)
workspace_app = typer.Typer(help="Workspaces: one vCluster each.", no_args_is_help=True)
project_app = typer.Typer(help="Projects: one namespace with a quota each.", no_args_is_help=True)
application_app = typer.Typer(help="Applications (Deployments) in a project.", no_args_is_help=True)
function_app = typer.Typer(help="Serverless functions in a project.", no_args_is_help=True)
actions_app = typer.Typer(
    help="Requested changes: plans, approvals, results.", no_args_is_help=True
)
for sub, name in (
    (org_app, "org"),
    (member_app, "member"),
    (workspace_app, "workspace"),
    (project_app, "project"),
    (application_app, "app"),
    (function_app, "function"),
    (actions_app, "actions"),
):
    app.add_typer(sub, name=name)

Workspace = Annotated[str, typer.Option("--workspace", "-w", help="Workspace name.")]
Project = Annotated[str, typer.Option("--project", "-p", help="Project name.")]
Name = Annotated[str, typer.Option("--name", "-n", help="Name (DNS-1123: lowercase, digits, '-').")]


def _submit(
    email: str, kind: str, params: dict[str, Any], key: str | None, dry_run: bool, as_json: bool
) -> None:
    with acting(email) as (platform, principal):
        view = platform.request(principal, kind, params, idempotency_key=key, dry_run=dry_run)
    emit_action(view, as_json)


# -- seed / status ---------------------------------------------------------------------


@app.command("seed")
def seed_command(as_json: JsonFlag = False) -> None:
    """Create the demo organizations acme and globex with their workspaces (idempotent)."""
    with platform_session() as platform:
        report = seed(platform)
    if as_json:
        emit_json({"created": report.created, "existing": report.existing})
    else:
        console.print(
            f"seeded: {len(report.created)} created, {len(report.existing)} already present"
        )
        for line in report.created:
            console.print(f"  + {line}")


@app.command("status")
def status_command(as_user: AsUser, as_json: JsonFlag = False) -> None:
    """Everything you can see: organizations, workspaces, projects, applications."""
    with acting(as_user) as (platform, principal):
        tree = platform.overview(principal)
    if as_json:
        emit_json(tree)
        return
    print_overview(tree)


def print_overview(tree: list[OrganizationOverview]) -> None:
    for org_node in tree:
        org = org_node.organization
        console.print(f"[bold]{org.slug}[/bold] ({org.display_name}) — you are {org.role}")
        for ws_node in org_node.workspaces:
            ws = ws_node.workspace
            console.print(
                f"  workspace [bold]{ws.name}[/bold] {ws.plan} {ws.status} k8s {ws.kubernetes_version}"
                f" — allocated {ws.allocated['cpu']} cpu / {ws.allocated['memory']} of "
                f"{ws.capacity['cpu']} / {ws.capacity['memory']}",
                soft_wrap=True,
            )
            for p_node in ws_node.projects:
                p = p_node.project
                console.print(
                    f"    project [bold]{p.name}[/bold] quota {p.quota['cpu']} cpu / {p.quota['memory']}"
                    f" / {p.quota['pods']} pods, used {p.used['cpu']} / {p.used['memory']} / {p.used['pods']}",
                    soft_wrap=True,
                )
                for a in p_node.applications:
                    console.print(
                        f"      {a.name:<10} {a.image}  ×{a.replicas}  rev {a.revision}  {a.status}",
                        soft_wrap=True,
                    )


# -- organizations and members ---------------------------------------------------------


@org_app.command("list")
def org_list(as_user: AsUser, as_json: JsonFlag = False) -> None:
    """Organizations you belong to, with your role."""
    with acting(as_user) as (platform, principal):
        orgs = platform.organizations(principal)
    if as_json:
        emit_json(orgs)
    else:
        emit_table(
            orgs,
            [
                ("org", lambda o: o.slug),
                ("name", lambda o: o.display_name),
                ("role", lambda o: o.role),
            ],
            "organizations",
        )


@member_app.command("list")
def member_list(
    org: Annotated[str, typer.Option("--org")], as_user: AsUser, as_json: JsonFlag = False
) -> None:
    """Members of an organization."""
    with acting(as_user) as (platform, principal):
        rows = platform.members(principal, org)
    if as_json:
        emit_json(rows)
    else:
        emit_table(rows, [("email", lambda m: m.email), ("role", lambda m: m.role)], "members")


@member_app.command("add")
def member_add(
    org: Annotated[str, typer.Option("--org")],
    email: Annotated[str, typer.Option("--email")],
    role: Annotated[str, typer.Option("--role", help="owner, admin, developer or viewer")],
    as_user: AsUser,
    key: IdempotencyKey = None,
    dry_run: DryRun = False,
    as_json: JsonFlag = False,
) -> None:
    """Add a person to an organization with a role."""
    _submit(
        as_user, "member.add", {"org": org, "email": email, "role": role}, key, dry_run, as_json
    )


@member_app.command("remove")
def member_remove(
    org: Annotated[str, typer.Option("--org")],
    email: Annotated[str, typer.Option("--email")],
    as_user: AsUser,
    key: IdempotencyKey = None,
    dry_run: DryRun = False,
    as_json: JsonFlag = False,
) -> None:
    """Remove a person from an organization (needs approval)."""
    _submit(as_user, "member.remove", {"org": org, "email": email}, key, dry_run, as_json)


# -- workspaces ------------------------------------------------------------------------


@workspace_app.command("create")
def workspace_create(
    org: Annotated[str, typer.Option("--org")],
    name: Name,
    as_user: AsUser,
    plan: Annotated[str, typer.Option("--plan", help="shared or dedicated")] = "shared",
    kubernetes_version: Annotated[str, typer.Option("--kubernetes-version")] = "1.34",
    nodes: Annotated[
        int | None, typer.Option("--nodes", help="Dedicated node pool size.", min=1, max=50)
    ] = None,
    key: IdempotencyKey = None,
    dry_run: DryRun = False,
    as_json: JsonFlag = False,
) -> None:
    """Provision a workspace (a vCluster) in an organization."""
    params: dict[str, Any] = {
        "org": org,
        "name": name,
        "plan_name": plan,
        "kubernetes_version": kubernetes_version,
    }
    if nodes is not None:
        params["node_pool"] = {"nodes": nodes}
    _submit(as_user, "workspace.create", params, key, dry_run, as_json)


@workspace_app.command("list")
def workspace_list(as_user: AsUser, org: OrgOption = None, as_json: JsonFlag = False) -> None:
    """Workspaces of your organizations."""
    with acting(as_user) as (platform, principal):
        rows = platform.workspaces(principal, org)
    if as_json:
        emit_json(rows)
    else:
        emit_table(
            rows,
            [
                ("org", lambda w: w.org),
                ("workspace", lambda w: w.name),
                ("plan", lambda w: w.plan),
                ("status", lambda w: w.status),
                ("k8s", lambda w: w.kubernetes_version),
                ("capacity", lambda w: w.capacity),
                ("allocated", lambda w: w.allocated),
            ],
            "workspaces",
        )


@workspace_app.command("delete")
def workspace_delete(
    name: Name,
    as_user: AsUser,
    org: OrgOption = None,
    key: IdempotencyKey = None,
    dry_run: DryRun = False,
    as_json: JsonFlag = False,
) -> None:
    """Delete a workspace with all its projects (needs approval)."""
    _submit(as_user, "workspace.delete", {"name": name, "org": org}, key, dry_run, as_json)


# -- projects --------------------------------------------------------------------------


@project_app.command("create")
def project_create(
    workspace: Workspace,
    name: Name,
    as_user: AsUser,
    cpu: Annotated[str, typer.Option("--cpu", help="CPU quota, e.g. 4 or 500m.")] = "2",
    memory: Annotated[str, typer.Option("--memory", help="Memory quota, e.g. 8Gi.")] = "4Gi",
    pods: Annotated[int, typer.Option("--pods", help="Pod quota.")] = 20,
    org: OrgOption = None,
    key: IdempotencyKey = None,
    dry_run: DryRun = False,
    as_json: JsonFlag = False,
) -> None:
    """Create a project (a namespace with a quota) in a workspace."""
    params = {
        "workspace": workspace,
        "name": name,
        "cpu": cpu,
        "memory": memory,
        "pods": pods,
        "org": org,
    }
    _submit(as_user, "project.create", params, key, dry_run, as_json)


@project_app.command("list")
def project_list(
    workspace: Workspace, as_user: AsUser, org: OrgOption = None, as_json: JsonFlag = False
) -> None:
    """Projects of a workspace with quota and usage."""
    with acting(as_user) as (platform, principal):
        rows = platform.projects(principal, workspace, org)
    if as_json:
        emit_json(rows)
    else:
        emit_table(
            rows,
            [
                ("project", lambda p: p.name),
                ("status", lambda p: p.status),
                ("quota", lambda p: p.quota),
                ("used", lambda p: p.used),
            ],
            "projects",
        )


@project_app.command("update")
def project_update(
    workspace: Workspace,
    name: Name,
    as_user: AsUser,
    cpu: Annotated[str | None, typer.Option("--cpu")] = None,
    memory: Annotated[str | None, typer.Option("--memory")] = None,
    pods: Annotated[int | None, typer.Option("--pods")] = None,
    org: OrgOption = None,
    key: IdempotencyKey = None,
    dry_run: DryRun = False,
    as_json: JsonFlag = False,
) -> None:
    """Change a project's quota."""
    if cpu is None and memory is None and pods is None:
        raise typer.BadParameter("give at least one of --cpu, --memory, --pods")
    params = {
        "workspace": workspace,
        "name": name,
        "cpu": cpu,
        "memory": memory,
        "pods": pods,
        "org": org,
    }
    _submit(as_user, "project.update_quota", params, key, dry_run, as_json)


@project_app.command("delete")
def project_delete(
    workspace: Workspace,
    name: Name,
    as_user: AsUser,
    org: OrgOption = None,
    key: IdempotencyKey = None,
    dry_run: DryRun = False,
    as_json: JsonFlag = False,
) -> None:
    """Delete a project with its applications (needs approval)."""
    _submit(
        as_user,
        "project.delete",
        {"workspace": workspace, "name": name, "org": org},
        key,
        dry_run,
        as_json,
    )


# -- applications ----------------------------------------------------------------------


@application_app.command("deploy")
def app_deploy(
    workspace: Workspace,
    project: Project,
    name: Name,
    as_user: AsUser,
    image: Annotated[str, typer.Option("--image", help="e.g. ghcr.io/acme/checkout:1.4.2")],
    replicas: Annotated[int | None, typer.Option("--replicas")] = None,
    cpu_request: Annotated[str, typer.Option("--cpu-request")] = "100m",
    memory_request: Annotated[str, typer.Option("--memory-request")] = "128Mi",
    cpu_limit: Annotated[str | None, typer.Option("--cpu-limit")] = None,
    memory_limit: Annotated[str | None, typer.Option("--memory-limit")] = None,
    org: OrgOption = None,
    key: IdempotencyKey = None,
    dry_run: DryRun = False,
    as_json: JsonFlag = False,
) -> None:
    """Deploy an application, or roll out a new revision of it."""
    params = {
        "workspace": workspace,
        "project": project,
        "name": name,
        "image": image,
        "replicas": replicas,
        "cpu_request": cpu_request,
        "memory_request": memory_request,
        "cpu_limit": cpu_limit,
        "memory_limit": memory_limit,
        "org": org,
    }
    _submit(as_user, "application.deploy", params, key, dry_run, as_json)


@application_app.command("list")
def app_list(
    workspace: Workspace,
    project: Project,
    as_user: AsUser,
    org: OrgOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Applications of a project."""
    with acting(as_user) as (platform, principal):
        rows = platform.applications(principal, workspace, project, org)
    if as_json:
        emit_json(rows)
    else:
        emit_table(
            rows,
            [
                ("app", lambda a: a.name),
                ("image", lambda a: a.image),
                ("replicas", lambda a: a.replicas),
                ("rev", lambda a: a.revision),
                ("status", lambda a: a.status),
                ("autoscaling", lambda a: a.autoscaling),
            ],
            "applications",
        )


@application_app.command("scale")
def app_scale(
    workspace: Workspace,
    project: Project,
    name: Name,
    as_user: AsUser,
    replicas: Annotated[int, typer.Option("--replicas")],
    org: OrgOption = None,
    key: IdempotencyKey = None,
    dry_run: DryRun = False,
    as_json: JsonFlag = False,
) -> None:
    """Set the replica count (scaling to 0 needs approval)."""
    params = {
        "workspace": workspace,
        "project": project,
        "name": name,
        "replicas": replicas,
        "org": org,
    }
    _submit(as_user, "application.scale", params, key, dry_run, as_json)


@application_app.command("restart")
def app_restart(
    workspace: Workspace,
    project: Project,
    name: Name,
    as_user: AsUser,
    org: OrgOption = None,
    key: IdempotencyKey = None,
    dry_run: DryRun = False,
    as_json: JsonFlag = False,
) -> None:
    """Rolling restart of an application's pods."""
    params = {"workspace": workspace, "project": project, "name": name, "org": org}
    _submit(as_user, "application.restart", params, key, dry_run, as_json)


@application_app.command("rollback")
def app_rollback(
    workspace: Workspace,
    project: Project,
    name: Name,
    as_user: AsUser,
    to_revision: Annotated[int | None, typer.Option("--to-revision")] = None,
    org: OrgOption = None,
    key: IdempotencyKey = None,
    dry_run: DryRun = False,
    as_json: JsonFlag = False,
) -> None:
    """Roll back to the previous (or a given) revision."""
    params = {
        "workspace": workspace,
        "project": project,
        "name": name,
        "to_revision": to_revision,
        "org": org,
    }
    _submit(as_user, "application.rollback", params, key, dry_run, as_json)


@application_app.command("autoscale")
def app_autoscale(
    workspace: Workspace,
    project: Project,
    name: Name,
    as_user: AsUser,
    min_replicas: Annotated[int, typer.Option("--min")],
    max_replicas: Annotated[int, typer.Option("--max")],
    cpu_target: Annotated[
        int, typer.Option("--cpu-target", help="Target CPU utilization, percent.")
    ] = 70,
    org: OrgOption = None,
    key: IdempotencyKey = None,
    dry_run: DryRun = False,
    as_json: JsonFlag = False,
) -> None:
    """Set the application's HorizontalPodAutoscaler."""
    params = {
        "workspace": workspace,
        "project": project,
        "name": name,
        "min_replicas": min_replicas,
        "max_replicas": max_replicas,
        "target_cpu_percent": cpu_target,
        "org": org,
    }
    _submit(as_user, "application.set_hpa", params, key, dry_run, as_json)


@application_app.command("delete")
def app_delete(
    workspace: Workspace,
    project: Project,
    name: Name,
    as_user: AsUser,
    org: OrgOption = None,
    key: IdempotencyKey = None,
    dry_run: DryRun = False,
    as_json: JsonFlag = False,
) -> None:
    """Delete an application (needs approval)."""
    params = {"workspace": workspace, "project": project, "name": name, "org": org}
    _submit(as_user, "application.delete", params, key, dry_run, as_json)


# -- functions -------------------------------------------------------------------------


@function_app.command("deploy")
def function_deploy(
    workspace: Workspace,
    project: Project,
    name: Name,
    as_user: AsUser,
    runtime: Annotated[
        str, typer.Option("--runtime", help="python3.12 or nodejs22")
    ] = "python3.12",
    image: Annotated[str | None, typer.Option("--image")] = None,
    memory: Annotated[str, typer.Option("--memory")] = "256Mi",
    org: OrgOption = None,
    key: IdempotencyKey = None,
    dry_run: DryRun = False,
    as_json: JsonFlag = False,
) -> None:
    """Deploy or update a function."""
    params = {
        "workspace": workspace,
        "project": project,
        "name": name,
        "runtime": runtime,
        "image": image,
        "memory": memory,
        "org": org,
    }
    _submit(as_user, "function.deploy", params, key, dry_run, as_json)


@function_app.command("list")
def function_list(
    workspace: Workspace,
    project: Project,
    as_user: AsUser,
    org: OrgOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Functions of a project."""
    with acting(as_user) as (platform, principal):
        rows = platform.functions(principal, workspace, project, org)
    if as_json:
        emit_json(rows)
    else:
        emit_table(
            rows,
            [
                ("function", lambda f: f.name),
                ("runtime", lambda f: f.runtime),
                ("memory", lambda f: f.memory),
                ("scaling", lambda f: f.scaling),
            ],
            "functions",
        )


@function_app.command("scale")
def function_scale(
    workspace: Workspace,
    project: Project,
    name: Name,
    as_user: AsUser,
    concurrency: Annotated[int, typer.Option("--concurrency")],
    max_instances: Annotated[int, typer.Option("--max-instances")] = 10,
    org: OrgOption = None,
    key: IdempotencyKey = None,
    dry_run: DryRun = False,
    as_json: JsonFlag = False,
) -> None:
    """Set a function's concurrency per instance and its instance cap."""
    params = {
        "workspace": workspace,
        "project": project,
        "name": name,
        "concurrency": concurrency,
        "max_instances": max_instances,
        "org": org,
    }
    _submit(as_user, "function.set_scaling", params, key, dry_run, as_json)


@function_app.command("delete")
def function_delete(
    workspace: Workspace,
    project: Project,
    name: Name,
    as_user: AsUser,
    org: OrgOption = None,
    key: IdempotencyKey = None,
    dry_run: DryRun = False,
    as_json: JsonFlag = False,
) -> None:
    """Delete a function (needs approval)."""
    params = {"workspace": workspace, "project": project, "name": name, "org": org}
    _submit(as_user, "function.delete", params, key, dry_run, as_json)


# -- actions and audit -----------------------------------------------------------------


@actions_app.command("list")
def actions_list(
    as_user: AsUser,
    org: OrgOption = None,
    status: Annotated[
        str | None, typer.Option("--status", help="pending, succeeded, failed, …")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 50,
    as_json: JsonFlag = False,
) -> None:
    """Recent actions of your organizations, newest first."""
    if status is not None and status not in {s.value for s in ActionStatus}:
        raise typer.BadParameter(
            f"choose one of {', '.join(s.value for s in ActionStatus)}", param_hint="--status"
        )
    with acting(as_user) as (platform, principal):
        rows = platform.list_actions(principal, org, status, limit)
    if as_json:
        emit_json(rows)
    else:
        emit_table(
            rows,
            [
                ("id", lambda a: a.id),
                ("operation", lambda a: a.operation),
                ("target", lambda a: a.target),
                ("status", lambda a: a.status),
                ("by", lambda a: a.requested_by),
                ("approved by", lambda a: a.approved_by),
            ],
            "actions",
        )


@actions_app.command("show")
def actions_show(action_id: int, as_user: AsUser, as_json: JsonFlag = False) -> None:
    """One action with its plan and result."""
    with acting(as_user) as (platform, principal):
        view = platform.action(principal, action_id)
    emit_action(view, as_json)


@actions_app.command("approve")
def actions_approve(
    action_id: int,
    as_user: AsUser,
    note: Annotated[str, typer.Option("--note")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Approve a pending action; it runs at once."""
    with acting(as_user) as (platform, principal):
        view = platform.approve(principal, action_id, note)
    emit_action(view, as_json)


@actions_app.command("reject")
def actions_reject(
    action_id: int,
    as_user: AsUser,
    note: Annotated[str, typer.Option("--note")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Reject a pending action; nothing runs."""
    with acting(as_user) as (platform, principal):
        view = platform.reject(principal, action_id, note)
    emit_action(view, as_json)


@app.command("audit")
def audit_command(
    org: Annotated[str, typer.Option("--org")],
    as_user: AsUser,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10000)] = 100,
    as_json: JsonFlag = False,
) -> None:
    """The audit log of an organization, newest first (owners and admins)."""
    with acting(as_user) as (platform, principal):
        rows = platform.audit(principal, org, limit)
    if as_json:
        emit_json(rows)
    else:
        emit_table(
            rows,
            [
                ("at", lambda e: e.at.strftime("%Y-%m-%d %H:%M:%S")),
                ("actor", lambda e: e.actor),
                ("event", lambda e: e.event),
                ("target", lambda e: e.target),
                ("action", lambda e: e.action_id),
                ("approved by", lambda e: e.approved_by),
            ],
            "audit events",
        )
