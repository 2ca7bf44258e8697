"""Project operations: a project is a namespace with a resource quota inside a workspace."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, field_validator
from sqlalchemy import select, update

from hexaops.platform.access import Scope, require_project, require_workspace
from hexaops.platform.db.models import Application, Function, Project, Workspace, utcnow
from hexaops.platform.domain import ObjectStatus, Quota, Risk, WorkspaceStatus
from hexaops.platform.drivers.contract import NamespaceRef, PlatformDriver
from hexaops.platform.errors import Conflict, DriverError, QuotaExceeded
from hexaops.platform.names import check_name
from hexaops.platform.operations.base import ActionPlan, Change, OpContext, Operation
from hexaops.platform.operations.usage import (
    allocated_to_projects,
    project_quota,
    used_by_applications,
    workspace_cap,
)


def namespace_ref(plan: ActionPlan) -> NamespaceRef:
    return NamespaceRef(
        org=plan.refs["org"], workspace=plan.refs["workspace"], namespace=plan.refs["project"]
    )


def _set_status(ctx: OpContext, plan: ActionPlan, status: ObjectStatus) -> None:
    ctx.session.execute(
        update(Project)
        .where(Project.id == plan.refs["project_id"])
        .values(status=status, updated_at=utcnow())
    )


class CreateProject(Operation):
    """Create a project: a namespace with a resource quota in a workspace."""

    kind: ClassVar[str] = "project.create"

    workspace: str
    name: str
    cpu: str = "2"
    memory: str = "4Gi"
    pods: int = Field(default=20, gt=0, le=5000)
    org: str | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_name("project", value)

    def quota(self) -> Quota:
        return Quota.parse(self.cpu, self.memory, self.pods)

    def scope(self, ctx: OpContext) -> Scope:
        return require_workspace(ctx.session, ctx.principal, self.workspace, self.org)[0]

    def plan(self, ctx: OpContext, scope: Scope) -> ActionPlan:
        quota = self.quota()
        _, ws = require_workspace(ctx.session, ctx.principal, self.workspace, self.org)
        if ws.status != WorkspaceStatus.READY:
            raise Conflict(
                f"workspace {ws.name} is {ws.status}, not ready: projects need a running vCluster"
            )
        exists = ctx.session.scalar(
            select(Project.id).where(
                Project.workspace_id == ws.id,
                Project.name == self.name,
                Project.status != ObjectStatus.DELETED,
            )
        )
        if exists is not None:
            raise Conflict(f"project {self.name!r} already exists in workspace {ws.name}")
        _check_cap(ctx, ws.id, quota, excluding=None)
        return ActionPlan(
            summary=f"create project {self.name} in {ws.name} with quota "
            + ", ".join(f"{k} {v}" for k, v in quota.describe().items()),
            target=f"{scope.org.slug}/{ws.name}/{self.name}",
            changes=[Change(op="create", kind="Project", name=self.name, after=quota.describe())],
            refs={
                "org": scope.org.slug,
                "workspace": ws.name,
                "workspace_id": ws.id,
                "project": self.name,
                "quota": quota.model_dump(),
            },
        )

    def recheck(self, ctx: OpContext, plan: ActionPlan) -> None:
        """The reservation made at request time still holds the name and the quota."""

    def reserve(self, ctx: OpContext, plan: ActionPlan) -> None:
        quota = Quota.model_validate(plan.refs["quota"])
        project = Project(
            workspace_id=plan.refs["workspace_id"],
            name=self.name,
            status=ObjectStatus.PENDING,
            cpu_millis=quota.cpu_millis,
            memory_bytes=quota.memory_bytes,
            pods=quota.pods,
        )
        ctx.session.add(project)
        ctx.session.flush()
        plan.refs["project_id"] = project.id

    def execute(self, driver: PlatformDriver, plan: ActionPlan) -> dict[str, Any]:
        driver.create_namespace(namespace_ref(plan), Quota.model_validate(plan.refs["quota"]))
        return {"namespace": plan.refs["project"]}

    def verify(self, driver: PlatformDriver, plan: ActionPlan) -> None:
        _verify_quota(driver, plan)

    def record(self, ctx: OpContext, plan: ActionPlan, result: dict[str, Any]) -> None:
        _set_status(ctx, plan, ObjectStatus.ACTIVE)

    def release(self, ctx: OpContext, plan: ActionPlan, *, executed: bool) -> None:
        if executed:
            _set_status(ctx, plan, ObjectStatus.FAILED)
        else:
            project = ctx.session.get(Project, plan.refs["project_id"])
            if project is not None:
                ctx.session.delete(project)


class UpdateProjectQuota(Operation):
    """Change a project's resource quota (within the workspace plan's cap)."""

    kind: ClassVar[str] = "project.update_quota"

    workspace: str
    name: str
    cpu: str | None = None
    memory: str | None = None
    pods: int | None = Field(default=None, gt=0, le=5000)
    org: str | None = None

    def scope(self, ctx: OpContext) -> Scope:
        return require_project(ctx.session, ctx.principal, self.workspace, self.name, self.org)[0]

    def plan(self, ctx: OpContext, scope: Scope) -> ActionPlan:
        _, project = require_project(
            ctx.session, ctx.principal, self.workspace, self.name, self.org
        )
        before = project_quota(project)
        quota = Quota.parse(
            self.cpu if self.cpu is not None else f"{before.cpu_millis}m",
            self.memory if self.memory is not None else before.memory_bytes,
            self.pods if self.pods is not None else before.pods,
        )
        used = used_by_applications(ctx.session, project.id)
        if short := used.exceeding(quota):
            raise QuotaExceeded(
                f"project {self.name} already uses more than the new quota ({'; '.join(short)}): "
                "scale applications down first"
            )
        _check_cap(ctx, project.workspace_id, quota, excluding=project.id)
        return ActionPlan(
            summary=f"set quota of project {self.name} to "
            + ", ".join(f"{k} {v}" for k, v in quota.describe().items()),
            target=f"{scope.org.slug}/{self.workspace}/{self.name}",
            changes=[
                Change(
                    op="update",
                    kind="ResourceQuota",
                    name=self.name,
                    before=before.describe(),
                    after=quota.describe(),
                )
            ],
            refs={
                "org": scope.org.slug,
                "workspace": self.workspace,
                "project": self.name,
                "project_id": project.id,
                "quota": quota.model_dump(),
            },
        )

    def execute(self, driver: PlatformDriver, plan: ActionPlan) -> dict[str, Any]:
        driver.set_quota(namespace_ref(plan), Quota.model_validate(plan.refs["quota"]))
        return {"quota": Quota.model_validate(plan.refs["quota"]).describe()}

    def verify(self, driver: PlatformDriver, plan: ActionPlan) -> None:
        _verify_quota(driver, plan)

    def record(self, ctx: OpContext, plan: ActionPlan, result: dict[str, Any]) -> None:
        quota = Quota.model_validate(plan.refs["quota"])
        project = ctx.session.get(Project, plan.refs["project_id"], with_for_update=True)
        if project is not None:
            project.cpu_millis, project.memory_bytes, project.pods = (
                quota.cpu_millis,
                quota.memory_bytes,
                quota.pods,
            )


class DeleteProject(Operation):
    """Delete a project's namespace with every application and function in it."""

    kind: ClassVar[str] = "project.delete"
    risk: ClassVar[Risk] = Risk.HIGH

    workspace: str
    name: str
    org: str | None = None

    def scope(self, ctx: OpContext) -> Scope:
        return require_project(ctx.session, ctx.principal, self.workspace, self.name, self.org)[0]

    def plan(self, ctx: OpContext, scope: Scope) -> ActionPlan:
        _, project = require_project(
            ctx.session, ctx.principal, self.workspace, self.name, self.org
        )
        apps = ctx.session.scalars(
            select(Application.name).where(
                Application.project_id == project.id, Application.status != ObjectStatus.DELETED
            )
        ).all()
        changes = [Change(op="delete", kind="Project", name=self.name)]
        changes += [Change(op="delete", kind="Application", name=a) for a in apps]
        return ActionPlan(
            summary=f"delete project {self.name} and its {len(apps)} application(s)",
            target=f"{scope.org.slug}/{self.workspace}/{self.name}",
            changes=changes,
            refs={
                "org": scope.org.slug,
                "workspace": self.workspace,
                "project": self.name,
                "project_id": project.id,
            },
        )

    def start(self, ctx: OpContext, plan: ActionPlan) -> None:
        _set_status(ctx, plan, ObjectStatus.DELETING)

    def execute(self, driver: PlatformDriver, plan: ActionPlan) -> dict[str, Any]:
        driver.delete_namespace(namespace_ref(plan))
        return {"status": ObjectStatus.DELETED.value}

    def verify(self, driver: PlatformDriver, plan: ActionPlan) -> None:
        if driver.get_quota(namespace_ref(plan)) is not None:
            raise DriverError(f"namespace {plan.refs['project']} still exists after deletion")

    def record(self, ctx: OpContext, plan: ActionPlan, result: dict[str, Any]) -> None:
        _set_status(ctx, plan, ObjectStatus.DELETED)
        for model in (Application, Function):
            ctx.session.execute(
                update(model)
                .where(model.project_id == plan.refs["project_id"])
                .values(status=ObjectStatus.DELETED)
            )

    def release(self, ctx: OpContext, plan: ActionPlan, *, executed: bool) -> None:
        if executed:
            _set_status(ctx, plan, ObjectStatus.FAILED)


def _check_cap(ctx: OpContext, workspace_id: int, quota: Quota, *, excluding: int | None) -> None:
    # Serialize cap checks of one workspace: concurrent project creates must not both fit.
    workspace = ctx.session.get(Workspace, workspace_id, with_for_update=True)
    assert workspace is not None
    cap = workspace_cap(workspace)
    total = allocated_to_projects(ctx.session, workspace_id, excluding=excluding) + quota
    if over := total.exceeding(cap):
        raise QuotaExceeded(
            f"projects of workspace {workspace.name} would get more than its {workspace.plan} plan "
            f"allows ({'; '.join(over)}): lower the quota, shrink other projects, or use a "
            "dedicated plan with a larger node pool"
        )


def _verify_quota(driver: PlatformDriver, plan: ActionPlan) -> None:
    observed = driver.get_quota(namespace_ref(plan))
    if observed != Quota.model_validate(plan.refs["quota"]):
        raise DriverError(f"namespace {plan.refs['project']} does not carry the planned quota")
