"""Reads of platform state, always through the principal's memberships."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hexaops.platform.access import memberships, require_org, require_project, require_workspace
from hexaops.platform.db.models import (
    Action,
    Application,
    AuditEvent,
    Function,
    Membership,
    Project,
    ScalingPolicy,
    Workspace,
)
from hexaops.platform.domain import ObjectStatus, Principal, Resources, WorkspaceStatus
from hexaops.platform.errors import NotFound
from hexaops.platform.names import format_memory
from hexaops.platform.operations.usage import (
    allocated_by_workspace,
    project_quota,
    used_by_applications,
    workspace_cap,
)
from hexaops.platform.views import (
    ActionView,
    ApplicationView,
    AuditView,
    FunctionView,
    MemberView,
    OrganizationView,
    ProjectView,
    WorkspaceView,
)


def organizations(session: Session, principal: Principal) -> list[OrganizationView]:
    return [
        OrganizationView(slug=s.org.slug, display_name=s.org.display_name, role=s.role)
        for s in memberships(session, principal)
    ]


def members(session: Session, principal: Principal, org: str) -> list[MemberView]:
    scope = require_org(session, principal, org)
    rows = session.scalars(select(Membership).where(Membership.org_id == scope.org.id))
    return sorted(
        (
            MemberView(email=m.user.email, display_name=m.user.display_name, role=m.role)
            for m in rows
        ),
        key=lambda m: m.email,
    )


def workspaces(
    session: Session, principal: Principal, org: str | None = None, *, include_deleted: bool = False
) -> list[WorkspaceView]:
    scopes = {s.org.id: s for s in memberships(session, principal) if org in (None, s.org.slug)}
    if org is not None and not scopes:
        raise NotFound(f"organization {org!r} not found")
    query = select(Workspace).where(Workspace.org_id.in_(scopes)).order_by(Workspace.name)
    if not include_deleted:
        query = query.where(Workspace.status != WorkspaceStatus.DELETED)
    found = list(session.scalars(query))
    allocated = allocated_by_workspace(session, [w.id for w in found])
    return [
        WorkspaceView(
            org=scopes[w.org_id].org.slug,
            name=w.name,
            plan=w.plan,
            status=w.status,
            status_message=w.status_message,
            kubernetes_version=w.kubernetes_version,
            node_pool=w.node_pool,
            capacity=workspace_cap(w).describe(),
            allocated=allocated[w.id].describe(),
        )
        for w in found
    ]


def projects(
    session: Session, principal: Principal, workspace: str, org: str | None = None
) -> list[ProjectView]:
    scope, ws = require_workspace(session, principal, workspace, org)
    rows = session.scalars(
        select(Project)
        .where(Project.workspace_id == ws.id, Project.status != ObjectStatus.DELETED)
        .order_by(Project.name)
    )
    return [
        ProjectView(
            org=scope.org.slug,
            workspace=ws.name,
            name=p.name,
            status=p.status,
            quota=project_quota(p).describe(),
            used=used_by_applications(session, p.id).describe(),
        )
        for p in rows
    ]


def applications(
    session: Session, principal: Principal, workspace: str, project: str, org: str | None = None
) -> list[ApplicationView]:
    scope, proj = require_project(session, principal, workspace, project, org)
    rows = session.execute(
        select(Application, ScalingPolicy)
        .outerjoin(ScalingPolicy, ScalingPolicy.application_id == Application.id)
        .where(Application.project_id == proj.id, Application.status != ObjectStatus.DELETED)
        .order_by(Application.name)
    )
    return [
        ApplicationView(
            org=scope.org.slug,
            workspace=workspace,
            project=project,
            name=app.name,
            status=app.status,
            image=app.image,
            replicas=app.replicas,
            revision=app.revision,
            resources=Resources.model_validate(app.resources).describe(),
            autoscaling=None
            if hpa is None
            else {
                "min_replicas": hpa.min_replicas,
                "max_replicas": hpa.max_replicas,
                "target_cpu_percent": hpa.target_cpu_percent,
            },
        )
        for app, hpa in rows
    ]


def functions(
    session: Session, principal: Principal, workspace: str, project: str, org: str | None = None
) -> list[FunctionView]:
    scope, proj = require_project(session, principal, workspace, project, org)
    rows = session.execute(
        select(Function, ScalingPolicy)
        .outerjoin(ScalingPolicy, ScalingPolicy.function_id == Function.id)
        .where(Function.project_id == proj.id, Function.status != ObjectStatus.DELETED)
        .order_by(Function.name)
    )
    return [
        FunctionView(
            org=scope.org.slug,
            workspace=workspace,
            project=project,
            name=fn.name,
            status=fn.status,
            runtime=fn.runtime,
            image=fn.image,
            memory=format_memory(fn.memory_bytes),
            scaling=None
            if policy is None
            else {"concurrency": policy.concurrency, "max_instances": policy.max_replicas},
        )
        for fn, policy in rows
    ]


def actions(
    session: Session,
    principal: Principal,
    org: str | None = None,
    status: str | None = None,
    limit: int = 50,
) -> list[ActionView]:
    scopes = [s for s in memberships(session, principal) if org in (None, s.org.slug)]
    if org is not None and not scopes:
        raise NotFound(f"organization {org!r} not found")
    query = (
        select(Action)
        .where(Action.org_id.in_([s.org.id for s in scopes]))
        .order_by(Action.id.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(Action.status == status)
    return [ActionView.of(a) for a in session.scalars(query)]


def action(session: Session, principal: Principal, action_id: int) -> ActionView:
    found = session.get(Action, action_id)
    visible = {s.org.id for s in memberships(session, principal)}
    if found is None or found.org_id not in visible:
        raise NotFound(f"action {action_id} not found")
    return ActionView.of(found)


def action_by_key(session: Session, principal: Principal, key: str) -> ActionView | None:
    """The action this principal requested under idempotency key `key`, if any."""
    found = session.scalar(
        select(Action).where(Action.requested_by == principal.id, Action.idempotency_key == key)
    )
    return None if found is None else ActionView.of(found)


def audit_events(
    session: Session, principal: Principal, org: str, limit: int = 100
) -> list[AuditView]:
    scope = require_org(session, principal, org)
    scope.authorize("audit.read")
    rows = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.org_id == scope.org.id)
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    )
    return [AuditView.of(e) for e in rows]
