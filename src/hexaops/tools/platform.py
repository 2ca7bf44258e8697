"""Platform tools: the platform core's reads and operations, as the principal.

Reads answer from the same queries as the CLI; writes request actions through the action
pipeline — they are authorized, planned, and wait for approval where policy says so.
"""

from __future__ import annotations

from hexaops.tools.args import OrgArg
from hexaops.tools.context import ToolContext
from hexaops.tools.contract import Evidence, Outcome, tool


@tool("platform_workspaces", "platform")
def list_workspaces(ctx: ToolContext, args: OrgArg) -> Outcome:
    """List the workspaces (vClusters) of an organization with plan, status, capacity and what
    is allocated to projects."""
    org = ctx.organization(args.org)
    views = ctx.platform.workspaces(ctx.principal, org)
    data = [v.model_dump(mode="json") for v in views]
    summary = f"{len(views)} workspaces in {org}: " + ", ".join(
        f"{v.name} ({v.plan}, {v.status})" for v in views
    )
    return Outcome(
        summary if views else f"{org} has no workspaces",
        data,
        [Evidence(kind="object", backend="platform", objects=[f"{org}/{v.name}" for v in views])],
        empty=not views,
    )
