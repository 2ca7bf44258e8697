"""`hexaops platform node|pod|certificate|network-policy|dns …`: the mitigations SREs reach for,
as audited actions like every other change."""

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
    submit_action,
)

node_app = typer.Typer(help="Nodes of a workspace's dedicated pool.", no_args_is_help=True)
pod_app = typer.Typer(help="Single pods of an application.", no_args_is_help=True)
certificate_app = typer.Typer(help="cert-manager Certificates in a project.", no_args_is_help=True)
network_policy_app = typer.Typer(help="NetworkPolicies in a project.", no_args_is_help=True)
dns_app = typer.Typer(help="The DNS (CoreDNS) of a workspace's vCluster.", no_args_is_help=True)

Node = Annotated[str, typer.Option("--node", help="Node name (see `hexaops sandbox status`).")]


def _node(
    kind: str,
    workspace: str,
    node: str,
    as_user: str,
    org: str | None,
    key: str | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    params = {"workspace": workspace, "node": node, "org": org}
    submit_action(as_user, kind, params, key, dry_run, as_json)


@node_app.command("cordon")
def node_cordon(
    workspace: Workspace,
    node: Node,
    as_user: AsUser,
    org: OrgOption = None,
    key: IdempotencyKey = None,
    dry_run: DryRun = False,
    as_json: JsonFlag = False,
) -> None:
    """Mark a pool node unschedulable (its pods keep running)."""
    _node("node.cordon", workspace, node, as_user, org, key, dry_run, as_json)


@node_app.command("uncordon")
def node_uncordon(
    workspace: Workspace,
    node: Node,
    as_user: AsUser,
    org: OrgOption = None,
    key: IdempotencyKey = None,
    dry_run: DryRun = False,
    as_json: JsonFlag = False,
) -> None:
    """Make a pool node schedulable again."""
    _node("node.uncordon", workspace, node, as_user, org, key, dry_run, as_json)


@node_app.command("drain")
def node_drain(
    workspace: Workspace,
    node: Node,
    as_user: AsUser,
    org: OrgOption = None,
    key: IdempotencyKey = None,
    dry_run: DryRun = False,
    as_json: JsonFlag = False,
) -> None:
    """Cordon a pool node and evict its pods (needs approval)."""
    _node("node.drain", workspace, node, as_user, org, key, dry_run, as_json)


@pod_app.command("delete")
def pod_delete(
    workspace: Workspace,
    project: Project,
    as_user: AsUser,
    application: Annotated[str, typer.Option("--app", help="The pod's application.")],
    pod: Annotated[str, typer.Option("--pod", help="Pod name.")],
    org: OrgOption = None,
    key: IdempotencyKey = None,
    dry_run: DryRun = False,
    as_json: JsonFlag = False,
) -> None:
    """Delete one pod; its Deployment replaces it."""
    params = {
        "workspace": workspace,
        "project": project,
        "application": application,
        "pod": pod,
        "org": org,
    }
    submit_action(as_user, "pod.delete", params, key, dry_run, as_json)


@certificate_app.command("renew")
def certificate_renew(
    workspace: Workspace,
    project: Project,
    name: Name,
    as_user: AsUser,
    org: OrgOption = None,
    key: IdempotencyKey = None,
    dry_run: DryRun = False,
    as_json: JsonFlag = False,
) -> None:
    """Renew a Certificate now (as `cmctl renew`)."""
    params = {"workspace": workspace, "project": project, "name": name, "org": org}
    submit_action(as_user, "certificate.renew", params, key, dry_run, as_json)


@network_policy_app.command("delete")
def network_policy_delete(
    workspace: Workspace,
    project: Project,
    name: Name,
    as_user: AsUser,
    org: OrgOption = None,
    key: IdempotencyKey = None,
    dry_run: DryRun = False,
    as_json: JsonFlag = False,
) -> None:
    """Delete a NetworkPolicy (needs approval)."""
    params = {"workspace": workspace, "project": project, "name": name, "org": org}
    submit_action(as_user, "network_policy.delete", params, key, dry_run, as_json)


@dns_app.command("restart")
def dns_restart(
    workspace: Workspace,
    as_user: AsUser,
    org: OrgOption = None,
    key: IdempotencyKey = None,
    dry_run: DryRun = False,
    as_json: JsonFlag = False,
) -> None:
    """Rolling restart of the workspace's CoreDNS."""
    submit_action(
        as_user, "workspace.restart_dns", {"name": workspace, "org": org}, key, dry_run, as_json
    )
