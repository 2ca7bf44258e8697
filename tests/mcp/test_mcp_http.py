"""`hexaops mcp --transport http`: the real MCP client over streamable HTTP, one bearer token
per connection, calls authorized as the token's user."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from mcp.client.streamable_http import streamable_http_client
from mcp_support import DEV, OWNER, SCALE_CHECKOUT, body, serving

from hexaops.platform.core import Platform
from hexaops.settings import Settings
from hexaops.ui.auth import dev_token
from hexaops.ui.mcp import mcp_http_app
from mcp import ClientSession

pytestmark = pytest.mark.asyncio

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"},
    },
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home")  # embedded demo: dev tokens are accepted


@pytest.fixture
def url(platform: Platform, settings: Settings) -> Iterator[str]:
    with serving(mcp_http_app(platform, settings)) as base:
        yield f"{base}/mcp"


@asynccontextmanager
async def connected(url: str, token: str) -> AsyncIterator[ClientSession]:
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx.AsyncClient(headers=headers, timeout=30) as http,
        streamable_http_client(url, http_client=http) as (read, write, _),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


async def test_tools_are_listed_with_schemas_and_run_as_the_token_user(
    url: str, settings: Settings
) -> None:
    async with connected(url, dev_token(settings, DEV)) as session:
        tools = {t.name: t for t in (await session.list_tools()).tools}
        scale = tools["platform_application_scale"]
        assert "replicas" in scale.inputSchema["properties"]
        assert scale.annotations is not None
        assert scale.annotations.readOnlyHint is False
        assert tools["platform_workspaces"].annotations.readOnlyHint is True  # type: ignore[union-attr]

        result = await session.call_tool("platform_workspaces", {})
        assert not result.isError
        assert {w["name"] for w in body(result)["data"]} == {"acme-prod", "acme-staging"}

        other_org = await session.call_tool(
            "platform_projects", {"org": "globex", "workspace": "globex-prod"}
        )
        assert other_org.isError
        assert "not found" in body(other_org)["summary"]

        bad_args = await session.call_tool("platform_application_scale", {"replicas": -1})
        assert bad_args.isError
        assert body(bad_args)["error_code"] == "invalid"


async def test_write_tool_returns_a_pending_action(
    url: str, settings: Settings, platform: Platform
) -> None:
    async with connected(url, dev_token(settings, DEV)) as session:
        result = await session.call_tool("platform_application_scale", SCALE_CHECKOUT)
        retry_meta = {"idempotencyKey": "scale-checkout-1"}
        first = await session.call_tool(
            "platform_application_scale", SCALE_CHECKOUT, meta=retry_meta
        )
        retried = await session.call_tool(
            "platform_application_scale", SCALE_CHECKOUT, meta=retry_meta
        )
    assert not result.isError, body(result)["summary"]
    action = body(result)["data"]
    assert action["status"] == "pending"
    # A client's retry with the same key returns the same action; without a key, a new one.
    assert body(first)["data"]["id"] == body(retried)["data"]["id"] != action["id"]
    dev = platform.user(DEV)
    assert platform.action(dev, action["id"]).status == "pending"
    apps = platform.applications(dev, "acme-prod", "shop", "acme")
    assert next(a for a in apps if a.name == "checkout").replicas > 0  # nothing changed yet


async def test_requests_without_a_valid_token_are_refused(url: str) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        missing = await http.post(url, json=INITIALIZE, headers=MCP_HEADERS)
        assert missing.status_code == 401
        assert "Bearer" in missing.headers["www-authenticate"]
        assert "missing bearer token" in missing.json()["message"]
        forged = await http.post(
            url, json=INITIALIZE, headers={**MCP_HEADERS, "Authorization": "Bearer not-a-jwt"}
        )
        assert forged.status_code == 401
        assert "malformed" in forged.json()["message"]


async def test_a_session_cannot_be_used_with_another_users_token(
    url: str, settings: Settings
) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        dev = {**MCP_HEADERS, "Authorization": f"Bearer {dev_token(settings, DEV)}"}
        opened = await http.post(url, json=INITIALIZE, headers=dev)
        assert opened.status_code == 200
        session = opened.headers["mcp-session-id"]
        owner = {
            **MCP_HEADERS,
            "Authorization": f"Bearer {dev_token(settings, OWNER)}",
            "mcp-session-id": session,
        }
        listing = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
        hijack = await http.post(url, json=listing, headers=owner)
        assert hijack.status_code == 403
        assert "another user" in hijack.json()["message"]
