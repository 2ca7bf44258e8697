"""`hexaops platform workspace|project …`: vClusters and their namespaces with quotas."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from hexaops.ui.cli.output import (
    AsUser,
    DryRun,
    IdempotencyKey,
    JsonFlag,
    Name,
    OrgOption,
    Workspace,
    acting,
    emit_json,
    emit_table,
    submit_action,
)

workspace_app = typer.Typer(help="Workspaces: one vCluster each.", no_args_is_help=True)
project_app = typer.Typer(help="Projects: one namespace with a quota each.", no_args_is_help=True)


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
    submit_action(as_user, "workspace.create", params, key, dry_run, as_json)


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
    submit_action(as_user, "workspace.delete", {"name": name, "org": org}, key, dry_run, as_json)


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
    submit_action(as_user, "project.create", params, key, dry_run, as_json)


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
    submit_action(as_user, "project.update_quota", params, key, dry_run, as_json)


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
    submit_action(
        as_user,
        "project.delete",
        {"workspace": workspace, "name": name, "org": org},
        key,
        dry_run,
        as_json,
    )
