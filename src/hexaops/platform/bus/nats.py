"""The event bus on NATS JetStream: one stream for the platform's subjects, durable pull
consumers with explicit acks. Several API and worker replicas share one server; a worker that
restarts resumes its durable consumer where it stopped."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext, api

from hexaops.platform.bus.contract import (
    SUBJECTS,
    Delivery,
    Event,
    EventBus,
    Handler,
    Subscription,
    check_names,
    encode,
    settle,
)
from hexaops.platform.errors import ConfigurationError

log = logging.getLogger(__name__)

_FETCH_WAIT = 1.0  # seconds a pull request lingers on the server for a new message
_RETENTION = 7 * 24 * 3600.0  # events older than this are dropped from the stream
_MSG_ID = "Nats-Msg-Id"


@dataclass
class _Receipt:
    msg: Msg

    async def ack(self) -> None:
        try:  # wait for the server: the next fetch must not see this event again
            await self.msg.ack_sync(timeout=5.0)
        except nats.errors.Error:
            log.warning("ack of %s not confirmed: it may be redelivered", self.msg.subject)

    async def nak(self, delay: float) -> None:
        await self.msg.nak(delay=delay or None)

    async def term(self) -> None:
        await self.msg.term()

    async def in_progress(self) -> None:
        await self.msg.in_progress()


class _NatsSubscription(Subscription):
    def __init__(self, pull: JetStreamContext.PullSubscription) -> None:
        super().__init__()
        self.pull = pull

    async def release(self) -> None:
        with contextlib.suppress(nats.errors.Error):
            await self.pull.unsubscribe()


class NatsBus(EventBus):
    """One connection to a NATS server with JetStream."""

    def __init__(self, client: Client, stream: str, delivery: Delivery) -> None:
        self.client = client
        self.js = client.jetstream()
        self.stream = stream
        self.delivery = delivery
        self._subscriptions: list[_NatsSubscription] = []

    @classmethod
    async def connect(
        cls,
        url: str,
        *,
        stream: str = "HEXAOPS",
        delivery: Delivery | None = None,
        dedupe_window: float = 120.0,
        connect_timeout: float = 10.0,
    ) -> NatsBus:
        """Connect and make sure the stream exists (creating or updating it is idempotent, so
        every replica may do it at start)."""
        try:  # reconnect forever once connected; give up on a first connect after the timeout
            client = await asyncio.wait_for(
                nats.connect(
                    url,
                    name="hexaops",
                    connect_timeout=min(connect_timeout, 5.0),
                    reconnect_time_wait=min(connect_timeout / 4, 2.0),
                    max_reconnect_attempts=-1,
                    error_cb=_log_error,
                ),
                connect_timeout,
            )
        except (OSError, TimeoutError, nats.errors.Error):
            raise ConfigurationError(
                f"cannot reach NATS at {url} within {connect_timeout:g} s: start nats-server "
                "with -js or fix HEXAOPS_NATS_URL (unset it for the in-process bus)"
            ) from None
        bus = cls(client, stream, delivery or Delivery())
        try:
            await bus._ensure_stream(dedupe_window)
        except nats.errors.Error as exc:
            await client.close()
            raise ConfigurationError(
                f"NATS at {url} refused the stream {stream!r} ({exc}): is JetStream enabled "
                "(nats-server -js)?"
            ) from None
        return bus

    async def _ensure_stream(self, dedupe_window: float) -> None:
        config = api.StreamConfig(
            name=self.stream,
            subjects=[SUBJECTS],
            retention=api.RetentionPolicy.LIMITS,
            storage=api.StorageType.FILE,
            max_age=_RETENTION,
            duplicate_window=dedupe_window,
        )
        try:
            info = await self.js.stream_info(self.stream)
        except nats.js.errors.NotFoundError:
            await self.js.add_stream(config)  # the server accepts an identical concurrent create
            return
        current = info.config
        if current.subjects != config.subjects or current.duplicate_window != dedupe_window:
            await self.js.update_stream(config)

    async def publish(
        self, subject: str, payload: bytes | dict[str, Any], *, msg_id: str | None = None
    ) -> bool:
        headers = {_MSG_ID: msg_id} if msg_id else None
        ack = await self.js.publish(subject, encode(payload), stream=self.stream, headers=headers)
        return not ack.duplicate

    async def subscribe(self, subject: str, durable: str, handler: Handler) -> Subscription:
        check_names(subject, durable)
        config = api.ConsumerConfig(
            name=durable,
            durable_name=durable,
            deliver_policy=api.DeliverPolicy.ALL,
            ack_policy=api.AckPolicy.EXPLICIT,
            ack_wait=self.delivery.ack_wait,
            max_deliver=self.delivery.max_deliver,
            filter_subject=subject,
        )
        if await self._consumer_differs(durable):
            try:  # create, or update the knobs of an existing consumer (same subject)
                await self.js.add_consumer(self.stream, config)
            except nats.js.errors.APIError as exc:
                log.warning("consumer %s kept as it is (%s)", durable, exc.description)
        pull = await self.js.pull_subscribe_bind(durable=durable, stream=self.stream)
        subscription = _NatsSubscription(pull)
        subscription.start(self._consume(subscription, handler), f"bus:{durable}")
        self._subscriptions.append(subscription)
        return subscription

    async def _consumer_differs(self, durable: str) -> bool:
        """Whether the durable consumer is missing or has other knobs. Replicas that start with
        the same settings leave it alone: an update may reset the server's redelivery counts."""
        try:
            current = (await self.js.consumer_info(self.stream, durable)).config
        except nats.js.errors.NotFoundError:
            return True
        wanted = (self.delivery.ack_wait, self.delivery.max_deliver)
        return (current.ack_wait, current.max_deliver) != wanted

    async def _consume(self, subscription: _NatsSubscription, handler: Handler) -> None:
        while subscription.running:
            try:
                messages = await subscription.pull.fetch(1, timeout=_FETCH_WAIT)
            except nats.errors.TimeoutError:
                continue
            except nats.errors.Error as exc:  # reconnecting: the client retries by itself
                log.warning("event bus fetch failed (%s); retrying", exc)
                await asyncio.sleep(_FETCH_WAIT)
                continue
            for msg in messages:
                try:
                    await settle(_event(msg), _Receipt(msg), handler, self.delivery)
                except nats.errors.Error as exc:  # the event comes back after ack_wait
                    log.warning("could not settle %s (%s): redelivered later", msg.subject, exc)

    async def close(self) -> None:
        for subscription in self._subscriptions:
            await subscription.stop()
        self._subscriptions.clear()
        if not self.client.is_closed:
            with contextlib.suppress(nats.errors.Error):
                await self.client.flush(timeout=2)  # naks of handed-back events reach the server
            await self.client.close()


async def _log_error(exc: Exception) -> None:
    """One line per connection problem instead of the client's traceback."""
    log.warning("NATS: %s", exc or type(exc).__name__)


def _event(msg: Msg) -> Event:
    meta = msg.metadata
    return Event(
        subject=msg.subject,
        data=msg.data,
        msg_id=(msg.headers or {}).get(_MSG_ID),
        sequence=meta.sequence.stream,
        delivery=meta.num_delivered,
    )
