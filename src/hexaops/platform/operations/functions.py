"""Function operations: serverless functions that scale on concurrency (and to zero)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator
from sqlalchemy import select

from hexaops.platform.access import Scope, require_function, require_project
from hexaops.platform.db.models import Function, ScalingPolicy
from hexaops.platform.domain import ObjectStatus, Risk
from hexaops.platform.drivers.contract import FunctionSpec, PlatformDriver
from hexaops.platform.errors import Conflict, DriverError, InvalidInput
from hexaops.platform.names import check_name, format_memory, parse_memory
from hexaops.platform.operations.applications import check_image, workload_ref
from hexaops.platform.operations.base import ActionPlan, Change, OpContext, Operation

RUNTIME_IMAGES = {
    "python3.12": "ghcr.io/hexabase/fn-python:3.12",
    "nodejs22": "ghcr.io/hexabase/fn-node:22",
}


class _FunctionOperation(Operation):
    workspace: str
    project: str
    name: str
    org: str | None = None

    def scope(self, ctx: OpContext) -> Scope:
        return require_project(ctx.session, ctx.principal, self.workspace, self.project, self.org)[
            0
        ]

    def refs(self, scope: Scope, project_id: int) -> dict[str, Any]:
        return {
            "org": scope.org.slug,
            "workspace": self.workspace,
            "project": self.project,
            "project_id": project_id,
            "name": self.name,
        }

    def target(self, scope: Scope) -> str:
        return f"{scope.org.slug}/{self.workspace}/{self.project}/{self.name}"


class DeployFunction(_FunctionOperation):
    """Create or update a function from a runtime (and optionally a custom image)."""

    kind: ClassVar[str] = "function.deploy"

    runtime: Literal["python3.12", "nodejs22"] = "python3.12"
    image: str | None = None
    memory: str = "256Mi"

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_name("function", value)

    @field_validator("image")
    @classmethod
    def _image(cls, value: str | None) -> str | None:
        return None if value is None else check_image(value)

    def plan(self, ctx: OpContext, scope: Scope) -> ActionPlan:
        memory = parse_memory(self.memory)
        if memory < 64 * 2**20:
            raise InvalidInput(f"function memory {self.memory!r} is too small: give at least 64Mi")
        _, project = require_project(
            ctx.session, ctx.principal, self.workspace, self.project, self.org
        )
        if project.status != ObjectStatus.ACTIVE:
            raise Conflict(f"project {project.name} is {project.status}, not active")
        existing = ctx.session.scalar(
            select(Function).where(
                Function.project_id == project.id,
                Function.name == self.name,
                Function.status != ObjectStatus.DELETED,
            )
        )
        spec = FunctionSpec(
            runtime=self.runtime,
            image=self.image or RUNTIME_IMAGES[self.runtime],
            memory_bytes=memory,
        )
        after = {"runtime": spec.runtime, "image": spec.image, "memory": format_memory(memory)}
        refs = self.refs(scope, project.id) | {"spec": spec.model_dump()}
        if existing is not None:
            refs["function_id"] = existing.id
        return ActionPlan(
            summary=f"{'update' if existing else 'deploy'} function {self.name} ({spec.runtime})",
            target=self.target(scope),
            changes=[
                Change(
                    op="update" if existing else "create",
                    kind="Function",
                    name=self.name,
                    after=after,
                )
            ],
            refs=refs,
        )

    def recheck(self, ctx: OpContext, plan: ActionPlan) -> None:
        if not plan.refs.get("created"):  # a new object's reservation holds name and quota
            super().recheck(ctx, plan)

    def reserve(self, ctx: OpContext, plan: ActionPlan) -> None:
        if "function_id" in plan.refs:
            return
        spec = FunctionSpec.model_validate(plan.refs["spec"])
        fn = Function(
            project_id=plan.refs["project_id"],
            name=self.name,
            status=ObjectStatus.PENDING,
            runtime=spec.runtime,
            image=spec.image,
            memory_bytes=spec.memory_bytes,
        )
        ctx.session.add(fn)
        ctx.session.flush()
        plan.refs["function_id"] = fn.id
        plan.refs["created"] = True

    def execute(self, driver: PlatformDriver, plan: ActionPlan) -> dict[str, Any]:
        return driver.apply_function(
            workload_ref(plan), FunctionSpec.model_validate(plan.refs["spec"])
        ).model_dump()

    def verify(self, driver: PlatformDriver, plan: ActionPlan) -> None:
        observed = driver.get_function(workload_ref(plan))
        if observed is None or observed.image != plan.refs["spec"]["image"]:
            raise DriverError(f"function {plan.target} does not match the plan")

    def record(self, ctx: OpContext, plan: ActionPlan, result: dict[str, Any]) -> None:
        spec = FunctionSpec.model_validate(plan.refs["spec"])
        fn = ctx.session.get(Function, plan.refs["function_id"], with_for_update=True)
        if fn is not None:
            fn.runtime, fn.image, fn.memory_bytes = spec.runtime, spec.image, spec.memory_bytes
            fn.status = ObjectStatus.ACTIVE

    def release(self, ctx: OpContext, plan: ActionPlan, *, executed: bool) -> None:
        fn = ctx.session.get(Function, plan.refs["function_id"])
        if fn is None or not plan.refs.get("created"):
            return
        if executed:
            fn.status = ObjectStatus.FAILED
        else:
            ctx.session.delete(fn)


class SetFunctionScaling(_FunctionOperation):
    """Set how many concurrent requests one function instance takes, and the instance cap."""

    kind: ClassVar[str] = "function.set_scaling"

    concurrency: int = Field(ge=1, le=1000)
    max_instances: int = Field(default=10, ge=1, le=100)

    def plan(self, ctx: OpContext, scope: Scope) -> ActionPlan:
        _, fn = require_function(
            ctx.session, ctx.principal, self.workspace, self.project, self.name, self.org
        )
        return ActionPlan(
            summary=f"scale function {self.name} at {self.concurrency} concurrent request(s) per "
            f"instance, up to {self.max_instances} instance(s)",
            target=self.target(scope),
            changes=[
                Change(
                    op="update",
                    kind="Function",
                    name=self.name,
                    after={"concurrency": self.concurrency, "max_instances": self.max_instances},
                )
            ],
            refs=self.refs(scope, fn.project_id) | {"function_id": fn.id},
        )

    def execute(self, driver: PlatformDriver, plan: ActionPlan) -> dict[str, Any]:
        driver.set_function_scaling(workload_ref(plan), self.concurrency, self.max_instances)
        return {"concurrency": self.concurrency, "max_instances": self.max_instances}

    def verify(self, driver: PlatformDriver, plan: ActionPlan) -> None:
        observed = driver.get_function(workload_ref(plan))
        if observed is None or observed.concurrency != self.concurrency:
            raise DriverError(f"function {plan.target} did not take the scaling policy")

    def record(self, ctx: OpContext, plan: ActionPlan, result: dict[str, Any]) -> None:
        fn_id = plan.refs["function_id"]
        policy = ctx.session.scalar(select(ScalingPolicy).where(ScalingPolicy.function_id == fn_id))
        if policy is None:
            policy = ScalingPolicy(function_id=fn_id)
            ctx.session.add(policy)
        policy.min_replicas, policy.max_replicas = 0, self.max_instances
        policy.concurrency = self.concurrency


class DeleteFunction(_FunctionOperation):
    """Delete a function."""

    kind: ClassVar[str] = "function.delete"
    risk: ClassVar[Risk] = Risk.HIGH

    def plan(self, ctx: OpContext, scope: Scope) -> ActionPlan:
        _, fn = require_function(
            ctx.session, ctx.principal, self.workspace, self.project, self.name, self.org
        )
        return ActionPlan(
            summary=f"delete function {self.name}",
            target=self.target(scope),
            changes=[
                Change(op="delete", kind="Function", name=self.name, before={"image": fn.image})
            ],
            refs=self.refs(scope, fn.project_id) | {"function_id": fn.id},
        )

    def execute(self, driver: PlatformDriver, plan: ActionPlan) -> dict[str, Any]:
        driver.delete_function(workload_ref(plan))
        return {"status": ObjectStatus.DELETED.value}

    def verify(self, driver: PlatformDriver, plan: ActionPlan) -> None:
        if driver.get_function(workload_ref(plan)) is not None:
            raise DriverError(f"function {plan.target} still exists after deletion")

    def record(self, ctx: OpContext, plan: ActionPlan, result: dict[str, Any]) -> None:
        fn = ctx.session.get(Function, plan.refs["function_id"], with_for_update=True)
        if fn is not None:
            fn.status = ObjectStatus.DELETED
