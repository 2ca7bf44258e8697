"""Idempotency keys: a retried request returns the first action and never runs twice."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from hexaops.platform.core import Platform
from hexaops.platform.domain import Principal
from hexaops.platform.drivers.contract import WorkloadRef
from hexaops.platform.errors import Conflict

FRONTEND = {"workspace": "acme-staging", "project": "shop", "name": "frontend"}
FRONTEND_REF = WorkloadRef(org="acme", workspace="acme-staging", namespace="shop", name="frontend")


def _count(platform: Platform, sql: str, **params: object) -> int:
    with platform.engine.connect() as conn:
        return int(conn.execute(text(sql), params).scalar_one())


def _actions_with_key(platform: Platform, key: str) -> int:
    return _count(platform, "SELECT count(*) FROM actions WHERE idempotency_key = :k", k=key)


def _events_of(platform: Platform, action_id: int) -> int:
    return _count(platform, "SELECT count(*) FROM audit_events WHERE action_id = :a", a=action_id)


def test_same_key_same_params_replays_the_first_action(
    platform: Platform, owner: Principal
) -> None:
    params = {"org": "acme", "name": "acme-dev"}
    first = platform.request(owner, "workspace.create", params, idempotency_key="ws-1")
    second = platform.request(owner, "workspace.create", params, idempotency_key="ws-1")
    assert first.status == "succeeded"
    assert not first.replayed
    assert second.replayed
    assert second.id == first.id
    assert second.status == "succeeded"
    assert _actions_with_key(platform, "ws-1") == 1
    assert first.id is not None
    assert _events_of(platform, first.id) == 3  # approved, executing, succeeded — once
    assert _count(platform, "SELECT count(*) FROM workspaces WHERE name = 'acme-dev'") == 1


def test_replayed_restart_restarts_only_once(platform: Platform, owner: Principal) -> None:
    for _ in range(3):
        platform.request(owner, "application.restart", FRONTEND, idempotency_key="restart-1")
    observed = platform.driver.get_application(FRONTEND_REF)
    assert observed is not None
    assert observed.restart_generation == 1
    assert _actions_with_key(platform, "restart-1") == 1


def test_same_request_spelled_differently_is_still_a_replay(
    platform: Platform, owner: Principal
) -> None:
    first = platform.request(
        owner, "workspace.create", {"org": "acme", "name": "acme-dev"}, idempotency_key="k"
    )
    again = platform.request(
        owner,
        "workspace.create",
        {"org": "acme", "name": "acme-dev", "plan_name": "shared", "kubernetes_version": "v1.34"},
        idempotency_key="k",
    )
    assert again.replayed
    assert again.id == first.id


def test_replay_of_a_pending_action_does_not_add_another(
    platform: Platform, owner: Principal
) -> None:
    params = {"name": "acme-staging"}
    first = platform.request(owner, "workspace.delete", params, idempotency_key="del-1")
    second = platform.request(owner, "workspace.delete", params, idempotency_key="del-1")
    assert first.status == second.status == "pending"
    assert second.replayed
    assert second.id == first.id
    assert _count(platform, "SELECT count(*) FROM actions WHERE status = 'pending'") == 1


def test_same_key_different_params_is_a_conflict(platform: Platform, owner: Principal) -> None:
    platform.request(owner, "application.scale", {**FRONTEND, "replicas": 4}, idempotency_key="s")
    actions_before = _count(platform, "SELECT count(*) FROM actions")
    events_before = _count(platform, "SELECT count(*) FROM audit_events")
    with pytest.raises(Conflict) as excinfo:
        platform.request(
            owner, "application.scale", {**FRONTEND, "replicas": 5}, idempotency_key="s"
        )
    assert "'s'" in excinfo.value.message
    with pytest.raises(Conflict):
        platform.request(owner, "application.restart", FRONTEND, idempotency_key="s")
    assert _count(platform, "SELECT count(*) FROM actions") == actions_before
    assert _count(platform, "SELECT count(*) FROM audit_events") == events_before
    observed = platform.driver.get_application(FRONTEND_REF)
    assert observed is not None
    assert observed.replicas == 4


def test_keys_are_per_requester(platform: Platform, owner: Principal, dev: Principal) -> None:
    by_owner = platform.request(
        owner, "application.scale", {**FRONTEND, "replicas": 4}, idempotency_key="shared-key"
    )
    by_dev = platform.request(
        dev,
        "application.scale",
        {"workspace": "acme-staging", "project": "shop", "name": "checkout", "replicas": 3},
        idempotency_key="shared-key",
    )
    assert not by_dev.replayed
    assert by_dev.id != by_owner.id
    assert by_dev.status == "succeeded"
    assert by_dev.requested_by == "dev@acme.example"
    assert _actions_with_key(platform, "shared-key") == 2


def test_another_requesters_key_is_never_replayed_to_me(
    platform: Platform, owner: Principal, dev: Principal
) -> None:
    """The same key and params from someone else is their own request, not a look at mine."""
    params = {**FRONTEND, "replicas": 4}
    mine = platform.request(owner, "application.scale", params, idempotency_key="k")
    with pytest.raises(Conflict):  # frontend already has 4 replicas: a new plan, not a replay
        platform.request(dev, "application.scale", params, idempotency_key="k")
    assert _actions_with_key(platform, "k") == 1
    assert mine.requested_by == "owner@acme.example"


def test_dry_run_never_stores_anything(platform: Platform, owner: Principal) -> None:
    tables = ["actions", "audit_events", "workspaces", "projects", "sandbox_objects"]
    before = {t: _count(platform, f"SELECT count(*) FROM {t}") for t in tables}
    requests: list[tuple[str, dict[str, Any]]] = [
        ("workspace.create", {"org": "acme", "name": "acme-dev"}),
        ("workspace.delete", {"name": "acme-staging"}),
        ("project.create", {"workspace": "acme-staging", "name": "reports", "cpu": "1"}),
        ("application.scale", {**FRONTEND, "replicas": 0}),
    ]
    for kind, params in requests:
        view = platform.request(owner, kind, params, idempotency_key="dry", dry_run=True)
        assert view.id is None
        assert view.status == "planned"
    assert {t: _count(platform, f"SELECT count(*) FROM {t}") for t in tables} == before
    assert "acme-dev" not in [w.name for w in platform.workspaces(owner)]

    # The key was not consumed: the real request with it runs (it is not a replay).
    real = platform.request(
        owner, "workspace.create", {"org": "acme", "name": "acme-dev"}, idempotency_key="dry"
    )
    assert not real.replayed
    assert real.status == "succeeded"
