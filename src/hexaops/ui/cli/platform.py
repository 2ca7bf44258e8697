"""`hexaops platform …`: the deterministic core — seed, status, members, actions, audit."""

from __future__ import annotations

from typing import Annotated

import typer

from hexaops.platform.domain import ActionStatus
from hexaops.platform.errors import Conflict
from hexaops.platform.seed import seed
from hexaops.platform.views import OrganizationOverview
from hexaops.ui.cli.ask import resume_waiting_session
from hexaops.ui.cli.maintenance import (
    certificate_app,
    dns_app,
    network_policy_app,
    node_app,
    pod_app,
)
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
    fail,
    platform_session,
    submit_action,
)
from hexaops.ui.cli.workloads import application_app, function_app
from hexaops.ui.cli.workspaces import project_app, workspace_app

app = typer.Typer(
    help="The deterministic platform core: every change is an audited action.", no_args_is_help=True
)
org_app = typer.Typer(help="Organizations you belong to.", no_args_is_help=True)
member_app = typer.Typer(help="Members of an organization and their roles.", no_args_is_help=True)
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
    (node_app, "node"),
    (pod_app, "pod"),
    (certificate_app, "certificate"),
    (network_policy_app, "network-policy"),
    (dns_app, "dns"),
    (actions_app, "actions"),
):
    app.add_typer(sub, name=name)


# -- migrate / seed / status -----------------------------------------------------------


@app.command("migrate")
def migrate_command() -> None:
    """Bring the database schema to the newest migration (idempotent, one process at a time):
    what the deploy's migrations Job runs before a rollout. Needs no cluster access."""
    from hexaops.platform.db.engine import create_platform_engine
    from hexaops.platform.errors import PlatformError
    from hexaops.settings import load_settings

    try:
        create_platform_engine(load_settings()).dispose()  # connects, migrates under a lock
    except PlatformError as exc:
        fail(exc.message)
    console.print("database schema is up to date")


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
    submit_action(
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
    submit_action(as_user, "member.remove", {"org": org, "email": email}, key, dry_run, as_json)


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
    """Approve a pending action; it runs at once, and an agent session waiting on it resumes."""
    _decide_action(action_id, as_user, note, as_json, approve=True)


@actions_app.command("reject")
def actions_reject(
    action_id: int,
    as_user: AsUser,
    note: Annotated[str, typer.Option("--note")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Reject a pending action; nothing runs, and an agent session waiting on it resumes."""
    _decide_action(action_id, as_user, note, as_json, approve=False)


def _decide_action(action_id: int, email: str, note: str, as_json: bool, *, approve: bool) -> None:
    with acting(email) as (platform, principal):
        try:
            decide = platform.approve if approve else platform.reject
            view = decide(principal, action_id, note)
        except Conflict as exc:
            view = platform.action(principal, action_id)
            if view.status == "pending":  # e.g. it no longer applies: nothing to resume
                raise
            # Decided before: nothing runs twice, but a session still waiting on it (its
            # resume was interrupted) continues with the action's result.
            resume_waiting_session(platform, principal, view, as_json)
            fail(exc.message)
        if not as_json and view.status != "failed":  # a failed one is reported last (exit 1)
            emit_action(view, as_json=False)
        turn = resume_waiting_session(platform, principal, view, as_json)
    if as_json:
        emit_json(view.model_dump(mode="json") | ({"session": turn} if turn else {}))
    if view.status == "failed":
        fail(f"action {view.id} failed: {view.error}")


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
