"""The audit log: exactly one event per state change of every action, with who approved it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from hexaops.platform.core import Platform
from hexaops.platform.domain import Principal
from hexaops.platform.drivers.contract import ObservedWorkspace, WorkspaceRef, WorkspaceSpec
from hexaops.platform.drivers.sandbox import SandboxDriver
from hexaops.platform.errors import Forbidden

LOW_RISK_PATH = ["action.approved", "action.executing", "action.succeeded"]
HIGH_RISK_PATH = ["action.pending", *LOW_RISK_PATH]

# The events an action has gone through, by its final status (request with approval by policy,
# or a human decision).
PATHS = {
    "succeeded": [LOW_RISK_PATH, HIGH_RISK_PATH],
    "failed": [
        ["action.approved", "action.executing", "action.failed"],
        ["action.pending", "action.approved", "action.executing", "action.failed"],
    ],
    "rejected": [["action.pending", "action.rejected"]],
    "pending": [["action.pending"]],
}


def _events(platform: Platform, action_id: int) -> list[dict[str, Any]]:
    with platform.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT event, actor, approved_by, operation, target, plan, result "
                "FROM audit_events WHERE action_id = :a ORDER BY id"
            ),
            {"a": action_id},
        )
        return [dict(r._mapping) for r in rows]


def _names(platform: Platform, action_id: int) -> list[str]:
    return [e["event"] for e in _events(platform, action_id)]


def test_low_risk_create_is_approved_by_policy(platform: Platform, owner: Principal) -> None:
    view = platform.request(owner, "workspace.create", {"org": "acme", "name": "acme-dev"})
    assert view.id is not None
    assert view.approved_by == "policy:low-risk"
    events = _events(platform, view.id)
    assert [e["event"] for e in events] == LOW_RISK_PATH
    assert [e["actor"] for e in events] == ["owner@acme.example", "platform", "platform"]
    assert {e["approved_by"] for e in events} == {"policy:low-risk"}
    assert {e["operation"] for e in events} == {"workspace.create"}
    assert {e["target"] for e in events} == {"acme/acme-dev"}
    # What was planned is on the request event, what happened on the outcome event.
    assert events[0]["plan"]["target"] == "acme/acme-dev"
    assert "refs" not in events[0]["plan"]
    assert events[-1]["result"]["status"] == "ready"


def test_high_risk_delete_waits_then_records_the_approver(
    platform: Platform, owner: Principal
) -> None:
    view = platform.request(owner, "workspace.delete", {"name": "acme-staging"})
    assert view.id is not None
    pending = _events(platform, view.id)
    assert [e["event"] for e in pending] == ["action.pending"]
    assert pending[0]["approved_by"] is None
    assert pending[0]["actor"] == "owner@acme.example"

    platform.request(
        owner, "member.add", {"org": "acme", "email": "ops@acme.example", "role": "admin"}
    )
    approver = platform.user("ops@acme.example")
    platform.approve(approver, view.id, "planned decommission")
    events = _events(platform, view.id)
    assert [e["event"] for e in events] == HIGH_RISK_PATH
    assert [e["actor"] for e in events] == [
        "owner@acme.example",
        "ops@acme.example",
        "platform",
        "platform",
    ]
    assert [e["approved_by"] for e in events[1:]] == ["ops@acme.example"] * 3
    assert platform.action(owner, view.id).approved_by == "ops@acme.example"


def test_reject_records_pending_then_rejected(platform: Platform, owner: Principal) -> None:
    view = platform.request(owner, "workspace.delete", {"name": "acme-staging"})
    assert view.id is not None
    platform.reject(owner, view.id, "not now")
    events = _events(platform, view.id)
    assert [e["event"] for e in events] == ["action.pending", "action.rejected"]
    assert events[1]["actor"] == "owner@acme.example"
    assert [e["approved_by"] for e in events] == [None, None]


def test_a_driver_failure_ends_the_action_failed_and_audited(
    platform: Platform, owner: Principal
) -> None:
    class BrokenDriver(SandboxDriver):
        def provision_workspace(self, ref: WorkspaceRef, spec: WorkspaceSpec) -> ObservedWorkspace:
            raise RuntimeError("host cluster unreachable")

    broken = Platform(platform.engine, BrokenDriver(platform.engine))
    view = broken.request(owner, "workspace.create", {"org": "acme", "name": "acme-dev"})
    assert view.status == "failed"
    assert view.error is not None
    assert "host cluster unreachable" in view.error
    assert view.id is not None
    events = _events(platform, view.id)
    assert [e["event"] for e in events] == ["action.approved", "action.executing", "action.failed"]
    assert "host cluster unreachable" in events[-1]["result"]["error"]
    assert [w.status for w in platform.workspaces(owner) if w.name == "acme-dev"] == ["failed"]


def test_every_action_has_exactly_one_event_per_state_change(
    platform: Platform, owner: Principal
) -> None:
    """Across the seed and a mix of requests, the audit log agrees with the actions table."""
    staging = {"workspace": "acme-staging", "project": "shop"}
    platform.request(owner, "application.scale", {**staging, "name": "frontend", "replicas": 4})
    platform.request(owner, "application.restart", {**staging, "name": "checkout"})
    scale_to_zero = platform.request(
        owner, "application.scale", {**staging, "name": "catalog", "replicas": 0}
    )
    delete = platform.request(owner, "application.delete", {**staging, "name": "payments"})
    platform.request(owner, "project.delete", {"workspace": "acme-prod", "name": "shop"})
    assert scale_to_zero.id is not None
    assert delete.id is not None
    platform.approve(owner, scale_to_zero.id)
    platform.reject(owner, delete.id)

    with platform.engine.connect() as conn:
        actions = conn.execute(text("SELECT id, status, org_id FROM actions ORDER BY id")).all()
        orphans = conn.execute(
            text(
                "SELECT count(*) FROM audit_events e LEFT JOIN actions a ON a.id = e.action_id "
                "WHERE e.action_id IS NOT NULL AND (a.id IS NULL OR a.org_id <> e.org_id)"
            )
        ).scalar_one()
    assert len(actions) > 20  # the seed's actions are included
    for action_id, status, _ in actions:
        assert _names(platform, action_id) in PATHS[status], (action_id, status)
    assert orphans == 0


def test_audit_view_lists_newest_first(platform: Platform, owner: Principal) -> None:
    view = platform.request(owner, "workspace.create", {"org": "acme", "name": "acme-dev"})
    events = platform.audit(owner, "acme", limit=3)
    assert [e.event for e in events] == list(reversed(LOW_RISK_PATH))
    assert {e.action_id for e in events} == {view.id}
    assert [e.id for e in events] == sorted((e.id for e in events), reverse=True)


def test_audit_is_only_for_owners_and_admins(platform: Platform, owner: Principal) -> None:
    platform.request(
        owner, "member.add", {"org": "acme", "email": "ops@acme.example", "role": "admin"}
    )
    assert platform.audit(owner, "acme")
    assert platform.audit(platform.user("ops@acme.example"), "acme")
    for email in ("dev@acme.example", "viewer@acme.example"):
        with pytest.raises(Forbidden):
            platform.audit(platform.user(email), "acme")


def test_audit_of_an_org_holds_only_its_events(platform: Platform) -> None:
    globex = platform.user("owner@globex.example")
    events = platform.audit(globex, "globex", limit=1000)
    assert events
    assert all(e.target.startswith("globex") for e in events)
