"""`hexaops mcp` on stdio, spawned as a subprocess by the real MCP client: one local user."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from mcp.client.stdio import stdio_client
from mcp_support import DEV, SCALE_CHECKOUT, body

from hexaops.platform.core import Platform
from mcp import ClientSession, StdioServerParameters

HEXAOPS = str(Path(sys.executable).parent / "hexaops")


@pytest.fixture
def env(platform: Platform, tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "DATABASE_URL": platform.engine.url.render_as_string(hide_password=False),
        "HEXAOPS_HOME": str(tmp_path / "home"),
    }


@pytest.mark.asyncio
async def test_stdio_client_lists_and_calls_tools_as_the_user(
    env: dict[str, str], platform: Platform
) -> None:
    server = StdioServerParameters(command=HEXAOPS, args=["mcp", "--as", DEV], env=env)
    async with stdio_client(server) as (read, write), ClientSession(read, write) as session:
        info = await session.initialize()
        assert info.serverInfo.name == "hexaops"
        names = {t.name for t in (await session.list_tools()).tools}
        assert {"platform_workspaces", "diagnose", "platform_application_scale"} <= names

        mine = await session.call_tool("platform_workspaces", {})
        assert "acme-prod" in {w["name"] for w in body(mine)["data"]}
        theirs = await session.call_tool(
            "platform_projects", {"org": "globex", "workspace": "globex-prod"}
        )
        assert theirs.isError
        assert "not found" in body(theirs)["summary"]

        write = await session.call_tool("platform_application_scale", SCALE_CHECKOUT)
        assert body(write)["data"]["status"] == "pending"
    pending = platform.list_actions(platform.user("owner@acme.example"), "acme", status="pending")
    assert [a.operation for a in pending] == ["application.scale"]


def test_stdio_needs_a_user_and_refuses_a_bad_token(env: dict[str, str]) -> None:
    nobody = subprocess.run([HEXAOPS, "mcp"], env=env, capture_output=True, text=True, timeout=60)
    assert nobody.returncode == 2
    assert "--as EMAIL or --token TOKEN" in nobody.stderr
    forged = subprocess.run(
        [HEXAOPS, "mcp", "--token", "not-a-jwt"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert forged.returncode == 1
    assert "malformed bearer token" in forged.stderr
    assert forged.stdout == ""  # stdout is the protocol channel: nothing else is written there
