"""What a tool runs with: who is asking, the platform, the telemetry backends, a clock, budgets.

The principal and the clients come from here — never from a global and never from arguments the
model chose. Every read a tool makes is scoped through these helpers first: an object the
principal may not see is "not found", exactly as the platform core answers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from hexaops.platform.core import Platform
from hexaops.platform.domain import Principal
from hexaops.platform.errors import InvalidInput, NotFound
from hexaops.platform.telemetry.clickhouse import ClickHouseStore, Tenant
from hexaops.platform.views import ApplicationView, FunctionView, ProjectView, WorkspaceView
from hexaops.settings import Settings
from hexaops.tools.args import Window
from hexaops.tools.budget import DEFAULT_BUDGET

T = TypeVar("T")


@dataclass
class ToolContext:
    """The injected context of one tool call (or of one agent turn's many calls)."""

    platform: Platform
    principal: Principal
    settings: Settings
    budget_tokens: int = DEFAULT_BUDGET
    timeout_seconds: float = 10.0  # per backend request: a slow backend is an error, not a hang
    clock: Callable[[], datetime] | None = None
    resources: dict[str, Any] = field(default_factory=dict)
    call_id: str | None = None  # the current call's id, set by run_tool (idempotency of writes)
    _owned: list[Any] = field(default_factory=list)
    _org_slugs: list[str] | None = field(default=None, repr=False)

    def action_key(self, n: int = 1) -> str | None:
        """The idempotency key of this call's `n`-th platform request: a retried call requests
        nothing twice (the agents' approvals find the first request by it)."""
        if not self.call_id:
            return None
        return f"tool:{self.call_id}" + (f"#{n}" if n > 1 else "")

    # -- clients -------------------------------------------------------------------------

    def resource(self, key: str, factory: Callable[[], T], *, owned: bool = True) -> T:
        """A client shared by the tools of this context, created on first use. Clients the
        context created are closed with it; clients handed in (`resources=`) are not."""
        if key not in self.resources:
            self.resources[key] = factory()
            if owned:
                self._owned.append(self.resources[key])
        return cast("T", self.resources[key])

    @classmethod
    def for_settings(
        cls, platform: Platform, principal: Principal, settings: Settings, **kwargs: Any
    ) -> ToolContext:
        """A context with the configured budget and timeout."""
        return cls(
            platform,
            principal,
            settings,
            budget_tokens=settings.tool_budget_tokens,
            timeout_seconds=settings.tool_timeout_seconds,
            **kwargs,
        )

    def telemetry(self) -> ClickHouseStore:
        return self.resource("telemetry", lambda: ClickHouseStore.from_settings(self.settings))

    def close(self) -> None:
        for client in reversed(self._owned):
            close = getattr(client, "close", None)
            if callable(close):
                close()
        self._owned.clear()

    def __enter__(self) -> ToolContext:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- time ----------------------------------------------------------------------------

    def now(self) -> datetime:
        """The platform's present: the sandbox's simulated clock under the sandbox driver (its
        telemetry is stamped with it), the wall clock otherwise."""
        if self.clock is not None:
            return self.clock()
        if self.platform.driver.name == "sandbox":
            from hexaops.platform.sandbox import Simulation

            return self.resource("simulation", lambda: Simulation(self.platform.engine)).now()
        return datetime.now(UTC)

    def window(self, window: Window) -> tuple[datetime, datetime]:
        return window.resolve(self.now())

    # -- tenancy -------------------------------------------------------------------------

    def organizations(self) -> list[str]:
        """The slugs of the principal's organizations, read once per context (a turn's calls
        share them; the platform core still checks membership on everything it does)."""
        if self._org_slugs is None:
            self._org_slugs = self.platform.organization_slugs(self.principal)
        return self._org_slugs

    def organization(self, org: str | None = None) -> str:
        """The organization a request is about: the one named (if the principal belongs to it),
        or the principal's only one."""
        slugs = self.organizations()
        if org is not None:
            if org not in slugs:
                raise NotFound(f"organization {org!r} not found")
            return org
        if len(slugs) == 1:
            return slugs[0]
        if not slugs:
            raise NotFound(f"{self.principal.id} belongs to no organization")
        raise InvalidInput(
            f"you belong to several organizations ({', '.join(slugs)}): say which with org"
        )

    def workspaces(self, org: str | None = None) -> list[WorkspaceView]:
        """The workspaces of the organization the principal may see (not deleted)."""
        return self.platform.workspaces(self.principal, self.organization(org))

    def workspace(self, name: str, org: str | None = None) -> WorkspaceView:
        for ws in self.workspaces(org):
            if ws.name == name:
                return ws
        raise NotFound(f"workspace {name!r} not found")

    def tenant(self, workspace: str | None = None, org: str | None = None) -> Tenant:
        """The telemetry scope of a read: the organization, narrowed to one workspace it has."""
        if workspace is None:
            return Tenant(self.organization(org))
        ws = self.workspace(workspace, org)
        return Tenant(ws.org, ws.name)

    def project(self, workspace: str, project: str, org: str | None = None) -> ProjectView:
        ws = self.workspace(workspace, org)
        for p in self.platform.projects(self.principal, ws.name, ws.org):
            if p.name == project:
                return p
        raise NotFound(f"project {project!r} not found in workspace {workspace!r}")

    def application(
        self, workspace: str, project: str, name: str, org: str | None = None
    ) -> ApplicationView:
        p = self.project(workspace, project, org)
        for app in self.platform.applications(self.principal, p.workspace, p.name, p.org):
            if app.name == name:
                return app
        raise NotFound(f"application {name!r} not found in {workspace}/{project}")

    def function(
        self, workspace: str, project: str, name: str, org: str | None = None
    ) -> FunctionView:
        p = self.project(workspace, project, org)
        for fn in self.platform.functions(self.principal, p.workspace, p.name, p.org):
            if fn.name == name:
                return fn
        raise NotFound(f"function {name!r} not found in {workspace}/{project}")
