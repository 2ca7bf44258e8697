"""The platform core as one object: actions (the only writes) and reads, per principal."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from hexaops.platform import queries
from hexaops.platform.access import organization_slugs, resolve_user
from hexaops.platform.actions import ActionPipeline
from hexaops.platform.db.engine import create_platform_engine
from hexaops.platform.domain import ActionStatus, Principal
from hexaops.platform.drivers import create_driver
from hexaops.platform.drivers.contract import PlatformDriver
from hexaops.platform.errors import Conflict
from hexaops.platform.operations import Operation, build_operation
from hexaops.platform.views import (
    ActionView,
    ApplicationView,
    AuditView,
    FunctionView,
    MemberView,
    OrganizationOverview,
    OrganizationView,
    ProjectOverview,
    ProjectView,
    WorkspaceOverview,
    WorkspaceView,
)
from hexaops.settings import Settings


class Platform:
    def __init__(self, engine: Engine, driver: PlatformDriver) -> None:
        self.engine = engine
        self.sessions: sessionmaker[Session] = sessionmaker(engine, expire_on_commit=False)
        self.driver = driver
        self.actions = ActionPipeline(self.sessions, driver)

    # -- principals ----------------------------------------------------------------------

    def user(self, email: str) -> Principal:
        with self.sessions() as session:
            return resolve_user(session, email)

    # -- writes --------------------------------------------------------------------------

    def submit(
        self,
        principal: Principal,
        operation: Operation,
        *,
        idempotency_key: str | None = None,
        dry_run: bool = False,
    ) -> ActionView:
        return self.actions.request(
            principal, operation, idempotency_key=idempotency_key, dry_run=dry_run
        )

    def request(
        self,
        principal: Principal,
        kind: str,
        params: dict[str, Any],
        *,
        idempotency_key: str | None = None,
        dry_run: bool = False,
    ) -> ActionView:
        """Like `submit`, from an operation kind and raw parameters (validated here)."""
        return self.submit(
            principal,
            build_operation(kind, params),
            idempotency_key=idempotency_key,
            dry_run=dry_run,
        )

    def approve(self, principal: Principal, action_id: int, note: str = "") -> ActionView:
        return self.actions.approve(principal, action_id, note)

    def reject(self, principal: Principal, action_id: int, note: str = "") -> ActionView:
        return self.actions.reject(principal, action_id, note)

    def wait_for(
        self, principal: Principal, action_id: int, timeout: float = 60.0, poll: float = 0.1
    ) -> ActionView:
        """The action once it has left approved/executing (e.g. run by another process)."""
        deadline = time.monotonic() + timeout
        while True:
            view = self.action(principal, action_id)
            if view.status not in (ActionStatus.APPROVED, ActionStatus.EXECUTING):
                return view
            if time.monotonic() > deadline:
                raise Conflict(
                    f"action {action_id} is still {view.status} after {timeout:.0f} s: "
                    f"check it with hexaops platform actions show {action_id}"
                )
            time.sleep(poll)

    # -- reads ---------------------------------------------------------------------------

    def organizations(self, principal: Principal) -> list[OrganizationView]:
        with self.sessions() as s:
            return queries.organizations(s, principal)

    def organization_slugs(self, principal: Principal) -> list[str]:
        """The slugs of the principal's organizations (cheaper than `organizations`)."""
        # One statement, read outside a transaction: no BEGIN and ROLLBACK round trips.
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            return organization_slugs(connection, principal)

    def members(self, principal: Principal, org: str) -> list[MemberView]:
        with self.sessions() as s:
            return queries.members(s, principal, org)

    def workspaces(self, principal: Principal, org: str | None = None) -> list[WorkspaceView]:
        with self.sessions() as s:
            return queries.workspaces(s, principal, org)

    def projects(
        self, principal: Principal, workspace: str, org: str | None = None
    ) -> list[ProjectView]:
        with self.sessions() as s:
            return queries.projects(s, principal, workspace, org)

    def applications(
        self, principal: Principal, workspace: str, project: str, org: str | None = None
    ) -> list[ApplicationView]:
        with self.sessions() as s:
            return queries.applications(s, principal, workspace, project, org)

    def functions(
        self, principal: Principal, workspace: str, project: str, org: str | None = None
    ) -> list[FunctionView]:
        with self.sessions() as s:
            return queries.functions(s, principal, workspace, project, org)

    def list_actions(
        self,
        principal: Principal,
        org: str | None = None,
        status: str | None = None,
        limit: int = 50,
    ) -> list[ActionView]:
        with self.sessions() as s:
            return queries.actions(s, principal, org, status, limit)

    def action(self, principal: Principal, action_id: int) -> ActionView:
        with self.sessions() as s:
            return queries.action(s, principal, action_id)

    def action_by_key(self, principal: Principal, key: str) -> ActionView | None:
        """The action `principal` requested under idempotency key `key`, if any."""
        with self.sessions() as s:
            return queries.action_by_key(s, principal, key)

    def overview(self, principal: Principal) -> list[OrganizationOverview]:
        """Everything the principal can see, organization → workspace → project → application."""
        with self.sessions() as s:
            tree = []
            for org in queries.organizations(s, principal):
                workspaces = []
                for ws in queries.workspaces(s, principal, org.slug):
                    projects = [
                        ProjectOverview(
                            project=p,
                            applications=queries.applications(
                                s, principal, ws.name, p.name, org.slug
                            ),
                        )
                        for p in queries.projects(s, principal, ws.name, org.slug)
                    ]
                    workspaces.append(WorkspaceOverview(workspace=ws, projects=projects))
                tree.append(OrganizationOverview(organization=org, workspaces=workspaces))
            return tree

    def audit(self, principal: Principal, org: str, limit: int = 100) -> list[AuditView]:
        with self.sessions() as s:
            return queries.audit_events(s, principal, org, limit)


@contextmanager
def open_platform(settings: Settings) -> Iterator[Platform]:
    """The platform on the configured database and driver; the engine is closed on exit."""
    engine = create_platform_engine(settings)
    try:
        yield Platform(engine, create_driver(settings, engine))
    finally:
        engine.dispose()
