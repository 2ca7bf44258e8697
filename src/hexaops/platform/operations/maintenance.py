"""Maintenance operations on a running workspace: pods, certificates, NetworkPolicies, DNS.

These are what on-call does beyond deploys (node maintenance is in `nodes.py`). Their plans read
the cluster through the driver (which pods, certificates and policies exist right now), so the
plan names the very object that will change, and a stale name is refused before anything runs.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import field_validator

from hexaops.platform.access import Scope, require_application, require_project, require_workspace
from hexaops.platform.db.models import Workspace
from hexaops.platform.domain import Risk, WorkspaceStatus
from hexaops.platform.drivers.contract import (
    NamespaceRef,
    PlatformDriver,
    WorkloadRef,
    WorkspaceRef,
)
from hexaops.platform.errors import Conflict, DriverError, InvalidInput, NotFound
from hexaops.platform.operations.base import ActionPlan, Change, OpContext, Operation

# A Kubernetes object name (DNS-1123 subdomain).
_OBJECT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")


def check_object_name(what: str, value: str) -> str:
    if not _OBJECT_NAME.match(value):
        raise InvalidInput(
            f"invalid {what} name {value!r}: use the exact name Kubernetes shows "
            "(lowercase letters, digits, '-' and '.')"
        )
    return value


def ready_workspace(ctx: OpContext, name: str, org: str | None) -> tuple[Scope, Workspace]:
    """A workspace whose vCluster runs: maintenance acts on live cluster objects."""
    scope, workspace = require_workspace(ctx.session, ctx.principal, name, org)
    if workspace.status != WorkspaceStatus.READY:
        raise Conflict(
            f"workspace {name} is {workspace.status}, not ready: wait until it is ready "
            "(hexaops platform workspace list) and retry"
        )
    return scope, workspace


def _namespace_ref(plan: ActionPlan) -> NamespaceRef:
    refs = plan.refs
    return NamespaceRef(org=refs["org"], workspace=refs["workspace"], namespace=refs["project"])


class _InProject(Operation):
    workspace: str
    project: str
    org: str | None = None

    def scope(self, ctx: OpContext) -> Scope:
        return require_project(ctx.session, ctx.principal, self.workspace, self.project, self.org)[
            0
        ]

    def _namespace(self, ctx: OpContext, scope: Scope) -> NamespaceRef:
        ready_workspace(ctx, self.workspace, self.org)
        require_project(ctx.session, ctx.principal, self.workspace, self.project, self.org)
        return NamespaceRef(org=scope.org.slug, workspace=self.workspace, namespace=self.project)

    def _refs(self, scope: Scope, **extra: Any) -> dict[str, Any]:
        return {
            "org": scope.org.slug,
            "workspace": self.workspace,
            "project": self.project,
            **extra,
        }


class DeletePod(_InProject):
    """Delete one pod of an application; its Deployment starts a fresh replacement at once.

    Use it for a single misbehaving pod (disk full, stuck, wedged on a bad node) while the other
    replicas are healthy; to replace every pod use application.restart instead. Give the exact pod
    name (it must be a current pod of `application`). The plan shows the pod, its application,
    node, phase and restarts. Allowed to owners, admins and developers; low risk, runs at once.
    """

    kind: ClassVar[str] = "pod.delete"

    application: str
    pod: str

    @field_validator("pod")
    @classmethod
    def _pod(cls, value: str) -> str:
        return check_object_name("pod", value)

    def plan(self, ctx: OpContext, scope: Scope) -> ActionPlan:
        ready_workspace(ctx, self.workspace, self.org)
        _, app = require_application(
            ctx.session, ctx.principal, self.workspace, self.project, self.application, self.org
        )
        ref = WorkloadRef(
            org=scope.org.slug, workspace=self.workspace, namespace=self.project, name=app.name
        )
        observed = ctx.cluster().get_application(ref)
        pods = {p.name: p for p in observed.pods} if observed is not None else {}
        pod = pods.get(self.pod)
        if pod is None:
            raise NotFound(
                f"pod {self.pod} is not a current pod of application {app.name} in "
                f"{self.workspace}/{self.project}; its pods are: {', '.join(sorted(pods)) or 'none'}"
            )
        warnings = []
        if len(pods) == 1:
            warnings.append(
                f"{app.name} has a single pod: it is unavailable until the replacement is ready"
            )
        return ActionPlan(
            summary=f"delete pod {pod.name} of application {app.name}; its Deployment replaces it",
            target=f"{scope.org.slug}/{self.workspace}/{self.project}/{app.name}/{pod.name}",
            changes=[
                Change(
                    op="delete",
                    kind="Pod",
                    name=pod.name,
                    before={
                        "application": app.name,
                        "node": pod.node,
                        "phase": pod.phase,
                        "ready": pod.ready,
                        "restarts": pod.restarts,
                    },
                )
            ],
            warnings=warnings,
            refs=self._refs(scope, application=app.name, pod=pod.name),
        )

    @staticmethod
    def _ref(plan: ActionPlan) -> WorkloadRef:
        return WorkloadRef(
            org=plan.refs["org"],
            workspace=plan.refs["workspace"],
            namespace=plan.refs["project"],
            name=plan.refs["application"],
        )

    def execute(self, driver: PlatformDriver, plan: ActionPlan) -> dict[str, Any]:
        observed = driver.delete_pod(self._ref(plan), plan.refs["pod"])
        return {"deleted": plan.refs["pod"], "pods": [p.name for p in observed.pods]}

    def verify(self, driver: PlatformDriver, plan: ActionPlan) -> None:
        observed = driver.get_application(self._ref(plan))
        if observed is not None and plan.refs["pod"] in {p.name for p in observed.pods}:
            raise DriverError(f"pod {plan.refs['pod']} still runs after its deletion")


class RenewCertificate(_InProject):
    """Renew a cert-manager Certificate in a project now, instead of waiting for its renewal time.

    Use it when a TLS certificate expired or is about to (CertificateExpired events,
    "x509: certificate has expired" in logs). It triggers re-issuance the way `cmctl renew` does
    (the Certificate's Issuing condition); cert-manager then issues a new certificate into the
    same Secret. `name` is the Certificate object's name (e.g. "frontend-tls"). Allowed to owners,
    admins and developers; low risk, runs at once.
    """

    kind: ClassVar[str] = "certificate.renew"

    name: str

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_object_name("certificate", value)

    def plan(self, ctx: OpContext, scope: Scope) -> ActionPlan:
        ref = self._namespace(ctx, scope)
        cert = ctx.cluster().get_certificate(ref, self.name)
        if cert is None:
            raise NotFound(
                f"certificate {self.name} not found in {self.workspace}/{self.project}: use the "
                "name from the CertificateExpired event (the Certificate, not its Secret)"
            )
        if cert.issuing:
            raise Conflict(
                f"certificate {self.name} is already being issued by cert-manager: wait a minute "
                "and check that it is ready"
            )
        return ActionPlan(
            summary=f"renew certificate {self.name} in {self.workspace}/{self.project}",
            target=f"{scope.org.slug}/{self.workspace}/{self.project}/{self.name}",
            changes=[
                Change(
                    op="update",
                    kind="Certificate",
                    name=self.name,
                    before={"ready": cert.ready, "revision": cert.revision},
                    after={"revision": cert.revision + 1},
                )
            ],
            refs=self._refs(scope, name=self.name, revision=cert.revision),
        )

    def execute(self, driver: PlatformDriver, plan: ActionPlan) -> dict[str, Any]:
        return driver.renew_certificate(_namespace_ref(plan), plan.refs["name"]).model_dump()

    def verify(self, driver: PlatformDriver, plan: ActionPlan) -> None:
        cert = driver.get_certificate(_namespace_ref(plan), plan.refs["name"])
        # Issuing: cert-manager accepted the renewal and is still at work on it.
        if cert is None or not (cert.revision > plan.refs["revision"] or cert.issuing):
            raise DriverError(f"certificate {plan.target} was not renewed")


class DeleteNetworkPolicy(_InProject):
    """Delete a NetworkPolicy in a project, opening the traffic it denied.

    Use it when a policy blocks traffic it should not (callers time out: "connection timed out",
    error spikes right after a policy change). Give the policy's exact name; the plan lists the
    project's policies when the name is wrong. High risk (it widens network access): an owner or
    admin requests it and an owner or admin approves it before it runs.
    """

    kind: ClassVar[str] = "network_policy.delete"
    risk: ClassVar[Risk] = Risk.HIGH

    name: str

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_object_name("NetworkPolicy", value)

    def plan(self, ctx: OpContext, scope: Scope) -> ActionPlan:
        ref = self._namespace(ctx, scope)
        policies = ctx.cluster().list_network_policies(ref)
        if self.name not in policies:
            raise NotFound(
                f"NetworkPolicy {self.name} not found in {self.workspace}/{self.project}; "
                f"its policies are: {', '.join(policies) or 'none'}"
            )
        return ActionPlan(
            summary=f"delete NetworkPolicy {self.name} in {self.workspace}/{self.project}",
            target=f"{scope.org.slug}/{self.workspace}/{self.project}/{self.name}",
            changes=[Change(op="delete", kind="NetworkPolicy", name=self.name)],
            warnings=["traffic this policy denied will be allowed once it is deleted"],
            refs=self._refs(scope, name=self.name),
        )

    def execute(self, driver: PlatformDriver, plan: ActionPlan) -> dict[str, Any]:
        driver.delete_network_policy(_namespace_ref(plan), plan.refs["name"])
        return {"deleted": plan.refs["name"]}

    def verify(self, driver: PlatformDriver, plan: ActionPlan) -> None:
        if plan.refs["name"] in driver.list_network_policies(_namespace_ref(plan)):
            raise DriverError(f"NetworkPolicy {plan.target} still exists after its deletion")


class RestartWorkspaceDns(Operation):
    """Rolling restart of the CoreDNS of a workspace's vCluster (kube-system/coredns).

    Use it when service names stop resolving inside the workspace ("no such host",
    "i/o timeout" on lookups of in-cluster names) while pods themselves run. CoreDNS is restarted
    pod by pod, so resolution keeps working during the restart. `name` is the workspace. Allowed
    to owners and admins; low risk, runs at once.
    """

    kind: ClassVar[str] = "workspace.restart_dns"

    name: str
    org: str | None = None

    def scope(self, ctx: OpContext) -> Scope:
        return require_workspace(ctx.session, ctx.principal, self.name, self.org)[0]

    def plan(self, ctx: OpContext, scope: Scope) -> ActionPlan:
        ready_workspace(ctx, self.name, self.org)
        ref = WorkspaceRef(org=scope.org.slug, workspace=self.name)
        dns = ctx.cluster().get_coredns(ref)
        if dns is None:
            raise Conflict(
                f"workspace {self.name} has no CoreDNS in its vCluster: the vCluster may still be "
                "starting; check the workspace status and retry"
            )
        return ActionPlan(
            summary=f"restart CoreDNS of workspace {self.name} (rolling)",
            target=f"{scope.org.slug}/{self.name}",
            changes=[
                Change(
                    op="update",
                    kind="Deployment",
                    name="kube-system/coredns",
                    before={"restart_generation": dns.restart_generation},
                    after={"restart_generation": dns.restart_generation + 1},
                )
            ],
            refs={
                "org": scope.org.slug,
                "workspace": self.name,
                "restart_generation": dns.restart_generation,
            },
        )

    @staticmethod
    def _ref(plan: ActionPlan) -> WorkspaceRef:
        return WorkspaceRef(org=plan.refs["org"], workspace=plan.refs["workspace"])

    def execute(self, driver: PlatformDriver, plan: ActionPlan) -> dict[str, Any]:
        return driver.restart_coredns(self._ref(plan)).model_dump()

    def verify(self, driver: PlatformDriver, plan: ActionPlan) -> None:
        dns = driver.get_coredns(self._ref(plan))
        if dns is None or dns.restart_generation <= plan.refs["restart_generation"]:
            raise DriverError(f"CoreDNS of {plan.target} was not restarted")
