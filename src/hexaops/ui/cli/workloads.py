"""`hexaops platform app|function …`: applications (Deployments) and serverless functions."""

from __future__ import annotations

from typing import Annotated

import typer

from hexaops.ui.cli.output import (
    AsUser,
    DryRun,
    IdempotencyKey,
    JsonFlag,
    Name,
    OrgOption,
    Project,
    Workspace,
    acting,
    emit_json,
    emit_table,
    submit_action,
)

application_app = typer.Typer(help="Applications (Deployments) in a project.", no_args_is_help=True)
function_app = typer.Typer(help="Serverless functions in a project.", no_args_is_help=True)


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
    submit_action(as_user, "application.deploy", params, key, dry_run, as_json)


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
    submit_action(as_user, "application.scale", params, key, dry_run, as_json)


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
    submit_action(as_user, "application.restart", params, key, dry_run, as_json)


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
    submit_action(as_user, "application.rollback", params, key, dry_run, as_json)


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
    submit_action(as_user, "application.set_hpa", params, key, dry_run, as_json)


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
    submit_action(as_user, "application.delete", params, key, dry_run, as_json)


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
    submit_action(as_user, "function.deploy", params, key, dry_run, as_json)


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
    submit_action(as_user, "function.set_scaling", params, key, dry_run, as_json)


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
    submit_action(as_user, "function.delete", params, key, dry_run, as_json)
