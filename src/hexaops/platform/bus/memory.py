"""The in-process event bus: the embedded default, with JetStream's semantics.

A `MemoryBroker` plays the server: a stream of messages, a dedupe window, durable consumers
with their positions and unacknowledged deliveries. A `MemoryBus` is one connection to it;
closing a bus stops its subscriptions and keeps the broker's state, as a NATS client's
disconnect keeps the server's. Events live as long as the process: use NATS to keep them across
restarts and to share them between processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hexaops.platform.bus.contract import (
    Delivery,
    Event,
    EventBus,
    Handler,
    Subscription,
    check_names,
    encode,
    settle,
)

_IDLE_WAIT = 1.0  # longest sleep of an idle subscription between checks


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS subject matching: `*` is one token, a final `>` one or more."""
    want, have = pattern.split("."), subject.split(".")
    for i, token in enumerate(want):
        if token == ">":
            return len(have) > i
        if i >= len(have) or (token != "*" and token != have[i]):
            return False
    return len(want) == len(have)


@dataclass
class _Stored:
    sequence: int
    subject: str
    data: bytes
    msg_id: str | None


@dataclass
class _Unacked:
    deliveries: int
    due: float  # when it may be delivered again


@dataclass
class Consumer:
    """A durable consumer's state: the next stream position and the deliveries not yet acked."""

    subject: str
    delivery: Delivery
    next_sequence: int = 1
    unacked: dict[int, _Unacked] = field(default_factory=dict)


class MemoryBroker:
    """The shared state of in-process buses. Thread-safe: buses on different event loops (the
    API's, a worker thread's) share one broker."""

    def __init__(
        self, *, dedupe_window: float = 120.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.dedupe_window = dedupe_window
        self.clock = clock
        self._lock = threading.Lock()
        self._messages: list[_Stored] = []
        self._seen: dict[str, float] = {}  # msg_id -> when first published
        self._consumers: dict[str, Consumer] = {}
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    def store(self, subject: str, data: bytes, msg_id: str | None) -> bool:
        with self._lock:
            now = self.clock()
            self._seen = {k: t for k, t in self._seen.items() if now - t < self.dedupe_window}
            if msg_id is not None:
                if msg_id in self._seen:
                    return False
                self._seen[msg_id] = now
            self._messages.append(_Stored(len(self._messages) + 1, subject, data, msg_id))
        self._wake()
        return True

    def consumer(self, durable: str, subject: str, delivery: Delivery) -> Consumer:
        """The durable consumer, created on first use; its subject and knobs are fixed then."""
        with self._lock:
            return self._consumers.setdefault(durable, Consumer(subject, delivery))

    def take(self, consumer: Consumer) -> tuple[Event | None, float]:
        """The next event for `consumer` (a due redelivery first, then the next new message),
        or None and how long until one may be due."""
        with self._lock:
            now = self.clock()
            next_due = now + _IDLE_WAIT
            for sequence, state in sorted(consumer.unacked.items()):
                if state.due > now:
                    next_due = min(next_due, state.due)
                    continue
                if state.deliveries >= consumer.delivery.max_deliver:
                    del consumer.unacked[sequence]  # JetStream stops redelivering too
                    continue
                state.deliveries += 1
                state.due = now + consumer.delivery.ack_wait
                return self._event(sequence, state.deliveries), 0.0
            while consumer.next_sequence <= len(self._messages):
                sequence = consumer.next_sequence
                consumer.next_sequence += 1
                if subject_matches(consumer.subject, self._messages[sequence - 1].subject):
                    consumer.unacked[sequence] = _Unacked(1, now + consumer.delivery.ack_wait)
                    return self._event(sequence, 1), 0.0
            return None, max(next_due - now, 0.0)

    def _event(self, sequence: int, delivery: int) -> Event:
        stored = self._messages[sequence - 1]
        return Event(stored.subject, stored.data, stored.msg_id, sequence, delivery)

    def settle(self, consumer: Consumer, sequence: int, *, retry_in: float | None) -> None:
        """Ack or term (retry_in None) or nak / in-progress (due again after retry_in)."""
        with self._lock:
            if retry_in is None:
                consumer.unacked.pop(sequence, None)
            elif sequence in consumer.unacked:
                consumer.unacked[sequence].due = self.clock() + retry_in
        if retry_in == 0:
            self._wake()

    def listen(self) -> asyncio.Event:
        """An event set whenever something is published or handed back (clear it before
        looking, so nothing published in between is missed)."""
        wake = asyncio.Event()
        with self._lock:
            self._waiters.add((asyncio.get_running_loop(), wake))
        return wake

    def unlisten(self, wake: asyncio.Event) -> None:
        with self._lock:
            self._waiters = {w for w in self._waiters if w[1] is not wake}

    def _wake(self) -> None:
        with self._lock:
            waiters = list(self._waiters)
        for loop, event in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(event.set)


@dataclass
class _Receipt:
    broker: MemoryBroker
    consumer: Consumer
    sequence: int

    async def ack(self) -> None:
        self.broker.settle(self.consumer, self.sequence, retry_in=None)

    async def nak(self, delay: float) -> None:
        self.broker.settle(self.consumer, self.sequence, retry_in=delay)

    async def term(self) -> None:
        self.broker.settle(self.consumer, self.sequence, retry_in=None)

    async def in_progress(self) -> None:
        self.broker.settle(self.consumer, self.sequence, retry_in=self.consumer.delivery.ack_wait)


class MemoryBus(EventBus):
    """One connection to an in-process broker."""

    def __init__(self, broker: MemoryBroker, delivery: Delivery | None = None) -> None:
        self.broker = broker
        self.delivery = delivery or Delivery()
        self._subscriptions: list[Subscription] = []

    async def publish(
        self, subject: str, payload: bytes | dict[str, Any], *, msg_id: str | None = None
    ) -> bool:
        return self.broker.store(subject, encode(payload), msg_id)

    async def subscribe(self, subject: str, durable: str, handler: Handler) -> Subscription:
        check_names(subject, durable)
        consumer = self.broker.consumer(durable, subject, self.delivery)
        subscription = Subscription()
        subscription.start(self._consume(subscription, consumer, handler), f"bus:{durable}")
        self._subscriptions.append(subscription)
        return subscription

    async def _consume(
        self, subscription: Subscription, consumer: Consumer, handler: Handler
    ) -> None:
        wake = self.broker.listen()
        try:
            while subscription.running:
                wake.clear()
                event, idle = self.broker.take(consumer)
                if event is None:
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(idle):
                            await wake.wait()
                    continue
                receipt = _Receipt(self.broker, consumer, event.sequence)
                await settle(event, receipt, handler, consumer.delivery)
        finally:
            self.broker.unlisten(wake)

    async def close(self) -> None:
        for subscription in self._subscriptions:
            await subscription.stop()
        self._subscriptions.clear()


_default_broker: MemoryBroker | None = None
_default_lock = threading.Lock()


def default_broker() -> MemoryBroker:
    """The process's broker: the API's webhook and an in-process worker meet here."""
    global _default_broker
    with _default_lock:
        if _default_broker is None:
            _default_broker = MemoryBroker()
        return _default_broker
