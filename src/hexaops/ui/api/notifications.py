"""Live notifications: a hub that anything in the process publishes to, and WebSocket
subscribers that receive what their organizations may see.

Publishing is thread-safe and never blocks (agent turns and approvals run in worker threads):
events are handed to the event loop, which fans them out to each subscriber's bounded queue. A
subscriber too slow to keep up loses its oldest events rather than slowing everyone down.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Final, Literal

from pydantic import BaseModel, Field

NotificationType = Literal[
    "action.requested",
    "action.approved",
    "action.rejected",
    "incident.opened",
    "incident.updated",
    "incident.resolved",
    "session.resumed",
]
QUEUE_SIZE: Final = 256


class Notification(BaseModel):
    """One live event, seen by the members of `org`."""

    type: NotificationType
    org: str
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    data: dict[str, Any] = Field(default_factory=dict)


class Subscription:
    def __init__(self, orgs: frozenset[str]) -> None:
        self.orgs = orgs
        self.queue: asyncio.Queue[Notification] = asyncio.Queue(QUEUE_SIZE)

    def offer(self, event: Notification) -> None:
        if event.org not in self.orgs:
            return
        if self.queue.full():  # drop the oldest: a stuck client must not grow memory
            self.queue.get_nowait()
        self.queue.put_nowait(event)


class Notifier:
    """The hub. `publish` from any thread; `subscribe` from the event loop."""

    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Deliver on `loop` (the server's; set at startup or by the first subscriber)."""
        with self._lock:
            self._loop = loop

    def publish(
        self, type: NotificationType, org: str, data: dict[str, Any] | None = None
    ) -> Notification:
        event = Notification(type=type, org=org, data=data or {})
        with self._lock:
            loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._fan_out, event)
        return event

    def _fan_out(self, event: Notification) -> None:
        for subscription in list(self._subscriptions):
            subscription.offer(event)

    @asynccontextmanager
    async def subscribe(self, orgs: frozenset[str]) -> AsyncIterator[Subscription]:
        if self._loop is None:
            self.bind(asyncio.get_running_loop())
        subscription = Subscription(orgs)
        self._subscriptions.add(subscription)
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)

    @property
    def subscribers(self) -> int:
        return len(self._subscriptions)
