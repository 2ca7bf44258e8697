"""How much of a project's quota and a workspace's plan cap is already handed out."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from hexaops.platform.db.models import Application, Project, Workspace
from hexaops.platform.domain import (
    ZERO_QUOTA,
    NodePool,
    ObjectStatus,
    Plan,
    Quota,
    Resources,
    plan_cap,
)


def project_quota(project: Project) -> Quota:
    return Quota(
        cpu_millis=project.cpu_millis, memory_bytes=project.memory_bytes, pods=project.pods
    )


def workspace_cap(workspace: Workspace) -> Quota:
    pool = None if workspace.node_pool is None else NodePool.model_validate(workspace.node_pool)
    return plan_cap(Plan(workspace.plan), pool)


def allocated_to_projects(
    session: Session, workspace_id: int, *, excluding: int | None = None
) -> Quota:
    """Sum of the quotas of the workspace's live projects (optionally but one)."""
    total = ZERO_QUOTA
    for project in session.scalars(
        select(Project).where(
            Project.workspace_id == workspace_id,
            Project.status != ObjectStatus.DELETED,
            Project.id != (excluding or -1),
        )
    ):
        total = total + project_quota(project)
    return total


def allocated_by_workspace(session: Session, workspace_ids: Collection[int]) -> dict[int, Quota]:
    """`allocated_to_projects` of many workspaces in one query (a listing's)."""
    totals = dict.fromkeys(workspace_ids, ZERO_QUOTA)
    if totals:
        for project in session.scalars(
            select(Project).where(
                Project.workspace_id.in_(totals), Project.status != ObjectStatus.DELETED
            )
        ):
            totals[project.workspace_id] = totals[project.workspace_id] + project_quota(project)
    return totals


def used_by_applications(
    session: Session, project_id: int, *, excluding: int | None = None
) -> Quota:
    """Requests of the project's live applications at their current replicas."""
    total = ZERO_QUOTA
    for app in session.scalars(
        select(Application).where(
            Application.project_id == project_id,
            Application.status != ObjectStatus.DELETED,
            Application.id != (excluding or -1),
        )
    ):
        total = total + Resources.model_validate(app.resources).for_replicas(app.replicas)
    return total
