"""Node maintenance: cordon, uncordon and drain the nodes of a workspace's dedicated pool.

A tenant only ever touches its own pool. Workspaces on the shared plan run on host nodes shared
with other tenants, which only the platform operators maintain: every node operation there is
refused at plan time, and so is any node that is not in the workspace's pool (the driver lists
the pool, and checks again when it runs).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import field_validator

from hexaops.platform.access import Scope, require_workspace
from hexaops.platform.domain import Plan, Risk
from hexaops.platform.drivers.contract import ObservedNode, PlatformDriver, WorkspaceRef
from hexaops.platform.errors import Conflict, DriverError, Forbidden, InvalidInput
from hexaops.platform.operations.base import ActionPlan, Change, OpContext, Operation
from hexaops.platform.operations.maintenance import check_object_name, ready_workspace


def _ref(plan: ActionPlan) -> WorkspaceRef:
    return WorkspaceRef(org=plan.refs["org"], workspace=plan.refs["workspace"])


class _NodeOperation(Operation):
    workspace: str
    node: str
    org: str | None = None

    @field_validator("node")
    @classmethod
    def _node(cls, value: str) -> str:
        return check_object_name("node", value)

    def scope(self, ctx: OpContext) -> Scope:
        return require_workspace(ctx.session, ctx.principal, self.workspace, self.org)[0]

    def _pool(self, ctx: OpContext, scope: Scope) -> tuple[ObservedNode, list[ObservedNode]]:
        """The node, and the whole pool it belongs to; refused unless it is the tenant's own."""
        _, workspace = ready_workspace(ctx, self.workspace, self.org)
        if workspace.plan != Plan.DEDICATED:
            raise Forbidden(
                f"workspace {self.workspace} is on the shared plan: its pods run on host nodes "
                "shared with other tenants, which only the platform operators maintain. Move "
                "pods off a bad node with pod.delete or application.restart instead, or move the "
                "workspace to the dedicated plan to get nodes of its own."
            )
        ref = WorkspaceRef(org=scope.org.slug, workspace=self.workspace)
        pool = ctx.cluster().list_pool_nodes(ref)
        node = next((n for n in pool if n.name == self.node), None)
        if node is None:
            raise InvalidInput(
                f"node {self.node!r} is not in the dedicated node pool of workspace "
                f"{self.workspace}; its nodes are: {', '.join(n.name for n in pool) or 'none yet'}"
            )
        return node, pool

    def _plan(
        self, scope: Scope, summary: str, change: Change, warnings: list[str] | None = None
    ) -> ActionPlan:
        return ActionPlan(
            summary=summary,
            target=f"{scope.org.slug}/{self.workspace}/nodes/{self.node}",
            changes=[change],
            warnings=warnings or [],
            refs={"org": scope.org.slug, "workspace": self.workspace, "node": self.node},
        )

    def _observe(self, driver: PlatformDriver, plan: ActionPlan) -> ObservedNode:
        node = next((n for n in driver.list_pool_nodes(_ref(plan)) if n.name == self.node), None)
        if node is None:
            raise DriverError(f"node {self.node} left the pool of {plan.refs['workspace']}")
        return node


def _no_room(node: ObservedNode, pool: list[ObservedNode]) -> bool:
    return not any(not n.unschedulable for n in pool if n.name != node.name)


class CordonNode(_NodeOperation):
    """Mark a node of the workspace's dedicated pool unschedulable (`kubectl cordon`).

    New pods no longer land on it; pods already there keep running (use node.drain to move them
    off). Use it to stop a node with memory or disk pressure from taking more pods. Only nodes of
    the workspace's own dedicated pool; refused on the shared plan. Owners and admins; low risk.
    """

    kind: ClassVar[str] = "node.cordon"

    def plan(self, ctx: OpContext, scope: Scope) -> ActionPlan:
        node, pool = self._pool(ctx, scope)
        if node.unschedulable:
            raise Conflict(
                f"node {self.node} is already cordoned: drain it (node.drain) to move its pods "
                "off, or uncordon it (node.uncordon) to let pods back on"
            )
        warnings = []
        if _no_room(node, pool):
            warnings.append("no other node of the pool takes new pods: they will stay Pending")
        return self._plan(
            scope,
            f"cordon node {self.node} of workspace {self.workspace}",
            Change(
                op="update",
                kind="Node",
                name=self.node,
                before={"schedulable": True},
                after={"schedulable": False},
            ),
            warnings,
        )

    def execute(self, driver: PlatformDriver, plan: ActionPlan) -> dict[str, Any]:
        driver.cordon_node(_ref(plan), self.node)
        return {"node": self.node, "schedulable": False}

    def verify(self, driver: PlatformDriver, plan: ActionPlan) -> None:
        if not self._observe(driver, plan).unschedulable:
            raise DriverError(f"node {self.node} still accepts pods after cordoning")


class UncordonNode(_NodeOperation):
    """Let pods be scheduled on a cordoned node of the workspace's dedicated pool again
    (`kubectl uncordon`), once whatever made you cordon or drain it is fixed.

    Only nodes of the workspace's own dedicated pool; refused on the shared plan. Owners and
    admins; low risk.
    """

    kind: ClassVar[str] = "node.uncordon"

    def plan(self, ctx: OpContext, scope: Scope) -> ActionPlan:
        node, _ = self._pool(ctx, scope)
        if not node.unschedulable:
            raise Conflict(f"node {self.node} is not cordoned: it already accepts pods")
        return self._plan(
            scope,
            f"uncordon node {self.node} of workspace {self.workspace}",
            Change(
                op="update",
                kind="Node",
                name=self.node,
                before={"schedulable": False},
                after={"schedulable": True},
            ),
        )

    def execute(self, driver: PlatformDriver, plan: ActionPlan) -> dict[str, Any]:
        driver.uncordon_node(_ref(plan), self.node)
        return {"node": self.node, "schedulable": True}

    def verify(self, driver: PlatformDriver, plan: ActionPlan) -> None:
        if self._observe(driver, plan).unschedulable:
            raise DriverError(f"node {self.node} is still cordoned after uncordoning")


class DrainNode(_NodeOperation):
    """Cordon a node of the workspace's dedicated pool and evict its pods (`kubectl drain`).

    Their Deployments recreate them on the pool's other nodes (honouring PodDisruptionBudgets).
    Use it for a node under memory or disk pressure, or before node maintenance; uncordon it
    afterwards (node.uncordon). Only nodes of the workspace's own dedicated pool; refused on the
    shared plan. High risk (it disrupts every pod on the node): an owner or admin requests it and
    an owner or admin approves it before it runs.
    """

    kind: ClassVar[str] = "node.drain"
    risk: ClassVar[Risk] = Risk.HIGH

    def plan(self, ctx: OpContext, scope: Scope) -> ActionPlan:
        node, pool = self._pool(ctx, scope)
        if node.unschedulable and node.workload_pods == 0:
            raise Conflict(
                f"node {self.node} is already drained (cordoned, no pods): uncordon it "
                "(node.uncordon) when it is healthy again"
            )
        # Pod counts go to warnings: they move while the action waits for approval, and the
        # recheck before it runs must only refuse a change to the node itself.
        warnings = [f"{node.workload_pods} pod(s) on {self.node} will be evicted and recreated"]
        if _no_room(node, pool):
            warnings.append(
                "no other node of the pool takes pods: evicted pods stay Pending until a node "
                "is uncordoned"
            )
        return self._plan(
            scope,
            f"drain node {self.node} of workspace {self.workspace} (cordon, evict its pods)",
            Change(
                op="update",
                kind="Node",
                name=self.node,
                before={"schedulable": not node.unschedulable},
                after={"schedulable": False, "pods": 0},
            ),
            warnings,
        )

    def execute(self, driver: PlatformDriver, plan: ActionPlan) -> dict[str, Any]:
        evicted = driver.drain_node(_ref(plan), self.node)
        return {"node": self.node, "schedulable": False, "evicted": evicted}

    def verify(self, driver: PlatformDriver, plan: ActionPlan) -> None:
        node = self._observe(driver, plan)
        if not node.unschedulable or node.workload_pods:
            raise DriverError(
                f"node {self.node} is not drained: {node.workload_pods} pod(s) still on it"
            )
