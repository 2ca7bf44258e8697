"""MCP over streamable HTTP: every request carries `Authorization: Bearer <token>`, verified by
`hexaops.ui.auth.authenticate`; an MCP session belongs to the user who opened it, so another
user's token cannot ride on it."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from hexaops.platform.core import Platform
from hexaops.platform.domain import Principal
from hexaops.settings import Settings
from hexaops.ui.auth import AuthError, authenticate
from hexaops.ui.mcp.server import PRINCIPAL_KEY, ToolServer

SESSION_HEADER = "mcp-session-id"
_MAX_SESSIONS = 10_000  # owners remembered; the manager itself caps live sessions too


def _problem(status: int, code: str, message: str) -> Response:
    headers = {"WWW-Authenticate": 'Bearer realm="hexaops"'} if status == 401 else None
    return JSONResponse({"error": code, "message": message}, status, headers=headers)


class AuthenticatedMcp:
    """ASGI endpoint: authenticate, check the session's owner, then hand over to the MCP
    transport with the caller in the scope."""

    def __init__(
        self, manager: StreamableHTTPSessionManager, platform: Platform, settings: Settings
    ) -> None:
        self.manager = manager
        self.platform = platform
        self.settings = settings
        self.owners: OrderedDict[str, str] = OrderedDict()  # session id -> principal id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        try:
            principal = await self._authenticate(headers.get("authorization", ""))
        except AuthError as exc:
            await _problem(401, exc.code, exc.message)(scope, receive, send)
            return
        session = headers.get(SESSION_HEADER)
        owner = self.owners.get(session) if session else None
        if owner is not None and owner != principal.id:
            await _problem(
                403, "forbidden", "this MCP session belongs to another user: open a new session"
            )(scope, receive, send)
            return
        scope[PRINCIPAL_KEY] = principal

        async def send_binding(message: Message) -> None:
            if message["type"] == "http.response.start" and session is None:
                for key, value in message.get("headers", []):
                    if key.lower() == SESSION_HEADER.encode():
                        self._bind(value.decode(), principal)
            await send(message)

        await self.manager.handle_request(scope, receive, send_binding)

    async def _authenticate(self, authorization: str) -> Principal:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError("missing bearer token: send `Authorization: Bearer <token>`")
        return await anyio.to_thread.run_sync(authenticate, self.platform, self.settings, token)

    def _bind(self, session: str, principal: Principal) -> None:
        self.owners[session] = principal.id
        while len(self.owners) > _MAX_SESSIONS:
            self.owners.popitem(last=False)


def mcp_http_app(
    platform: Platform,
    settings: Settings,
    *,
    path: str = "/mcp",
    resources: dict[str, Any] | None = None,
) -> Starlette:
    """A Starlette app serving MCP at `path` (and /healthz for probes)."""
    tools = ToolServer(platform, settings, resources=resources)
    manager = StreamableHTTPSessionManager(app=tools.server)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with manager.run():
            yield

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route(path, endpoint=AuthenticatedMcp(manager, platform, settings)),
            Route("/healthz", endpoint=healthz),
        ],
        lifespan=lifespan,
    )
