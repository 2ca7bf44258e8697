"""Writes stop for a person: the dry-run plan, then approve / reject / edit; owners approve
developers' high-risk writes; automation policies pre-approve bounded ones; sessions survive
restarts and stay inside their organization."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from agents_graph_support import ScriptedModel

from hexaops.agents.approvals import AutomationPolicy, AutomationRule
from hexaops.agents.events import AgentEvent, Answer, ApprovalRequested
from hexaops.agents.service import AgentService
from hexaops.platform.core import Platform
from hexaops.platform.domain import Principal
from hexaops.platform.errors import Forbidden, NotFound

SCALE = (
    "platform_application_scale",
    {"workspace": "acme-staging", "project": "shop", "name": "checkout", "replicas": 3},
)
DELETE = (
    "platform_application_delete",
    {"workspace": "acme-staging", "project": "shop", "name": "catalog"},
)
RESTART = (
    "platform_application_restart",
    {"workspace": "acme-staging", "project": "shop", "name": "checkout"},
)
MODEL = ScriptedModel(
    plans={
        "replicas": [SCALE],
        "payments": [(DELETE[0], {**DELETE[1], "name": "payments"})],
        "delete": [DELETE],
        "broken": [RESTART],
    }
)


def _last(events: list[AgentEvent]) -> AgentEvent:
    assert events
    return events[-1]


def _replicas(platform: Platform, who: Principal, app: str) -> int:
    apps = platform.applications(who, "acme-staging", "shop")
    return next(a.replicas for a in apps if a.name == app)


def _operations(platform: Platform, who: Principal) -> list[str]:
    """Operations requested through the agents' tools (not the seed's)."""
    actions = platform.list_actions(who, "acme")
    return [a.operation for a in actions if (a.idempotency_key or "").startswith("tool:")]


def _ask(service: AgentService, who: Principal, text: str, **kw: Any) -> ApprovalRequested:
    waiting = _last(list(service.ask(who, text, **kw)))
    assert isinstance(waiting, ApprovalRequested), waiting
    return waiting


def test_a_write_waits_with_its_dry_run_plan_then_runs_when_approved(
    service_for: Callable[..., AgentService], platform: Platform, dev: Principal
) -> None:
    service = service_for(MODEL)
    waiting = _ask(service, dev, "set checkout to 3 replicas")
    request = waiting.request
    assert request["action"] == "application.scale"
    assert request["target"] == "acme/acme-staging/shop/checkout"
    assert request["summary"] == "scale checkout from 2 to 3 replica(s)"
    assert request["changes"][0]["after"] == {"replicas": 3}
    assert request["requested_by"] == "dev@acme.example"
    assert "owner@acme.example" in request["approvers"]
    assert _replicas(platform, dev, "checkout") == 2  # the plan changed nothing
    assert service.pending(dev, waiting.session_id) is not None

    done = _last(list(service.resume(dev, waiting.session_id, {"decision": "approve"})))
    assert isinstance(done, Answer)
    assert done.specialist == "scaling"
    assert done.text.startswith("ok: action #")
    assert _replicas(platform, dev, "checkout") == 3
    assert service.pending(dev, waiting.session_id) is None


def test_reject_changes_nothing_and_edit_runs_the_edited_arguments(
    service_for: Callable[..., AgentService], platform: Platform, dev: Principal
) -> None:
    service = service_for(MODEL)
    first = _ask(service, dev, "set checkout to 3 replicas")
    rejected = _last(
        list(
            service.resume(
                dev, first.session_id, {"decision": "reject", "note": "not during the sale"}
            )
        )
    )
    assert isinstance(rejected, Answer)
    assert "dev@acme.example rejected application.scale" in rejected.text
    assert "not during the sale" in rejected.text
    assert _replicas(platform, dev, "checkout") == 2
    assert _operations(platform, dev) == []

    second = _ask(service, dev, "set checkout to 3 replicas")
    edited = _last(
        list(service.resume(dev, second.session_id, {"decision": "edit", "args": {"replicas": 4}}))
    )
    assert isinstance(edited, Answer)
    assert "to 4 replica(s)" in edited.text
    assert _replicas(platform, dev, "checkout") == 4


def test_an_owner_approves_a_developers_delete_from_the_session(
    service_for: Callable[..., AgentService], platform: Platform, dev: Principal, owner: Principal
) -> None:
    service = service_for(MODEL)
    waiting = _ask(service, dev, "delete the catalog app in acme-staging")
    assert waiting.request["risk"] == "high"
    assert waiting.request["requested_by"] == "dev@acme.example"
    # The owner decides from their own shell: the write runs as the developer's request,
    # approved by the owner.
    done = _last(list(service.resume(owner, waiting.session_id, {"decision": "approve"})))
    assert isinstance(done, Answer)
    assert "approved by owner@acme.example, done" in done.text
    (view,) = [
        a for a in platform.list_actions(owner, "acme") if a.operation == "application.delete"
    ]
    assert (view.status, view.requested_by, view.approved_by) == (
        "succeeded",
        "dev@acme.example",
        "owner@acme.example",
    )

    # A developer approving their own high-risk write is refused; the session keeps waiting
    # on the platform action, which nothing has run.
    other = _ask(service, dev, "delete payments in acme-staging")
    with pytest.raises(Forbidden, match="waits for an owner or admin"):
        list(service.resume(dev, other.session_id, {"decision": "approve"}))
    (pending,) = platform.list_actions(owner, "acme", status="pending")
    assert pending.target == "acme/acme-staging/shop/payments"
    assert pending.id == other.request["action_id"]
    assert service.pending(dev, other.session_id) is not None


def test_automation_policy_pre_approves_a_bounded_restart_only(
    service_for: Callable[..., AgentService], platform: Platform, dev: Principal
) -> None:
    policy = AutomationPolicy(
        name="night-shift",
        org="acme",
        rules=[AutomationRule(operation="application.restart", max_per_window=1)],
    )
    service = service_for(MODEL, policies=[policy])
    first = _last(list(service.ask(dev, "checkout is broken")))
    assert isinstance(first, Answer)
    assert "restart" in first.text
    assert _operations(platform, dev) == ["application.restart"]

    beyond = _ask(service, dev, "checkout is broken again")
    assert "allows 1 application.restart per 10 min" in beyond.request["automation"]
    with pytest.raises(ValueError, match="never pre-approve deletes"):
        AutomationRule(operation="application.delete")


def test_a_pending_approval_survives_a_restart_and_stays_in_its_org(
    service_for: Callable[..., AgentService], platform: Platform, dev: Principal, owner: Principal
) -> None:
    waiting = _ask(service_for(MODEL), dev, "set checkout to 3 replicas")
    restarted = service_for(MODEL)  # a new process: same database, nothing in memory
    outsider = platform.user("owner@globex.example")
    with pytest.raises(NotFound):
        list(restarted.resume(outsider, waiting.session_id, {"decision": "approve"}))
    with pytest.raises(NotFound):
        restarted.history(outsider, waiting.session_id)
    done = _last(list(restarted.resume(owner, waiting.session_id, {"decision": "approve"})))
    assert isinstance(done, Answer)
    assert _replicas(platform, dev, "checkout") == 3
    assert [t["role"] for t in restarted.history(dev, waiting.session_id)] == ["user", "assistant"]
