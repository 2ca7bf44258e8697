"""Chat over HTTP: a turn streams as server-sent events (steps, then its end); a write the
agent proposes waits, an owner approves it over REST, the waiting session resumes by itself,
and the owner's WebSocket hears about both."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from api_support import sse_events
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from hexaops.platform.core import Platform
from hexaops.platform.domain import Principal

Token = Callable[[str], dict[str, str]]


def _ask(api: TestClient, headers: dict[str, str], message: str) -> list[tuple[str, dict]]:
    response = api.post("/api/chat", headers=headers, json={"message": message})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    return sse_events(response.text)


def test_a_turn_streams_its_steps_then_its_end(api: TestClient, token: Token) -> None:
    events = _ask(api, token("dev@acme.example"), "list the workspaces")
    names = [name for name, _ in events]
    assert names[0] == "routed"
    assert events[0][1]["specialist"] == "provisioning"
    assert names.index("tool_started") < names.index("tool_finished") < names.index("answer")
    assert names[-1] == "end"
    started = next(data for name, data in events if name == "tool_started")
    assert started["tool"] == "platform_workspaces"
    end = events[-1][1]
    assert end["answer"].startswith("ok:")
    assert end["error"] is None
    assert end["tool_calls"][0]["status"] == "ok"

    # The session remembers the turn; the next turn continues it.
    session = api.get(f"/api/sessions/{end['session_id']}", headers=token("dev@acme.example"))
    assert session.status_code == 200
    assert [m["role"] for m in session.json()["messages"]] == ["user", "assistant"]
    again = api.post(
        "/api/chat",
        headers=token("dev@acme.example"),
        json={"message": "hello", "session_id": end["session_id"]},
    )
    assert sse_events(again.text)[-1][1]["session_id"] == end["session_id"]


def test_sessions_stay_in_their_organization(api: TestClient, token: Token) -> None:
    end = _ask(api, token("dev@acme.example"), "hello")[-1][1]
    url = f"/api/sessions/{end['session_id']}"
    outsider = api.get(url, headers=token("owner@globex.example"))
    assert outsider.status_code == 404
    assert outsider.headers["content-type"] == "application/problem+json"
    hijack = api.post(
        "/api/chat",
        headers=token("owner@globex.example"),
        json={"message": "hello", "session_id": end["session_id"]},
    )
    assert hijack.status_code == 404  # refused before anything streams


def test_approval_over_rest_resumes_the_waiting_session_and_notifies(
    api: TestClient, token: Token, platform: Platform, owner: Principal
) -> None:
    events = _ask(api, token("dev@acme.example"), "delete the catalog app in acme-staging")
    waiting = next(data for name, data in events if name == "approval_requested")
    action_id = waiting["request"]["action_id"]
    session_id = waiting["session_id"]
    assert platform.action(owner, action_id).status == "pending"

    url = f"/api/notifications?access_token={token('owner@acme.example')['Authorization'][7:]}"
    with api.websocket_connect(url) as ws:
        assert ws.receive_json() == {"type": "subscribed", "orgs": ["acme"]}
        # A developer may not approve their own high-risk write.
        refused = api.post(f"/api/actions/{action_id}/approve", headers=token("dev@acme.example"))
        assert refused.status_code == 403
        decided = api.post(
            f"/api/actions/{action_id}/approve",
            headers=token("owner@acme.example"),
            json={"note": "catalog moved"},
        )
        assert decided.status_code == 200, decided.text
        body = decided.json()
        assert body["action"]["status"] == "succeeded"
        assert body["resumed_session"] == session_id

        approved = ws.receive_json()
        assert approved["type"] == "action.approved"
        assert approved["data"]["action_id"] == action_id
        assert approved["data"]["decided_by"] == "owner@acme.example"
        resumed = ws.receive_json()
        assert resumed["type"] == "session.resumed"
        assert resumed["data"]["session_id"] == session_id
        assert "approved by owner@acme.example" in resumed["data"]["answer"]

    session = api.get(f"/api/sessions/{session_id}", headers=token("dev@acme.example")).json()
    assert session["pending"] is None
    assert "approved by owner@acme.example" in session["messages"][-1]["text"]
    again = api.post(f"/api/actions/{action_id}/approve", headers=token("owner@acme.example"))
    assert again.status_code == 409  # decided once; nothing runs twice


def test_a_session_decision_streams_the_rest_of_the_turn(api: TestClient, token: Token) -> None:
    events = _ask(api, token("dev@acme.example"), "delete the catalog app in acme-staging")
    session_id = events[-1][1]["session_id"]
    url = f"/api/sessions/{session_id}/decision"
    assert (
        api.post(url, headers=token("dev@acme.example"), json={"decision": "maybe"}).status_code
        == 422
    )
    response = api.post(url, headers=token("owner@acme.example"), json={"decision": "reject"})
    assert response.status_code == 200, response.text
    rest = sse_events(response.text)
    assert rest[-1][0] == "end"
    assert rest[-1][1]["pending"] == []
    nothing = api.post(url, headers=token("owner@acme.example"), json={"decision": "approve"})
    assert nothing.status_code == 422  # no pending approval left
    assert "no pending approval" in nothing.json()["detail"]


def test_the_websocket_refuses_unauthenticated_clients(api: TestClient) -> None:
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        api.websocket_connect("/api/notifications?access_token=forged") as ws,
    ):
        ws.receive_json()
    assert closed.value.code == 1008
