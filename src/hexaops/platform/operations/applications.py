"""Application operations: Deployments in a project namespace, with revisions and an HPA."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import Field, field_validator, model_validator
from sqlalchemy import select

from hexaops.platform.access import Scope, require_application, require_project
from hexaops.platform.db.models import Application, Project, ScalingPolicy
from hexaops.platform.domain import ObjectStatus, Resources, Risk
from hexaops.platform.drivers.contract import ApplicationSpec, HpaSpec, PlatformDriver, WorkloadRef
from hexaops.platform.errors import Conflict, DriverError, InvalidInput, QuotaExceeded
from hexaops.platform.names import check_name
from hexaops.platform.operations.base import ActionPlan, Change, OpContext, Operation
from hexaops.platform.operations.usage import project_quota, used_by_applications

# registry/path:tag or @digest; no whitespace, no scheme.
_IMAGE = re.compile(r"^[a-z0-9]+([._/:-][a-z0-9]+)*(:[\w][\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$")


def check_image(image: str) -> str:
    if not _IMAGE.match(image):
        raise InvalidInput(
            f"invalid image reference {image!r}: use e.g. 'ghcr.io/acme/checkout:1.4.2'"
        )
    return image


def workload_ref(plan: ActionPlan) -> WorkloadRef:
    return WorkloadRef(
        org=plan.refs["org"],
        workspace=plan.refs["workspace"],
        namespace=plan.refs["project"],
        name=plan.refs["name"],
    )


def _refs(scope: Scope, workspace: str, project: Project, name: str) -> dict[str, Any]:
    return {
        "org": scope.org.slug,
        "workspace": workspace,
        "project": project.name,
        "project_id": project.id,
        "name": name,
    }


def _check_fits(
    ctx: OpContext, project: Project, resources: Resources, replicas: int, excluding: int | None
) -> None:
    # Serialize quota checks of one project: concurrent deploys must not both fit the last slot.
    ctx.session.execute(select(Project.id).where(Project.id == project.id).with_for_update())
    quota = project_quota(project)
    need = used_by_applications(
        ctx.session, project.id, excluding=excluding
    ) + resources.for_replicas(replicas)
    if over := need.exceeding(quota):
        raise QuotaExceeded(
            f"project {project.name} quota would be exceeded ({'; '.join(over)}): lower replicas or "
            "requests, or raise the quota (hexaops platform project update --cpu/--memory/--pods)"
        )


def _check_autoscaling_bounds(ctx: OpContext, app: Application, replicas: int) -> None:
    """An HPA owns the replica count within its bounds; asking outside them would be undone."""
    hpa = ctx.session.scalar(select(ScalingPolicy).where(ScalingPolicy.application_id == app.id))
    if hpa is not None and not hpa.min_replicas <= replicas <= hpa.max_replicas:
        raise InvalidInput(
            f"application {app.name} is autoscaled between {hpa.min_replicas} and "
            f"{hpa.max_replicas} replicas: change its HPA (hexaops platform app autoscale) instead"
        )


def _spec(app: Application) -> ApplicationSpec:
    return ApplicationSpec(
        image=app.image,
        replicas=app.replicas,
        resources=Resources.model_validate(app.resources),
        revision=app.revision,
    )


class _AppOperation(Operation):
    workspace: str
    project: str
    name: str
    org: str | None = None

    def scope(self, ctx: OpContext) -> Scope:
        return require_project(ctx.session, ctx.principal, self.workspace, self.project, self.org)[
            0
        ]

    def application(self, ctx: OpContext) -> Application:
        return require_application(
            ctx.session, ctx.principal, self.workspace, self.project, self.name, self.org
        )[1]

    def verify(self, driver: PlatformDriver, plan: ActionPlan) -> None:
        observed = driver.get_application(workload_ref(plan))
        want = ApplicationSpec.model_validate(plan.refs["spec"])
        if observed is None or (observed.image, observed.revision) != (want.image, want.revision):
            raise DriverError(f"deployment {plan.target} does not match the planned spec")
        # Under an HPA the controller owns the replica count: any count within its bounds is right.
        hpa = observed.hpa
        autoscaled = hpa is not None and hpa.min_replicas <= observed.replicas <= hpa.max_replicas
        if observed.replicas != want.replicas and not autoscaled:
            raise DriverError(f"deployment {plan.target} does not match the planned spec")

    def execute(self, driver: PlatformDriver, plan: ActionPlan) -> dict[str, Any]:
        spec = ApplicationSpec.model_validate(plan.refs["spec"])
        observed = driver.apply_application(workload_ref(plan), spec)
        return {"revision": observed.revision, "ready_replicas": observed.ready_replicas}

    def record(self, ctx: OpContext, plan: ActionPlan, result: dict[str, Any]) -> None:
        spec = ApplicationSpec.model_validate(plan.refs["spec"])
        app = ctx.session.get(Application, plan.refs["application_id"], with_for_update=True)
        if app is None:
            return
        if spec.revision != app.revision:
            app.history = [*app.history, _revision(app)][-10:]
        app.image, app.replicas, app.revision = spec.image, spec.replicas, spec.revision
        app.resources = spec.resources.model_dump()
        app.status = ObjectStatus.ACTIVE


def _revision(app: Application) -> dict[str, Any]:
    return {"revision": app.revision, "image": app.image, "resources": app.resources}


class DeployApplication(_AppOperation):
    """Create an application, or roll out a new revision (image or resources) of an existing one."""

    kind: ClassVar[str] = "application.deploy"

    image: str
    replicas: int | None = Field(default=None, ge=0, le=1000)
    cpu_request: str = "100m"
    memory_request: str = "128Mi"
    cpu_limit: str | None = None
    memory_limit: str | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_name("application", value)

    @field_validator("image")
    @classmethod
    def _image(cls, value: str) -> str:
        return check_image(value)

    def effective_risk(self, plan: ActionPlan) -> Risk:
        return Risk.HIGH if self.replicas == 0 else Risk.LOW  # zero replicas is an outage

    def resources(self) -> Resources:
        return Resources.parse(
            self.cpu_request, self.memory_request, self.cpu_limit, self.memory_limit
        )

    def plan(self, ctx: OpContext, scope: Scope) -> ActionPlan:
        resources = self.resources()
        _, project = require_project(
            ctx.session, ctx.principal, self.workspace, self.project, self.org
        )
        if project.status != ObjectStatus.ACTIVE:
            raise Conflict(f"project {project.name} is {project.status}, not active")
        app = ctx.session.scalar(
            select(Application).where(
                Application.project_id == project.id,
                Application.name == self.name,
                Application.status != ObjectStatus.DELETED,
            )
        )
        replicas = self.replicas if self.replicas is not None else (app.replicas if app else 1)
        if app is not None:
            _check_autoscaling_bounds(ctx, app, replicas)
        spec = ApplicationSpec(
            image=self.image,
            replicas=replicas,
            resources=resources,
            revision=1 if app is None else app.revision + 1,
        )
        if app is not None and _spec(app).model_copy(update={"revision": spec.revision}) == spec:
            raise Conflict(
                f"application {self.name} already runs {self.image} with these resources"
            )
        _check_fits(ctx, project, resources, replicas, excluding=None if app is None else app.id)
        after = {"image": self.image, "replicas": replicas, **resources.describe()}
        before = (
            None
            if app is None
            else {
                "image": app.image,
                "replicas": app.replicas,
                **Resources.model_validate(app.resources).describe(),
            }
        )
        refs = _refs(scope, self.workspace, project, self.name) | {
            "spec": spec.model_dump(mode="json")
        }
        if app is not None:
            refs["application_id"] = app.id
        return ActionPlan(
            summary=f"{'deploy' if app is None else 'roll out'} {self.name} {self.image} "
            f"(revision {spec.revision}, {replicas} replica(s))",
            target=f"{scope.org.slug}/{self.workspace}/{self.project}/{self.name}",
            changes=[
                Change(
                    op="create" if app is None else "update",
                    kind="Deployment",
                    name=self.name,
                    before=before,
                    after=after,
                )
            ],
            refs=refs,
        )

    def recheck(self, ctx: OpContext, plan: ActionPlan) -> None:
        if not plan.refs.get("created"):  # a new object's reservation holds name and quota
            super().recheck(ctx, plan)

    def reserve(self, ctx: OpContext, plan: ActionPlan) -> None:
        if "application_id" in plan.refs:
            return
        spec = ApplicationSpec.model_validate(plan.refs["spec"])
        app = Application(
            project_id=plan.refs["project_id"],
            name=self.name,
            status=ObjectStatus.PENDING,
            image=spec.image,
            replicas=spec.replicas,
            resources=spec.resources.model_dump(),
            revision=spec.revision,
            history=[],
        )
        ctx.session.add(app)
        ctx.session.flush()
        plan.refs["application_id"] = app.id
        plan.refs["created"] = True

    def release(self, ctx: OpContext, plan: ActionPlan, *, executed: bool) -> None:
        app = ctx.session.get(Application, plan.refs["application_id"])
        if app is None or not plan.refs.get("created"):
            return
        if executed:
            app.status = ObjectStatus.FAILED
        else:
            ctx.session.delete(app)


class ScaleApplication(_AppOperation):
    """Set the number of replicas of an application."""

    kind: ClassVar[str] = "application.scale"

    replicas: int = Field(ge=0, le=1000)

    def effective_risk(self, plan: ActionPlan) -> Risk:
        return Risk.HIGH if self.replicas == 0 else Risk.LOW  # scaling to zero is an outage

    def plan(self, ctx: OpContext, scope: Scope) -> ActionPlan:
        app = self.application(ctx)
        if app.replicas == self.replicas:
            raise Conflict(f"application {self.name} already has {self.replicas} replica(s)")
        _check_autoscaling_bounds(ctx, app, self.replicas)
        resources = Resources.model_validate(app.resources)
        _check_fits(ctx, app.project, resources, self.replicas, excluding=app.id)
        spec = _spec(app).model_copy(update={"replicas": self.replicas})
        return ActionPlan(
            summary=f"scale {self.name} from {app.replicas} to {self.replicas} replica(s)",
            target=f"{scope.org.slug}/{self.workspace}/{self.project}/{self.name}",
            changes=[
                Change(
                    op="update",
                    kind="Deployment",
                    name=self.name,
                    before={"replicas": app.replicas},
                    after={"replicas": self.replicas},
                )
            ],
            refs=_refs(scope, self.workspace, app.project, self.name)
            | {"application_id": app.id, "spec": spec.model_dump(mode="json")},
        )

    def execute(self, driver: PlatformDriver, plan: ActionPlan) -> dict[str, Any]:
        observed = driver.scale_application(workload_ref(plan), self.replicas)
        return {"replicas": observed.replicas, "ready_replicas": observed.ready_replicas}


class RestartApplication(_AppOperation):
    """Rolling restart of every pod of an application (same revision)."""

    kind: ClassVar[str] = "application.restart"

    def plan(self, ctx: OpContext, scope: Scope) -> ActionPlan:
        app = self.application(ctx)
        return ActionPlan(
            summary=f"rolling restart of {self.name} ({app.replicas} pod(s))",
            target=f"{scope.org.slug}/{self.workspace}/{self.project}/{self.name}",
            changes=[
                Change(op="update", kind="Deployment", name=self.name, after={"restartedAt": "now"})
            ],
            refs=_refs(scope, self.workspace, app.project, self.name)
            | {"application_id": app.id, "spec": _spec(app).model_dump(mode="json")},
        )

    def execute(self, driver: PlatformDriver, plan: ActionPlan) -> dict[str, Any]:
        before = driver.get_application(workload_ref(plan))
        observed = driver.restart_application(workload_ref(plan))
        plan.refs["restart_generation"] = observed.restart_generation
        return {
            "restart_generation": observed.restart_generation,
            "replaced_pods": [p.name for p in before.pods] if before else [],
        }

    def verify(self, driver: PlatformDriver, plan: ActionPlan) -> None:
        observed = driver.get_application(workload_ref(plan))
        if observed is None or observed.restart_generation < plan.refs["restart_generation"]:
            raise DriverError(f"deployment {plan.target} was not restarted")

    def record(self, ctx: OpContext, plan: ActionPlan, result: dict[str, Any]) -> None:
        """A restart changes nothing the platform records beyond the action itself."""


class RollbackApplication(_AppOperation):
    """Roll an application back to an earlier revision (the previous one by default)."""

    kind: ClassVar[str] = "application.rollback"

    to_revision: int | None = Field(default=None, ge=1)

    def plan(self, ctx: OpContext, scope: Scope) -> ActionPlan:
        app = self.application(ctx)
        history = app.history
        if not history:
            raise Conflict(f"application {self.name} has no earlier revision to roll back to")
        wanted = (
            history[-1]
            if self.to_revision is None
            else next((h for h in history if h["revision"] == self.to_revision), None)
        )
        if wanted is None:
            known = ", ".join(str(h["revision"]) for h in history)
            raise InvalidInput(
                f"revision {self.to_revision} of {self.name} is not kept; known: {known}"
            )
        resources = Resources.model_validate(wanted["resources"])
        _check_fits(ctx, app.project, resources, app.replicas, excluding=app.id)
        spec = ApplicationSpec(
            image=wanted["image"],
            replicas=app.replicas,
            resources=resources,
            revision=app.revision + 1,
        )
        return ActionPlan(
            summary=f"roll back {self.name} to revision {wanted['revision']} ({wanted['image']})",
            target=f"{scope.org.slug}/{self.workspace}/{self.project}/{self.name}",
            changes=[
                Change(
                    op="update",
                    kind="Deployment",
                    name=self.name,
                    before={"image": app.image, "revision": app.revision},
                    after={
                        "image": wanted["image"],
                        "revision": spec.revision,
                        "rolled_back_to": wanted["revision"],
                    },
                )
            ],
            refs=_refs(scope, self.workspace, app.project, self.name)
            | {"application_id": app.id, "spec": spec.model_dump(mode="json")},
        )


class DeleteApplication(_AppOperation):
    """Delete an application's Deployment, pods and autoscaler."""

    kind: ClassVar[str] = "application.delete"
    risk: ClassVar[Risk] = Risk.HIGH

    def plan(self, ctx: OpContext, scope: Scope) -> ActionPlan:
        app = self.application(ctx)
        return ActionPlan(
            summary=f"delete application {self.name} ({app.replicas} replica(s) of {app.image})",
            target=f"{scope.org.slug}/{self.workspace}/{self.project}/{self.name}",
            changes=[
                Change(
                    op="delete",
                    kind="Deployment",
                    name=self.name,
                    before={"image": app.image, "replicas": app.replicas},
                )
            ],
            refs=_refs(scope, self.workspace, app.project, self.name) | {"application_id": app.id},
        )

    def execute(self, driver: PlatformDriver, plan: ActionPlan) -> dict[str, Any]:
        driver.delete_application(workload_ref(plan))
        return {"status": ObjectStatus.DELETED.value}

    def verify(self, driver: PlatformDriver, plan: ActionPlan) -> None:
        if driver.get_application(workload_ref(plan)) is not None:
            raise DriverError(f"deployment {plan.target} still exists after deletion")

    def record(self, ctx: OpContext, plan: ActionPlan, result: dict[str, Any]) -> None:
        app = ctx.session.get(Application, plan.refs["application_id"], with_for_update=True)
        if app is not None:
            app.status = ObjectStatus.DELETED


class SetApplicationAutoscaling(_AppOperation):
    """Set the HorizontalPodAutoscaler of an application: replica bounds and CPU target."""

    kind: ClassVar[str] = "application.set_hpa"

    min_replicas: int = Field(ge=1, le=1000)
    max_replicas: int = Field(ge=1, le=1000)
    target_cpu_percent: int = Field(default=70, ge=1, le=100)

    @model_validator(mode="after")
    def _bounds(self) -> SetApplicationAutoscaling:
        if self.min_replicas > self.max_replicas:
            raise InvalidInput("--min must not be greater than --max")
        return self

    def plan(self, ctx: OpContext, scope: Scope) -> ActionPlan:
        app = self.application(ctx)
        hpa = HpaSpec(
            min_replicas=self.min_replicas,
            max_replicas=self.max_replicas,
            target_cpu_percent=self.target_cpu_percent,
        )
        current = ctx.session.scalar(
            select(ScalingPolicy).where(ScalingPolicy.application_id == app.id)
        )
        before = (
            None
            if current is None
            else {
                "min_replicas": current.min_replicas,
                "max_replicas": current.max_replicas,
                "target_cpu_percent": current.target_cpu_percent,
            }
        )
        if before == hpa.model_dump():
            raise Conflict(f"application {self.name} already has this autoscaling policy")
        resources = Resources.model_validate(app.resources)
        replicas = min(max(app.replicas, hpa.min_replicas), hpa.max_replicas)
        _check_fits(ctx, app.project, resources, replicas, excluding=app.id)
        warnings = []
        try:
            _check_fits(ctx, app.project, resources, hpa.max_replicas, excluding=app.id)
        except QuotaExceeded as exc:
            warnings.append(f"at {hpa.max_replicas} replicas: {exc.message}")
        spec = _spec(app).model_copy(update={"replicas": replicas})
        return ActionPlan(
            summary=f"autoscale {self.name} between {hpa.min_replicas} and {hpa.max_replicas} "
            f"replicas at {hpa.target_cpu_percent}% CPU",
            target=f"{scope.org.slug}/{self.workspace}/{self.project}/{self.name}",
            changes=[
                Change(
                    op="update" if current else "create",
                    kind="HorizontalPodAutoscaler",
                    name=self.name,
                    before=before,
                    after=hpa.model_dump(),
                )
            ],
            warnings=warnings,
            refs=_refs(scope, self.workspace, app.project, self.name)
            | {
                "application_id": app.id,
                "hpa": hpa.model_dump(),
                "spec": spec.model_dump(mode="json"),
            },
        )

    def execute(self, driver: PlatformDriver, plan: ActionPlan) -> dict[str, Any]:
        driver.set_hpa(workload_ref(plan), HpaSpec.model_validate(plan.refs["hpa"]))
        return {"hpa": plan.refs["hpa"]}

    def verify(self, driver: PlatformDriver, plan: ActionPlan) -> None:
        super().verify(driver, plan)
        observed = driver.get_application(workload_ref(plan))
        if observed is None or observed.hpa != HpaSpec.model_validate(plan.refs["hpa"]):
            raise DriverError(f"HPA of {plan.target} does not match the plan")

    def record(self, ctx: OpContext, plan: ActionPlan, result: dict[str, Any]) -> None:
        super().record(ctx, plan, result)
        hpa = HpaSpec.model_validate(plan.refs["hpa"])
        app_id = plan.refs["application_id"]
        policy = ctx.session.scalar(
            select(ScalingPolicy).where(ScalingPolicy.application_id == app_id)
        )
        if policy is None:
            policy = ScalingPolicy(application_id=app_id)
            ctx.session.add(policy)
        policy.min_replicas, policy.max_replicas = hpa.min_replicas, hpa.max_replicas
        policy.target_cpu_percent = hpa.target_cpu_percent
