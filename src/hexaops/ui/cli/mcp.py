"""`hexaops mcp`: serve the agents' tools to MCP clients (Claude Desktop, IDEs, other agents).

stdio serves one local client as one user (`--as EMAIL`, like the other commands, or `--token`);
streamable HTTP serves many, each request authenticated by its bearer token."""

from __future__ import annotations

import logging
import sys
from enum import StrEnum
from typing import Annotated

import anyio
import typer

from hexaops.platform.errors import PlatformError
from hexaops.settings import load_settings
from hexaops.ui.cli.output import fail, platform_session


class Transport(StrEnum):
    stdio = "stdio"
    http = "http"


def mcp(
    transport: Annotated[
        Transport, typer.Option("--transport", help="stdio (one local client) or http.")
    ] = Transport.stdio,
    host: Annotated[str, typer.Option("--host", help="HTTP: address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="HTTP: port to listen on.")] = 8765,
    email: Annotated[
        str | None,
        typer.Option("--as", envvar="HEXAOPS_AS", help="stdio: act as this platform user."),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token", envvar="HEXAOPS_TOKEN", help="stdio: act as the user of this bearer token."
        ),
    ] = None,
) -> None:
    """Serve the tools over MCP, each call authorized as the connected user; write tools
    request actions that wait for approval, exactly as `hexaops tool run`."""
    # stdout carries the protocol on stdio: every log line goes to stderr.
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    if transport is Transport.http:
        if email or token:
            fail("--as and --token are for stdio: over HTTP each client sends its own token", 2)
        _serve_http(host, port)
        return
    if bool(email) == bool(token):
        fail("say who the stdio client acts as: --as EMAIL or --token TOKEN (one of them)", 2)
    _serve_stdio(email, token)


def _serve_stdio(email: str | None, token: str | None) -> None:
    from hexaops.ui.auth import authenticate
    from hexaops.ui.mcp import ToolServer, serve_stdio

    settings = load_settings()
    with platform_session() as platform:
        try:
            principal = (
                platform.user(email) if email else authenticate(platform, settings, token or "")
            )
        except PlatformError as exc:
            fail(exc.message)
        anyio.run(serve_stdio, ToolServer(platform, settings, principal))


def _serve_http(host: str, port: int) -> None:
    import uvicorn

    from hexaops.ui.auth import check_auth_settings
    from hexaops.ui.mcp import mcp_http_app

    settings = load_settings()
    try:
        check_auth_settings(settings)
    except PlatformError as exc:
        fail(exc.message)
    with platform_session() as platform:
        print(f"MCP on http://{host}:{port}/mcp (Authorization: Bearer <token>)", file=sys.stderr)
        uvicorn.run(mcp_http_app(platform, settings), host=host, port=port, log_level="warning")
