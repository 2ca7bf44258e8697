"""Who may do what: the role × operation matrix, approvals, and owner-only membership rules."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text

from hexaops.platform.access import PERMISSIONS
from hexaops.platform.core import Platform
from hexaops.platform.db.models import Action, AuditEvent, SandboxObject
from hexaops.platform.domain import Principal, Role
from hexaops.platform.drivers.contract import WorkloadRef, WorkspaceRef
from hexaops.platform.drivers.sandbox import SandboxDriver
from hexaops.platform.errors import Conflict, Forbidden, NotFound
from hexaops.platform.operations import OPERATIONS
from pg_support import fresh_database

STAGING = {"workspace": "acme-staging", "project": "shop"}
PROD = {"workspace": "acme-prod", "project": "shop"}
POOL = WorkspaceRef(org="acme", workspace="acme-prod").host_namespace + "-pool"

# Parameters that plan cleanly for every kind (on the prepared matrix database), so the only
# possible refusal is the role check.
VALID_PARAMS: dict[str, dict[str, Any]] = {
    "workspace.create": {"org": "acme", "name": "acme-new"},
    "workspace.delete": {"name": "acme-staging"},
    "project.create": {"workspace": "acme-staging", "name": "reports", "cpu": "1", "pods": 5},
    "project.update_quota": {"workspace": "acme-staging", "name": "shop", "cpu": "5"},
    "project.delete": {"workspace": "acme-staging", "name": "shop"},
    "application.deploy": {**STAGING, "name": "search", "image": "ghcr.io/acme/search:1.0.0"},
    "application.scale": {**STAGING, "name": "frontend", "replicas": 4},
    "application.restart": {**STAGING, "name": "frontend"},
    "application.rollback": {**STAGING, "name": "frontend"},
    "application.delete": {**STAGING, "name": "frontend"},
    "application.set_hpa": {**STAGING, "name": "frontend", "min_replicas": 2, "max_replicas": 5},
    "function.deploy": {**STAGING, "name": "thumbnails"},
    "function.set_scaling": {**STAGING, "name": "resize", "concurrency": 5},
    "function.delete": {**STAGING, "name": "resize"},
    "member.add": {"org": "acme", "email": "new@acme.example", "role": "developer"},
    "member.remove": {"org": "acme", "email": "viewer@acme.example"},
    # pod: the first current pod of frontend, filled in by _params (names derive from revisions)
    "pod.delete": {**STAGING, "application": "frontend", "pod": ""},
    "certificate.renew": {**PROD, "name": "frontend-tls"},
    "network_policy.delete": {**PROD, "name": "deny-ingress-payments"},
    "node.cordon": {"workspace": "acme-prod", "node": f"{POOL}-1"},
    "node.uncordon": {"workspace": "acme-prod", "node": f"{POOL}-2"},
    "node.drain": {"workspace": "acme-prod", "node": f"{POOL}-1"},
    "workspace.restart_dns": {"name": "acme-prod"},
}

ADMIN_ONLY = {
    "workspace.create",
    "workspace.delete",
    "project.create",
    "project.update_quota",
    "project.delete",
    "member.add",
    "member.remove",
    "node.cordon",
    "node.uncordon",
    "node.drain",
    "network_policy.delete",
    "workspace.restart_dns",
}
BUILDER = {
    "application.deploy",
    "application.scale",
    "application.restart",
    "application.rollback",
    "application.delete",
    "application.set_hpa",
    "function.deploy",
    "function.set_scaling",
    "function.delete",
    "pod.delete",
    "certificate.renew",
}

EMAILS = {
    Role.OWNER: "owner@acme.example",
    Role.ADMIN: "admin@acme.example",
    Role.DEVELOPER: "dev@acme.example",
    Role.VIEWER: "viewer@acme.example",
}


@pytest.fixture(scope="module")
def matrix_platform(pg_server: str, templates: dict[str, str]) -> Iterator[Platform]:
    """One seeded platform for the whole matrix: dry runs never write, so it can be shared.

    Prepared with an admin, a second revision of frontend (so rollback has something to return
    to), a function (so function.set_scaling/delete have a target), a cordoned pool node (for
    node.uncordon), and an expired Certificate and a NetworkPolicy in acme-prod/shop, written
    into the sandbox the way fault injection does.
    """
    engine = create_engine(fresh_database(pg_server, templates["seeded"]))
    platform = Platform(engine, SandboxDriver(engine))
    owner = platform.user(EMAILS[Role.OWNER])
    for kind, params in [
        ("member.add", {"org": "acme", "email": EMAILS[Role.ADMIN], "role": "admin"}),
        (
            "application.deploy",
            {**STAGING, "name": "frontend", "image": "ghcr.io/acme/frontend:2.4.0"},
        ),
        ("function.deploy", {**STAGING, "name": "resize"}),
        ("node.cordon", {"workspace": "acme-prod", "node": f"{POOL}-2"}),
    ]:
        assert platform.request(owner, kind, params).status == "succeeded"
    cluster = WorkspaceRef(org="acme", workspace="acme-prod").host_namespace
    with platform.sessions.begin() as session:
        for kind, name in (
            ("Certificate", "frontend-tls"),
            ("NetworkPolicy", "deny-ingress-payments"),
        ):
            session.add(
                SandboxObject(cluster=cluster, kind=kind, namespace="shop", name=name, spec={})
            )
    yield platform
    engine.dispose()


@pytest.fixture
def admin(platform: Platform, owner: Principal) -> Principal:
    """An admin of acme, added the way a user would: member.add as the owner."""
    view = platform.request(
        owner, "member.add", {"org": "acme", "email": "admin@acme.example", "role": "admin"}
    )
    assert view.status == "succeeded"
    return platform.user("admin@acme.example")


def _params(platform: Platform, kind: str) -> dict[str, Any]:
    params = dict(VALID_PARAMS[kind])
    if kind == "pod.delete":
        ref = WorkloadRef(org="acme", workspace="acme-staging", namespace="shop", name="frontend")
        app = platform.driver.get_application(ref)
        assert app is not None
        params["pod"] = app.pods[0].name
    return params


def _count_actions(platform: Platform) -> int:
    with platform.sessions() as s:
        return s.scalar(select(func.count()).select_from(Action)) or 0


def test_every_operation_has_a_permission_entry() -> None:
    assert set(VALID_PARAMS) == set(OPERATIONS)
    assert set(OPERATIONS) <= set(PERMISSIONS)


def test_permissions_follow_the_documented_policy() -> None:
    admins = {Role.OWNER, Role.ADMIN}
    builders = admins | {Role.DEVELOPER}
    for kind in ADMIN_ONLY:
        assert PERMISSIONS[kind] == admins, kind
    for kind in BUILDER:
        assert PERMISSIONS[kind] == builders, kind
    assert set(OPERATIONS) == ADMIN_ONLY | BUILDER
    assert PERMISSIONS["action.approve"] == admins
    assert PERMISSIONS["audit.read"] == admins
    assert PERMISSIONS["read"] == set(Role)


@pytest.mark.parametrize("kind", sorted(OPERATIONS))
@pytest.mark.parametrize("role", list(Role))
def test_role_operation_matrix(matrix_platform: Platform, role: Role, kind: str) -> None:
    principal = matrix_platform.user(EMAILS[role])
    before = _count_actions(matrix_platform)
    if role in PERMISSIONS[kind]:
        view = matrix_platform.request(
            principal, kind, _params(matrix_platform, kind), dry_run=True
        )
        assert view.id is None
        assert view.status == "planned"
        assert view.operation == kind
    else:
        with pytest.raises(Forbidden) as excinfo:
            matrix_platform.request(principal, kind, _params(matrix_platform, kind), dry_run=True)
        assert role.value in excinfo.value.message
        assert kind in excinfo.value.message
    assert _count_actions(matrix_platform) == before


def test_forbidden_real_request_writes_nothing(platform: Platform, dev: Principal) -> None:
    with platform.sessions() as s:
        before = (
            s.scalar(select(func.count()).select_from(Action)),
            s.scalar(select(func.count()).select_from(AuditEvent)),
        )
    with pytest.raises(Forbidden):
        platform.request(dev, "workspace.create", {"org": "acme", "name": "acme-dev"})
    with platform.sessions() as s:
        after = (
            s.scalar(select(func.count()).select_from(Action)),
            s.scalar(select(func.count()).select_from(AuditEvent)),
        )
    assert after == before
    assert "acme-dev" not in [w.name for w in platform.workspaces(dev)]


# -- approvals -----------------------------------------------------------------------------


def _pending_delete(platform: Platform, owner: Principal) -> int:
    view = platform.request(owner, "workspace.delete", {"name": "acme-staging"})
    assert view.status == "pending"
    assert view.id is not None
    return view.id


def test_developer_and_viewer_cannot_approve_or_reject(
    platform: Platform, owner: Principal, dev: Principal, viewer: Principal
) -> None:
    action_id = _pending_delete(platform, owner)
    for principal in (dev, viewer):
        with pytest.raises(Forbidden):
            platform.approve(principal, action_id)
        with pytest.raises(Forbidden):
            platform.reject(principal, action_id)
    assert platform.action(owner, action_id).status == "pending"
    assert [w.status for w in platform.workspaces(owner) if w.name == "acme-staging"] == ["ready"]


def test_admin_can_approve(platform: Platform, owner: Principal, admin: Principal) -> None:
    action_id = _pending_delete(platform, owner)
    view = platform.approve(admin, action_id, "maintenance window")
    assert view.status == "succeeded"
    assert view.approved_by == "admin@acme.example"
    assert view.decision_note == "maintenance window"
    assert "acme-staging" not in [w.name for w in platform.workspaces(owner)]


def test_owner_can_approve(platform: Platform, owner: Principal, admin: Principal) -> None:
    view = platform.request(admin, "workspace.delete", {"name": "acme-staging"})
    assert view.id is not None
    approved = platform.approve(owner, view.id)
    assert approved.status == "succeeded"
    assert approved.approved_by == "owner@acme.example"


def test_admin_can_reject(platform: Platform, owner: Principal, admin: Principal) -> None:
    action_id = _pending_delete(platform, owner)
    assert platform.reject(admin, action_id, "not today").status == "rejected"


# -- owners --------------------------------------------------------------------------------


def _roles(platform: Platform, principal: Principal) -> dict[str, str]:
    return {m.email: m.role for m in platform.members(principal, "acme")}


def test_admin_cannot_add_an_owner(platform: Platform, admin: Principal) -> None:
    with pytest.raises(Forbidden):
        platform.request(
            admin, "member.add", {"org": "acme", "email": "boss@acme.example", "role": "owner"}
        )
    assert "boss@acme.example" not in _roles(platform, admin)


def test_owner_can_add_an_owner(platform: Platform, owner: Principal) -> None:
    view = platform.request(
        owner, "member.add", {"org": "acme", "email": "boss@acme.example", "role": "owner"}
    )
    assert view.status == "succeeded"
    assert _roles(platform, owner)["boss@acme.example"] == "owner"


def test_admin_cannot_remove_an_owner(platform: Platform, admin: Principal) -> None:
    with pytest.raises(Forbidden):
        platform.request(admin, "member.remove", {"org": "acme", "email": "owner@acme.example"})


def test_last_owner_cannot_be_removed(platform: Platform, owner: Principal) -> None:
    with pytest.raises(Conflict):
        platform.request(owner, "member.remove", {"org": "acme", "email": "owner@acme.example"})
    assert _roles(platform, owner)["owner@acme.example"] == "owner"


def test_an_owner_can_be_removed_while_another_remains(
    platform: Platform, owner: Principal
) -> None:
    platform.request(
        owner, "member.add", {"org": "acme", "email": "boss@acme.example", "role": "owner"}
    )
    view = platform.request(owner, "member.remove", {"org": "acme", "email": "boss@acme.example"})
    assert view.status == "pending"
    assert view.id is not None
    assert platform.approve(owner, view.id).status == "succeeded"
    assert "boss@acme.example" not in _roles(platform, owner)
    with pytest.raises(Conflict):
        platform.request(owner, "member.remove", {"org": "acme", "email": "owner@acme.example"})


def test_two_pending_owner_removals_cannot_leave_the_org_without_owners(
    platform: Platform, owner: Principal, admin: Principal
) -> None:
    """Each removal was planned while two owners existed; approving both must not remove both."""
    platform.request(
        owner, "member.add", {"org": "acme", "email": "boss@acme.example", "role": "owner"}
    )
    boss = platform.user("boss@acme.example")
    first = platform.request(owner, "member.remove", {"org": "acme", "email": "boss@acme.example"})
    second = platform.request(boss, "member.remove", {"org": "acme", "email": "owner@acme.example"})
    assert first.id is not None
    assert second.id is not None
    platform.approve(admin, first.id)
    with contextlib.suppress(Conflict):  # refusing the stale approval is one acceptable outcome
        platform.approve(admin, second.id)
    owners = [m.email for m in platform.members(admin, "acme") if m.role == "owner"]
    assert owners, "acme was left without any owner"


# -- automation principals -----------------------------------------------------------------


def _automation(platform: Platform, role: Role) -> Principal:
    """An alert-driven automation policy acting in acme with `role` (not a platform user)."""
    with platform.engine.connect() as conn:
        acme_id = conn.execute(
            text("SELECT id FROM organizations WHERE slug = 'acme'")
        ).scalar_one()
    return Principal(
        id="automation:restart-on-alert@acme", automation_org_id=acme_id, automation_role=role
    )


def test_automation_acts_only_within_its_org_and_role(platform: Platform) -> None:
    bot = _automation(platform, Role.DEVELOPER)
    assert [o.slug for o in platform.organizations(bot)] == ["acme"]
    assert platform.organization_slugs(bot) == ["acme"]
    view = platform.request(bot, "application.restart", {**STAGING, "name": "frontend"})
    assert view.status == "succeeded"
    assert view.requested_by == "automation:restart-on-alert@acme"
    with pytest.raises(Forbidden):
        platform.request(bot, "workspace.delete", {"name": "acme-staging"})
    with pytest.raises(NotFound):
        platform.projects(bot, "globex-prod")


def test_a_pending_action_requested_by_automation_can_be_approved(
    platform: Platform, owner: Principal
) -> None:
    """Automation may ask for a risky change (scale to zero); an owner decides, and it runs."""
    bot = _automation(platform, Role.DEVELOPER)
    view = platform.request(bot, "application.scale", {**STAGING, "name": "catalog", "replicas": 0})
    assert view.status == "pending"
    assert view.id is not None
    approved = platform.approve(owner, view.id)
    assert approved.status == "succeeded"
    assert approved.approved_by == "owner@acme.example"
    apps = {a.name: a.replicas for a in platform.applications(owner, "acme-staging", "shop")}
    assert apps["catalog"] == 0
