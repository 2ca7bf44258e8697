"""The event bus contract: platform events in (alerts) and out (notifications), at least once.

A publisher hands the bus a subject and a payload, optionally with a message id: a second
publish with the same id inside the dedupe window is dropped (JetStream's `Nats-Msg-Id`), so a
retried webhook or a re-sent alert is stored once. A subscriber names a durable consumer: every
subscription with the same durable shares its work (competing consumers) and its position, which
survives reconnects and restarts. The handler's successful return acknowledges the event — so a
handler acknowledges only after it committed its work; an exception hands the event back for
redelivery with backoff, at most `max_deliver` deliveries in all. Handlers must be idempotent:
an event whose ack was lost (a crash between commit and ack) is delivered again, and events are
not promised in order once redeliveries happen.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from hexaops.platform.errors import InvalidInput

log = logging.getLogger(__name__)

ALERTS = "hexaops.alerts"  # Alertmanager alerts, one event per alert
NOTIFICATIONS = "hexaops.notifications"  # what workers tell people (chat, Slack)
SUBJECTS = "hexaops.>"  # everything the platform's stream keeps


@dataclass(frozen=True)
class Event:
    """One delivery of a stored message."""

    subject: str
    data: bytes
    msg_id: str | None
    sequence: int  # position in the stream: the same for every redelivery
    delivery: int  # 1 on the first delivery, 2 after a failure, ... (nats-server 2.9 may
    # under-count a redelivery after an ack_wait expiry; failures are always counted)

    def json(self) -> Any:
        return json.loads(self.data)


Handler = Callable[[Event], Awaitable[None]]


@dataclass(frozen=True)
class Delivery:
    """Knobs of a durable consumer: how long an unacknowledged delivery waits before it is
    redelivered, how often an event is tried, how long a failed one waits before the next try."""

    ack_wait: float = 30.0
    max_deliver: int = 5
    retry_delay: float = 1.0  # doubled per failed delivery, capped at max_retry_delay
    max_retry_delay: float = 60.0

    def backoff(self, delivery: int) -> float:
        return float(min(self.retry_delay * 2 ** (delivery - 1), self.max_retry_delay))


class Receipt(Protocol):
    """How a backend settles one delivery."""

    async def ack(self) -> None: ...
    async def nak(self, delay: float) -> None: ...
    async def term(self) -> None: ...
    async def in_progress(self) -> None: ...


_DURABLE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SUBJECT = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_*-]+)*(\.>)?$|^>$")


def check_names(subject: str, durable: str) -> None:
    """Reject names NATS would refuse, with the same message on both backends."""
    if not _DURABLE.match(durable):
        raise InvalidInput(f"durable name {durable!r}: use letters, digits, '-' and '_' only")
    if not _SUBJECT.match(subject):
        raise InvalidInput(f"subject {subject!r}: dot-separated tokens, wildcards '*' and '>'")


def encode(payload: bytes | dict[str, Any]) -> bytes:
    if isinstance(payload, bytes):
        return payload
    return json.dumps(payload, separators=(",", ":"), default=str).encode()


async def settle(event: Event, receipt: Receipt, handler: Handler, delivery: Delivery) -> None:
    """Run the handler on one event and settle it: ack on success, nak with backoff on failure,
    term after the last allowed delivery. While the handler works, the delivery is kept alive
    so a long investigation is not redelivered to another worker. A cancelled handler (the
    subscription stops) hands the event back at once for the next subscriber."""
    keepalive = asyncio.create_task(_keep_alive(receipt, delivery.ack_wait / 3))
    try:
        await handler(event)
    except asyncio.CancelledError:
        keepalive.cancel()
        with contextlib.suppress(Exception):
            await receipt.nak(0)
        raise
    except Exception:
        keepalive.cancel()
        if event.delivery >= delivery.max_deliver:
            log.exception(
                "event %s #%d failed on its last delivery (%d): dropped",
                event.subject,
                event.sequence,
                event.delivery,
            )
            await receipt.term()
        else:
            log.warning(
                "event %s #%d failed (delivery %d): retried",
                event.subject,
                event.sequence,
                event.delivery,
                exc_info=True,
            )
            await receipt.nak(delivery.backoff(event.delivery))
    else:
        keepalive.cancel()
        await receipt.ack()


async def _keep_alive(receipt: Receipt, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            await receipt.in_progress()
        except Exception:  # connection trouble: the ack or nak after the handler will tell
            log.debug("keep-alive of a delivery failed", exc_info=True)


class Subscription:
    """A running consumer loop; `stop()` ends it (an event in flight is handed back). Loops
    check `running` too: Python 3.11's `asyncio.wait_for` may swallow a cancellation."""

    def __init__(self) -> None:
        self.running = True
        self.task: asyncio.Task[None] | None = None

    def start(self, loop: Coroutine[Any, Any, None], name: str) -> None:
        self.task = asyncio.create_task(loop, name=name)

    async def stop(self) -> None:
        self.running = False
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None
        await self.release()

    async def release(self) -> None:
        """Free what the backend holds for this subscription."""


class EventBus(ABC):
    """Publish events to subjects; consume them through durable consumers."""

    @abstractmethod
    async def publish(
        self, subject: str, payload: bytes | dict[str, Any], *, msg_id: str | None = None
    ) -> bool:
        """Store an event; False when `msg_id` was already published inside the dedupe window
        (the event is then not stored again)."""

    @abstractmethod
    async def subscribe(self, subject: str, durable: str, handler: Handler) -> Subscription:
        """Deliver events on `subject` (wildcards `*`, `>`) to `handler` through the durable
        consumer `durable`, starting where it left off (from the stream's start when new)."""

    @abstractmethod
    async def close(self) -> None:
        """Stop this connection's subscriptions; stored events and consumer positions stay."""

    async def __aenter__(self) -> EventBus:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
