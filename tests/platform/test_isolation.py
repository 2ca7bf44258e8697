"""Tenancy: nothing of one organization is visible to, or changeable by, another."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select

from hexaops.platform.core import Platform
from hexaops.platform.db.models import Action, AuditEvent
from hexaops.platform.domain import Principal
from hexaops.platform.drivers.sandbox import SandboxDriver
from hexaops.platform.errors import Forbidden, NotFound
from pg_support import fresh_database


@pytest.fixture(scope="module")
def shared(pg_server: str, templates: dict[str, str]) -> Iterator[Platform]:
    """One seeded platform for the refused requests below: each asserts it wrote nothing."""
    engine = create_engine(fresh_database(pg_server, templates["seeded"]))
    yield Platform(engine, SandboxDriver(engine))
    engine.dispose()


@pytest.fixture
def outsider(platform: Platform) -> Principal:
    """The owner of globex: all-powerful there, a stranger to acme."""
    return platform.user("owner@globex.example")


@pytest.fixture
def acme_pending(platform: Platform, owner: Principal) -> int:
    view = platform.request(owner, "workspace.delete", {"name": "acme-staging"})
    assert view.status == "pending"
    assert view.id is not None
    return view.id


def _counts(platform: Platform) -> tuple[int, int]:
    with platform.sessions() as s:
        return (
            s.scalar(select(func.count()).select_from(Action)) or 0,
            s.scalar(select(func.count()).select_from(AuditEvent)) or 0,
        )


def test_outsider_sees_only_its_own_organization(
    platform: Platform, outsider: Principal, acme_pending: int
) -> None:
    assert [o.slug for o in platform.organizations(outsider)] == ["globex"]
    assert platform.organization_slugs(outsider) == ["globex"]
    assert [(w.org, w.name) for w in platform.workspaces(outsider)] == [("globex", "globex-prod")]
    actions = platform.list_actions(outsider, limit=1000)
    assert actions
    assert all(a.target.startswith("globex/") for a in actions)
    assert acme_pending not in {a.id for a in actions}
    assert platform.list_actions(outsider, status="pending") == []


@pytest.mark.parametrize(
    "read",
    [
        pytest.param(lambda p, who: p.workspaces(who, org="acme"), id="workspaces"),
        pytest.param(lambda p, who: p.members(who, "acme"), id="members"),
        pytest.param(lambda p, who: p.projects(who, "acme-prod"), id="projects"),
        pytest.param(lambda p, who: p.projects(who, "acme-prod", org="acme"), id="projects-org"),
        pytest.param(lambda p, who: p.applications(who, "acme-prod", "shop"), id="applications"),
        pytest.param(lambda p, who: p.functions(who, "acme-prod", "shop"), id="functions"),
        pytest.param(lambda p, who: p.list_actions(who, org="acme"), id="list_actions"),
        pytest.param(lambda p, who: p.audit(who, "acme"), id="audit"),
    ],
)
def test_outsider_reads_of_acme_are_not_found(shared: Platform, read: Any) -> None:
    with pytest.raises(NotFound):
        read(shared, shared.user("owner@globex.example"))


def test_outsider_cannot_read_an_acme_action(
    platform: Platform, outsider: Principal, acme_pending: int
) -> None:
    with pytest.raises(NotFound):
        platform.action(outsider, acme_pending)


def test_not_found_looks_the_same_as_a_missing_object(
    platform: Platform, outsider: Principal
) -> None:
    """An outsider cannot tell an existing acme workspace from one that never existed."""
    with pytest.raises(NotFound) as existing:
        platform.projects(outsider, "acme-prod")
    with pytest.raises(NotFound) as missing:
        platform.projects(outsider, "no-such-ws")
    assert existing.value.message.replace("acme-prod", "X") == missing.value.message.replace(
        "no-such-ws", "X"
    )


STAGING = {"workspace": "acme-staging", "project": "shop"}

ACME_WRITES: list[tuple[str, dict[str, Any]]] = [
    ("workspace.create", {"org": "acme", "name": "intruder"}),
    ("workspace.delete", {"name": "acme-prod"}),
    ("workspace.delete", {"name": "acme-prod", "org": "acme"}),
    ("project.create", {"workspace": "acme-prod", "name": "intruder"}),
    ("project.update_quota", {"workspace": "acme-prod", "name": "shop", "cpu": "1"}),
    ("project.delete", {"workspace": "acme-prod", "name": "shop"}),
    ("application.deploy", {**STAGING, "name": "intruder", "image": "ghcr.io/evil/x:1"}),
    ("application.scale", {**STAGING, "name": "frontend", "replicas": 0}),
    ("application.restart", {**STAGING, "name": "frontend"}),
    ("application.delete", {**STAGING, "name": "frontend"}),
    ("application.set_hpa", {**STAGING, "name": "frontend", "min_replicas": 1, "max_replicas": 2}),
    ("function.deploy", {**STAGING, "name": "intruder"}),
    ("member.add", {"org": "acme", "email": "spy@globex.example", "role": "owner"}),
    ("member.remove", {"org": "acme", "email": "owner@acme.example"}),
]


@pytest.mark.parametrize(
    ("kind", "params"), ACME_WRITES, ids=[f"{k}-{i}" for i, (k, _) in enumerate(ACME_WRITES)]
)
@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "real"])
def test_outsider_writes_to_acme_are_not_found(
    shared: Platform, kind: str, params: dict[str, Any], dry_run: bool
) -> None:
    before = _counts(shared)
    with pytest.raises(NotFound):
        shared.request(shared.user("owner@globex.example"), kind, params, dry_run=dry_run)
    assert _counts(shared) == before


def test_outsider_cannot_approve_or_reject_an_acme_action(
    platform: Platform, owner: Principal, outsider: Principal, acme_pending: int
) -> None:
    with pytest.raises(NotFound):
        platform.approve(outsider, acme_pending)
    with pytest.raises(NotFound):
        platform.reject(outsider, acme_pending)
    assert platform.action(owner, acme_pending).status == "pending"
    assert "acme-staging" in [w.name for w in platform.workspaces(owner)]


def test_org_param_does_not_widen_access(
    platform: Platform, dev: Principal, outsider: Principal
) -> None:
    # Naming the other organization explicitly finds nothing either.
    with pytest.raises(NotFound):
        platform.projects(dev, "globex-prod", org="globex")
    with pytest.raises(NotFound):
        platform.workspaces(dev, org="globex")
    with pytest.raises(NotFound):
        platform.request(
            dev,
            "application.scale",
            {
                "workspace": "globex-prod",
                "project": "web",
                "name": "api",
                "replicas": 5,
                "org": "globex",
            },
        )
    # Naming its own organization does not lift a role restriction.
    with pytest.raises(Forbidden):
        platform.request(dev, "workspace.delete", {"name": "acme-staging", "org": "acme"})
    # And the outsider naming its own org while targeting an acme workspace gets nothing.
    with pytest.raises(NotFound):
        platform.request(outsider, "workspace.delete", {"name": "acme-prod", "org": "globex"})
    assert [
        a.replicas for a in platform.applications(outsider, "globex-prod", "web") if a.name == "api"
    ] == [3]


def test_same_workspace_name_in_two_orgs_stays_separate(
    platform: Platform, owner: Principal, outsider: Principal
) -> None:
    view = platform.request(owner, "workspace.create", {"org": "acme", "name": "globex-prod"})
    assert view.status == "succeeded"
    assert [p.name for p in platform.projects(outsider, "globex-prod")] == ["web"]
    assert platform.projects(owner, "globex-prod") == []
    assert [w.org for w in platform.workspaces(outsider) if w.name == "globex-prod"] == ["globex"]
