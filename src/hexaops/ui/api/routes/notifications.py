"""WebSocket of live notifications (actions requested/approved/rejected, incidents, resumed
sessions) for the organizations of the authenticated user.

Browsers cannot set headers on a WebSocket: the token may come as `Authorization: Bearer`, or
as the `access_token` query parameter. A refused connection is closed with code 1008.
"""

from __future__ import annotations

import anyio
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool

from hexaops.platform.errors import PlatformError
from hexaops.ui.api.deps import services_of
from hexaops.ui.api.notifications import Subscription
from hexaops.ui.auth import authenticate

router = APIRouter(tags=["notifications"])


@router.websocket("/api/notifications")
async def notifications(websocket: WebSocket) -> None:
    services = services_of(websocket)
    header = websocket.headers.get("authorization", "")
    token = header[7:] if header.lower().startswith("bearer ") else ""
    token = token or websocket.query_params.get("access_token", "")
    try:
        principal = await run_in_threadpool(
            authenticate, services.platform, services.settings, token
        )
        orgs = await run_in_threadpool(services.platform.organizations, principal)
    except PlatformError as exc:
        await websocket.close(code=1008, reason=exc.message[:120])
        return
    await websocket.accept()
    async with services.notifier.subscribe(frozenset(o.slug for o in orgs)) as subscription:
        await websocket.send_json({"type": "subscribed", "orgs": sorted(subscription.orgs)})
        async with anyio.create_task_group() as group:
            group.start_soon(_forward, websocket, subscription)
            await _until_closed(websocket)  # the client left: stop forwarding
            group.cancel_scope.cancel()


async def _forward(websocket: WebSocket, subscription: Subscription) -> None:
    while True:
        event = await subscription.queue.get()
        await websocket.send_text(event.model_dump_json())


async def _until_closed(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends until it disconnects."""
    try:
        while True:
            await websocket.receive_text()
    except (WebSocketDisconnect, RuntimeError):
        return
