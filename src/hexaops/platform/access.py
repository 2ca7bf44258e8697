"""Who may see and do what: scope resolution and the role × operation matrix.

Resolution only finds objects in organizations the principal belongs to, so a user of one
organization gets "not found" — never "forbidden" — for anything of another organization.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from hexaops.platform.db.models import (
    Application,
    Function,
    Membership,
    Organization,
    Project,
    User,
    Workspace,
)
from hexaops.platform.domain import ObjectStatus, Principal, Role, WorkspaceStatus
from hexaops.platform.errors import Forbidden, InvalidInput, NotFound

_ALL = frozenset(Role)
_BUILDERS = frozenset({Role.OWNER, Role.ADMIN, Role.DEVELOPER})
_ADMINS = frozenset({Role.OWNER, Role.ADMIN})

# Operation (or read permission) → roles allowed. Anything missing here is denied.
PERMISSIONS: dict[str, frozenset[Role]] = {
    "read": _ALL,
    "audit.read": _ADMINS,
    "knowledge.ingest": _ADMINS,  # an organization's private documents
    "action.approve": _ADMINS,
    "member.add": _ADMINS,
    "member.remove": _ADMINS,
    "workspace.create": _ADMINS,
    "workspace.delete": _ADMINS,
    "project.create": _ADMINS,
    "project.update_quota": _ADMINS,
    "project.delete": _ADMINS,
    "application.deploy": _BUILDERS,
    "application.scale": _BUILDERS,
    "application.restart": _BUILDERS,
    "application.rollback": _BUILDERS,
    "application.delete": _BUILDERS,
    "application.set_hpa": _BUILDERS,
    "function.deploy": _BUILDERS,
    "function.set_scaling": _BUILDERS,
    "function.delete": _BUILDERS,
    # Maintenance of running workspaces. Nodes are only ever the workspace's dedicated pool.
    "pod.delete": _BUILDERS,
    "certificate.renew": _BUILDERS,
    "node.cordon": _ADMINS,
    "node.uncordon": _ADMINS,
    "node.drain": _ADMINS,
    "network_policy.delete": _ADMINS,
    "workspace.restart_dns": _ADMINS,
    # The sandbox (simulated platform): inject faults, read their ground truth.
    "sandbox.inject": _ADMINS,
    "sandbox.truth": _ADMINS,
}


@dataclass(frozen=True)
class Scope:
    """An organization the principal belongs to, and its role there."""

    org: Organization
    role: Role

    def authorize(self, permission: str) -> None:
        allowed = PERMISSIONS.get(permission, frozenset())
        if self.role not in allowed:
            needed = " or ".join(sorted(r.value for r in allowed)) or "nobody"
            raise Forbidden(
                f"your role in {self.org.slug} is {self.role.value}; {permission} needs {needed}. "
                f"Ask an owner of {self.org.slug} to change your role or to do it for you."
            )


def resolve_user(session: Session, email: str) -> Principal:
    """The principal of a platform user, by email."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound(
            f"no platform user {email!r}: check the address, or ask an organization owner to add you"
        )
    return Principal(id=user.email, user_id=user.id)


_T = TypeVar("_T")


def _once_per_session(session: Session, key: tuple[object, ...], load: Callable[[], _T]) -> _T:
    """Resolve `key` once per session: an action's steps each run in one short transaction,
    and its scope and plan resolve the same objects."""
    cache: dict[tuple[object, ...], Any] = session.info.setdefault("hexaops.access", {})
    if key not in cache:
        cache[key] = load()
    result: _T = cache[key]
    return result


def memberships(session: Session, principal: Principal) -> list[Scope]:
    """Every organization the principal may act in."""
    return _once_per_session(
        session, ("memberships", principal.id), lambda: _load_memberships(session, principal)
    )


# Built once: every request resolves memberships, and building the statement costs more than
# running it from SQLAlchemy's compiled cache.
_MEMBERSHIPS = (
    select(Organization, Membership.role)
    .join(Membership, Membership.org_id == Organization.id)
    .where(Membership.user_id == bindparam("user_id"))
    .order_by(Organization.slug)
)


_SLUGS = (
    select(Organization.slug)
    .join(Membership, Membership.org_id == Organization.id)
    .where(Membership.user_id == bindparam("user_id"))
    .order_by(Organization.slug)
)
_AUTOMATION_SLUG = select(Organization.slug).where(Organization.id == bindparam("org_id"))


def organization_slugs(connection: Connection, principal: Principal) -> list[str]:
    """The slugs of the organizations the principal may act in — what a caller that only needs
    to know where someone belongs reads (one column, no ORM objects)."""
    if principal.is_automation:
        query, params = _AUTOMATION_SLUG, {"org_id": principal.automation_org_id}
    else:
        query, params = _SLUGS, {"user_id": principal.user_id}
    return list(connection.scalars(query, params))


def _load_memberships(session: Session, principal: Principal) -> list[Scope]:
    if principal.is_automation:
        org = session.get(Organization, principal.automation_org_id)
        return [] if org is None else [Scope(org, principal.automation_role or Role.VIEWER)]
    rows = session.execute(_MEMBERSHIPS, {"user_id": principal.user_id})
    return [Scope(org, Role(role)) for org, role in rows]


def scope_of(session: Session, principal: Principal, org_id: int) -> Scope | None:
    return next((s for s in memberships(session, principal) if s.org.id == org_id), None)


def require_org(session: Session, principal: Principal, slug: str) -> Scope:
    for scope in memberships(session, principal):
        if scope.org.slug == slug:
            return scope
    raise NotFound(f"organization {slug!r} not found")


def require_workspace(
    session: Session, principal: Principal, name: str, org: str | None = None
) -> tuple[Scope, Workspace]:
    """A live workspace by name among the principal's organizations (narrowed by `org`)."""
    return _once_per_session(
        session,
        ("workspace", principal.id, name, org),
        lambda: _load_workspace(session, principal, name, org),
    )


def _load_workspace(
    session: Session, principal: Principal, name: str, org: str | None
) -> tuple[Scope, Workspace]:
    scopes = {s.org.id: s for s in memberships(session, principal) if org in (None, s.org.slug)}
    if org is not None and not scopes:
        raise NotFound(f"organization {org!r} not found")
    found = session.scalars(
        select(Workspace).where(
            Workspace.name == name,
            Workspace.org_id.in_(scopes),
            Workspace.status != WorkspaceStatus.DELETED,
        )
    ).all()
    if not found:
        raise NotFound(f"workspace {name!r} not found" + (f" in {org}" if org else ""))
    if len(found) > 1:
        orgs = ", ".join(sorted(scopes[w.org_id].org.slug for w in found))
        raise InvalidInput(
            f"workspace {name!r} exists in several of your organizations ({orgs}): pass --org"
        )
    return scopes[found[0].org_id], found[0]


def require_project(
    session: Session, principal: Principal, workspace: str, project: str, org: str | None = None
) -> tuple[Scope, Project]:
    return _once_per_session(
        session,
        ("project", principal.id, workspace, project, org),
        lambda: _load_project(session, principal, workspace, project, org),
    )


def _load_project(
    session: Session, principal: Principal, workspace: str, project: str, org: str | None
) -> tuple[Scope, Project]:
    scope, ws = require_workspace(session, principal, workspace, org)
    found = session.scalar(
        select(Project).where(
            Project.workspace_id == ws.id,
            Project.name == project,
            Project.status != ObjectStatus.DELETED,
        )
    )
    if found is None:
        raise NotFound(f"project {project!r} not found in workspace {workspace}")
    return scope, found


_Workload = TypeVar("_Workload", Application, Function)


def _require_in_project(
    session: Session,
    principal: Principal,
    model: type[_Workload],
    location: tuple[str, str, str | None],
    name: str,
) -> tuple[Scope, _Workload]:
    workspace, project, org = location
    scope, proj = require_project(session, principal, workspace, project, org)
    found = session.scalar(
        select(model).where(
            model.project_id == proj.id, model.name == name, model.status != ObjectStatus.DELETED
        )
    )
    if found is None:
        kind = model.__name__.lower()
        raise NotFound(f"{kind} {name!r} not found in {workspace}/{project}")
    return scope, found


def require_application(
    session: Session, principal: Principal, workspace: str, project: str, name: str, org: str | None
) -> tuple[Scope, Application]:
    scope, found = _require_in_project(
        session, principal, Application, (workspace, project, org), name
    )
    assert isinstance(found, Application)
    return scope, found


def require_function(
    session: Session, principal: Principal, workspace: str, project: str, name: str, org: str | None
) -> tuple[Scope, Function]:
    scope, found = _require_in_project(
        session, principal, Function, (workspace, project, org), name
    )
    assert isinstance(found, Function)
    return scope, found
