"""Read models returned by the platform core: plain, serializable, safe to show a principal."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from hexaops.platform.db.models import Action, AuditEvent


class ActionView(BaseModel):
    id: int | None  # None for a dry run, which is never stored
    operation: str
    status: str  # an ActionStatus, or "planned" for a dry run
    risk: str
    target: str
    summary: str
    plan: dict[str, Any]
    requested_by: str
    approved_by: str | None = None
    decision_note: str = ""
    idempotency_key: str | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    replayed: bool = False  # True when an idempotency key returned an existing action

    @classmethod
    def of(cls, action: Action) -> ActionView:
        return cls(
            id=action.id,
            operation=action.operation,
            status=action.status,
            risk=action.risk,
            target=action.target,
            summary=action.plan.get("summary", ""),
            plan={k: v for k, v in action.plan.items() if k != "refs"},
            requested_by=action.requested_by,
            approved_by=action.approved_by,
            decision_note=action.decision_note,
            idempotency_key=action.idempotency_key,
            result=action.result,
            error=action.error,
            created_at=action.created_at,
            updated_at=action.updated_at,
        )


class AuditView(BaseModel):
    id: int
    at: datetime
    actor: str
    event: str
    operation: str
    target: str
    action_id: int | None
    approved_by: str | None
    plan: dict[str, Any] | None
    result: dict[str, Any] | None

    @classmethod
    def of(cls, event: AuditEvent) -> AuditView:
        return cls(
            id=event.id,
            at=event.at,
            actor=event.actor,
            event=event.event,
            operation=event.operation,
            target=event.target,
            action_id=event.action_id,
            approved_by=event.approved_by,
            plan=event.plan,
            result=event.result,
        )


class OrganizationView(BaseModel):
    slug: str
    display_name: str
    role: str


class MemberView(BaseModel):
    email: str
    display_name: str
    role: str


class WorkspaceView(BaseModel):
    org: str
    name: str
    plan: str
    status: str
    status_message: str
    kubernetes_version: str
    node_pool: dict[str, Any] | None
    capacity: dict[str, Any]
    allocated: dict[str, Any]


class ProjectView(BaseModel):
    org: str
    workspace: str
    name: str
    status: str
    quota: dict[str, Any]
    used: dict[str, Any]


class ApplicationView(BaseModel):
    org: str
    workspace: str
    project: str
    name: str
    status: str
    image: str
    replicas: int
    revision: int
    resources: dict[str, Any]
    autoscaling: dict[str, Any] | None = None


class FunctionView(BaseModel):
    org: str
    workspace: str
    project: str
    name: str
    status: str
    runtime: str
    image: str
    memory: str
    scaling: dict[str, Any] | None = None


class ProjectOverview(BaseModel):
    project: ProjectView
    applications: list[ApplicationView]


class WorkspaceOverview(BaseModel):
    workspace: WorkspaceView
    projects: list[ProjectOverview]


class OrganizationOverview(BaseModel):
    organization: OrganizationView
    workspaces: list[WorkspaceOverview]
