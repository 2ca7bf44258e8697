"""What every operation provides to the action pipeline (see `hexaops.platform.actions`).

An operation is a pydantic model of its parameters plus the steps the pipeline runs:

    scope → (authorize) → plan → reserve        one transaction, when the action is requested
    recheck → start                             one transaction, when a pending action is approved
    start                                       (auto-approved: in the request's transaction)
    execute → verify                            driver calls, outside any transaction
    record | release                            one transaction, with the result

`plan` is a dry run: it reads state, checks conflicts and quotas, and describes the change.
Everything `execute` needs is in the plan's `refs`, so an approved action runs the same change
that was shown to the approver, even in another process.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from hexaops.platform.access import Scope
from hexaops.platform.domain import Principal, Risk
from hexaops.platform.drivers.contract import PlatformDriver
from hexaops.platform.errors import Conflict


class Change(BaseModel):
    """One line of a dry-run diff."""

    op: str  # create | update | delete
    kind: str  # Workspace, Project, Application, ...
    name: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


class ActionPlan(BaseModel):
    summary: str
    target: str  # "org/workspace[/project[/name]]"
    changes: list[Change]
    warnings: list[str] = []
    refs: dict[str, Any] = {}


@dataclass
class OpContext:
    session: Session
    principal: Principal
    # Plans of maintenance operations read the cluster (which pods, nodes, certificates exist);
    # the pipeline passes its driver to plan and recheck.
    driver: PlatformDriver | None = None

    def cluster(self) -> PlatformDriver:
        if self.driver is None:
            raise RuntimeError("this step reads the cluster: build the OpContext with a driver")
        return self.driver


class Operation(BaseModel, ABC):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: ClassVar[str]
    risk: ClassVar[Risk] = Risk.LOW

    @abstractmethod
    def scope(self, ctx: OpContext) -> Scope:
        """The organization the operation acts in; NotFound when not visible to the principal."""

    @abstractmethod
    def plan(self, ctx: OpContext, scope: Scope) -> ActionPlan:
        """Validate against current state and describe the change; never writes."""

    def effective_risk(self, plan: ActionPlan) -> Risk:
        return self.risk

    def recheck(self, ctx: OpContext, plan: ActionPlan) -> None:
        """Before a pending action runs: plan again as the requester and refuse (Conflict) when
        the change is no longer the one that was approved — state moved on while it waited."""
        fresh = ActionPlan.model_validate(self.plan(ctx, self.scope(ctx)).model_dump(mode="json"))
        # refs name the very objects (ids, revisions): a look-alike recreated since must not do.
        if (fresh.changes, fresh.refs) != (plan.changes, plan.refs):
            raise Conflict(
                f"the platform changed since this was requested: it would now {fresh.summary}"
            )

    def reserve(self, ctx: OpContext, plan: ActionPlan) -> None:
        """Write what must exist while the action waits or runs (e.g. a pending workspace)."""

    def start(self, ctx: OpContext, plan: ActionPlan) -> None:
        """Mark objects as changing (provisioning, deleting) as execution begins."""

    @abstractmethod
    def execute(self, driver: PlatformDriver, plan: ActionPlan) -> dict[str, Any]:
        """Carry out the change on the cluster; return what the cluster reports."""

    def verify(self, driver: PlatformDriver, plan: ActionPlan) -> None:
        """Read the change back from the cluster; raise DriverError when it did not take."""

    def record(self, ctx: OpContext, plan: ActionPlan, result: dict[str, Any]) -> None:
        """Persist the new platform state after a verified execution."""

    def release(self, ctx: OpContext, plan: ActionPlan, *, executed: bool) -> None:
        """Undo `reserve` after a rejection (executed=False) or mark objects failed (True)."""
