"""Bad requests get the right 4xx as an RFC 7807 problem document, never a 5xx, and change
nothing: unknown routes, wrong methods, malformed JSON, oversized bodies, invalid fields,
other organizations' objects, missing roles, decisions made twice."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hexaops.platform.core import Platform
from hexaops.platform.domain import Principal

Token = Callable[[str], dict[str, str]]


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    assert "Traceback" not in response.text
    return body


def _apps(platform: Platform, owner: Principal) -> list[tuple[str, int]]:
    return [(a.name, a.replicas) for a in platform.applications(owner, "acme-staging", "shop")]


def test_unknown_routes_and_methods(api: TestClient, token: Token) -> None:
    assert "no route /api/nothing" in _problem(api.get("/api/nothing"), 404)["detail"]
    _problem(api.delete("/api/orgs", headers=token("owner@acme.example")), 405)


def test_malformed_and_invalid_bodies(
    api: TestClient, token: Token, platform: Platform, owner: Principal
) -> None:
    before = _apps(platform, owner)
    headers = token("dev@acme.example") | {"Content-Type": "application/json"}
    body = _problem(api.post("/api/actions", headers=headers, content=b'{"operation": '), 422)
    assert body["errors"][0]["type"] == "json_invalid"
    scale = {"workspace": "acme-staging", "project": "shop", "name": "checkout", "replicas": -1}
    body = _problem(
        api.post(
            "/api/actions",
            headers=headers,
            json={"operation": "application.scale", "params": scale},
        ),
        422,
    )
    assert "replicas" in body["detail"]
    unknown = {"operation": "cluster.explode", "params": {}}
    _problem(api.post("/api/actions", headers=headers, json=unknown), 422)
    _problem(api.get("/api/workspaces/Not_A_Name/projects", headers=headers), 422)
    _problem(api.get("/api/actions/0", headers=headers), 422)
    assert _apps(platform, owner) == before  # nothing was written


def test_oversized_bodies_are_refused_before_they_are_read(api: TestClient, token: Token) -> None:
    headers = token("dev@acme.example")
    big = {"message": "x" * 70_000}
    body = _problem(api.post("/api/chat", headers=headers, json=big), 413)
    assert "HEXAOPS_API_MAX_BODY_BYTES" in body["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"message": "'
        for _ in range(100):
            yield b"y" * 1000
        yield b'"}'

    streamed = api.post(
        "/api/chat", headers=headers | {"Content-Type": "application/json"}, content=chunks()
    )
    _problem(streamed, 413)


def test_other_organizations_are_not_found_and_roles_are_enforced(
    api: TestClient, token: Token, platform: Platform, owner: Principal
) -> None:
    _problem(api.get("/api/orgs/acme/members", headers=token("owner@globex.example")), 404)
    _problem(api.get("/api/orgs/acme/audit", headers=token("viewer@acme.example")), 403)
    deploy = {
        "operation": "application.scale",
        "params": {
            "workspace": "acme-staging",
            "project": "shop",
            "name": "checkout",
            "replicas": 3,
        },
    }
    _problem(api.post("/api/actions", headers=token("viewer@acme.example"), json=deploy), 403)
    _problem(api.post("/api/actions", headers=token("owner@globex.example"), json=deploy), 404)
    assert ("checkout", 2) in _apps(platform, owner)


def test_actions_dry_run_idempotency_and_decisions(
    api: TestClient, token: Token, platform: Platform, owner: Principal
) -> None:
    dev, boss = token("dev@acme.example"), token("owner@acme.example")
    params = {"workspace": "acme-staging", "project": "shop", "name": "catalog"}
    request = {"operation": "application.delete", "params": params, "idempotency_key": "k-1"}
    plan = api.post("/api/actions", headers=dev, json=request | {"dry_run": True})
    assert plan.status_code == 200
    assert plan.json()["id"] is None
    first = api.post("/api/actions", headers=dev, json=request).json()
    assert first["status"] == "pending"
    replay = api.post("/api/actions", headers=dev, json=request).json()
    assert (replay["id"], replay["replayed"]) == (first["id"], True)
    listed = api.get("/api/actions?status=pending", headers=boss).json()
    assert [a["id"] for a in listed] == [first["id"]]
    rejected = api.post(f"/api/actions/{first['id']}/reject", headers=boss, json={"note": "no"})
    assert rejected.json()["action"]["status"] == "rejected"
    assert rejected.json()["resumed_session"] is None  # not an agent's request
    _problem(api.post(f"/api/actions/{first['id']}/approve", headers=boss), 409)
    assert any(name == "catalog" for name, _ in _apps(platform, owner))


@pytest.mark.parametrize("path", ["/healthz", "/openapi.json", "/metrics"])
def test_public_endpoints(api: TestClient, path: str) -> None:
    assert api.get(path).status_code == 200


def test_values_the_database_cannot_store_are_a_422(
    api: TestClient, token: Token, platform: Platform, owner: Principal
) -> None:
    before = _apps(platform, owner)
    scale = {"workspace": "acme-staging", "project": "shop", "name": "checkout", "replicas": 3}
    for request in (
        {"operation": "application.scale", "params": scale | {"name": "check\u0000out"}},
        {"operation": "application.scale", "params": scale, "idempotency_key": "k\u0000"},
    ):
        body = _problem(
            api.post("/api/actions", headers=token("dev@acme.example"), json=request), 422
        )
        assert "cannot be stored" in body["detail"]
    login = api.post("/api/auth/dev-token", json={"email": "owner\u0000@acme.example"})
    _problem(login, 422)
    assert _apps(platform, owner) == before
