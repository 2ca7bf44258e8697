"""Workspace operations: a workspace is a vCluster on the host cluster."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import field_validator, model_validator
from sqlalchemy import select, update

from hexaops.platform.access import Scope, require_org, require_workspace
from hexaops.platform.db.models import Application, Function, Project, Workspace, utcnow
from hexaops.platform.domain import (
    DEFAULT_KUBERNETES_VERSION,
    KUBERNETES_VERSIONS,
    NodePool,
    ObjectStatus,
    Plan,
    Risk,
    WorkspaceStatus,
    plan_cap,
)
from hexaops.platform.drivers.contract import PlatformDriver, WorkspaceRef, WorkspaceSpec
from hexaops.platform.errors import Conflict, DriverError, InvalidInput
from hexaops.platform.names import check_name
from hexaops.platform.operations.base import ActionPlan, Change, OpContext, Operation


def workspace_ref(plan: ActionPlan) -> WorkspaceRef:
    return WorkspaceRef(org=plan.refs["org"], workspace=plan.refs["workspace"])


class CreateWorkspace(Operation):
    """Provision a vCluster workspace in an organization."""

    kind: ClassVar[str] = "workspace.create"

    org: str
    name: str
    plan_name: Plan = Plan.SHARED
    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION
    node_pool: NodePool | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_name("workspace", value)

    @field_validator("plan_name", mode="before")
    @classmethod
    def _plan(cls, value: object) -> Plan:
        return value if isinstance(value, Plan) else Plan.parse(str(value))

    @field_validator("kubernetes_version")
    @classmethod
    def _version(cls, value: str) -> str:
        if value.removeprefix("v") not in KUBERNETES_VERSIONS:
            raise InvalidInput(
                f"unsupported Kubernetes version {value!r}: choose {', '.join(KUBERNETES_VERSIONS)}"
            )
        return value.removeprefix("v")

    @model_validator(mode="after")
    def _node_pool_for_dedicated(self) -> CreateWorkspace:
        if self.plan_name is Plan.SHARED and self.node_pool is not None:
            raise InvalidInput(
                "a node pool is only for the dedicated plan; drop --nodes or use --plan dedicated"
            )
        return self

    def scope(self, ctx: OpContext) -> Scope:
        return require_org(ctx.session, ctx.principal, self.org)

    def plan(self, ctx: OpContext, scope: Scope) -> ActionPlan:
        exists = ctx.session.scalar(
            select(Workspace.id).where(
                Workspace.org_id == scope.org.id,
                Workspace.name == self.name,
                Workspace.status != WorkspaceStatus.DELETED,
            )
        )
        if exists is not None:
            raise Conflict(
                f"workspace {self.name!r} already exists in {self.org}: pick another name"
            )
        node_pool = self.node_pool or (NodePool() if self.plan_name is Plan.DEDICATED else None)
        spec = WorkspaceSpec(
            plan=self.plan_name, kubernetes_version=self.kubernetes_version, node_pool=node_pool
        )
        after = {
            **spec.model_dump(mode="json"),
            "capacity": plan_cap(self.plan_name, node_pool).describe(),
        }
        return ActionPlan(
            summary=f"create {self.plan_name.value} workspace {self.name} "
            f"(vCluster, Kubernetes {self.kubernetes_version})",
            target=f"{self.org}/{self.name}",
            changes=[Change(op="create", kind="Workspace", name=self.name, after=after)],
            refs={
                "org": self.org,
                "org_id": scope.org.id,
                "workspace": self.name,
                "spec": spec.model_dump(mode="json"),
            },
        )

    def recheck(self, ctx: OpContext, plan: ActionPlan) -> None:
        """The reservation made at request time still holds the name and the quota."""

    def reserve(self, ctx: OpContext, plan: ActionPlan) -> None:
        spec = WorkspaceSpec.model_validate(plan.refs["spec"])
        workspace = Workspace(
            org_id=plan.refs["org_id"],
            name=self.name,
            plan=spec.plan,
            status=WorkspaceStatus.PENDING,
            kubernetes_version=spec.kubernetes_version,
            node_pool=None if spec.node_pool is None else spec.node_pool.model_dump(),
        )
        ctx.session.add(workspace)
        ctx.session.flush()
        plan.refs["workspace_id"] = workspace.id

    def start(self, ctx: OpContext, plan: ActionPlan) -> None:
        _set_status(ctx, plan, WorkspaceStatus.PROVISIONING)

    def execute(self, driver: PlatformDriver, plan: ActionPlan) -> dict[str, Any]:
        spec = WorkspaceSpec.model_validate(plan.refs["spec"])
        return driver.provision_workspace(workspace_ref(plan), spec).model_dump()

    def verify(self, driver: PlatformDriver, plan: ActionPlan) -> None:
        observed = driver.get_workspace(workspace_ref(plan))
        if observed is None or observed.status == "failed":
            raise DriverError(f"vCluster of {plan.target} is not running after provisioning")

    def record(self, ctx: OpContext, plan: ActionPlan, result: dict[str, Any]) -> None:
        _set_status(ctx, plan, WorkspaceStatus(result["status"]), result.get("message", ""))

    def release(self, ctx: OpContext, plan: ActionPlan, *, executed: bool) -> None:
        if executed:
            _set_status(ctx, plan, WorkspaceStatus.FAILED, "provisioning failed")
        else:  # rejected before anything ran: the name is free again
            workspace = ctx.session.get(Workspace, plan.refs["workspace_id"])
            if workspace is not None:
                ctx.session.delete(workspace)


class DeleteWorkspace(Operation):
    """Delete a workspace's vCluster with every project and workload in it."""

    kind: ClassVar[str] = "workspace.delete"
    risk: ClassVar[Risk] = Risk.HIGH

    name: str
    org: str | None = None

    def scope(self, ctx: OpContext) -> Scope:
        return require_workspace(ctx.session, ctx.principal, self.name, self.org)[0]

    def plan(self, ctx: OpContext, scope: Scope) -> ActionPlan:
        _, workspace = require_workspace(ctx.session, ctx.principal, self.name, self.org)
        if workspace.status in (WorkspaceStatus.DELETING, WorkspaceStatus.PENDING):
            raise Conflict(f"workspace {self.name!r} is {workspace.status}; wait for it to finish")
        projects = ctx.session.scalars(
            select(Project).where(
                Project.workspace_id == workspace.id, Project.status != ObjectStatus.DELETED
            )
        ).all()
        changes = [
            Change(op="delete", kind="Workspace", name=self.name, before={"plan": workspace.plan})
        ]
        changes += [Change(op="delete", kind="Project", name=p.name) for p in projects]
        return ActionPlan(
            summary=f"delete workspace {self.name} and its {len(projects)} project(s)",
            target=f"{scope.org.slug}/{self.name}",
            changes=changes,
            refs={"org": scope.org.slug, "workspace": self.name, "workspace_id": workspace.id},
        )

    def start(self, ctx: OpContext, plan: ActionPlan) -> None:
        _set_status(ctx, plan, WorkspaceStatus.DELETING)

    def execute(self, driver: PlatformDriver, plan: ActionPlan) -> dict[str, Any]:
        driver.delete_workspace(workspace_ref(plan))
        return {"status": WorkspaceStatus.DELETED.value}

    def verify(self, driver: PlatformDriver, plan: ActionPlan) -> None:
        if driver.get_workspace(workspace_ref(plan)) is not None:
            raise DriverError(f"vCluster of {plan.target} still exists after deletion")

    def record(self, ctx: OpContext, plan: ActionPlan, result: dict[str, Any]) -> None:
        workspace_id = plan.refs["workspace_id"]
        _set_status(ctx, plan, WorkspaceStatus.DELETED)
        project_ids = select(Project.id).where(Project.workspace_id == workspace_id)
        for model in (Application, Function):
            ctx.session.execute(
                update(model)
                .where(model.project_id.in_(project_ids))
                .values(status=ObjectStatus.DELETED)
            )
        ctx.session.execute(
            update(Project)
            .where(Project.workspace_id == workspace_id)
            .values(status=ObjectStatus.DELETED)
        )

    def release(self, ctx: OpContext, plan: ActionPlan, *, executed: bool) -> None:
        if executed:
            _set_status(ctx, plan, WorkspaceStatus.FAILED, "deletion failed")


def _set_status(
    ctx: OpContext, plan: ActionPlan, status: WorkspaceStatus, message: str = ""
) -> None:
    ctx.session.execute(
        update(Workspace)
        .where(Workspace.id == plan.refs["workspace_id"])
        .values(status=status, status_message=message, updated_at=utcnow())
    )
