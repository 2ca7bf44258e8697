"""The platform's event bus: alerts in, notifications out. NATS JetStream when
HEXAOPS_NATS_URL is set, else an in-process broker with the same semantics (see `contract`)."""

from __future__ import annotations

from hexaops.platform.bus.contract import (
    ALERTS,
    NOTIFICATIONS,
    Delivery,
    Event,
    EventBus,
    Handler,
    Subscription,
)
from hexaops.platform.bus.memory import MemoryBroker, MemoryBus, default_broker
from hexaops.settings import Settings

__all__ = [
    "ALERTS",
    "NOTIFICATIONS",
    "Delivery",
    "Event",
    "EventBus",
    "Handler",
    "MemoryBroker",
    "MemoryBus",
    "Subscription",
    "delivery_from",
    "open_bus",
]


def delivery_from(settings: Settings) -> Delivery:
    """The consumer knobs of the settings."""
    return Delivery(
        ack_wait=settings.bus_ack_wait_seconds,
        max_deliver=settings.bus_max_deliver,
        retry_delay=settings.bus_retry_delay_seconds,
    )


async def open_bus(settings: Settings, *, delivery: Delivery | None = None) -> EventBus:
    """The configured bus: NATS JetStream at HEXAOPS_NATS_URL, else the process's in-process
    broker. Raises ConfigurationError (actionable) when NATS cannot be reached."""
    delivery = delivery or delivery_from(settings)
    url = settings.nats_url
    if not url:
        return MemoryBus(default_broker(), delivery)
    from hexaops.platform.bus.nats import NatsBus

    return await NatsBus.connect(
        url,
        stream=settings.nats_stream,
        delivery=delivery,
        dedupe_window=settings.bus_dedupe_window_seconds,
        connect_timeout=settings.nats_connect_timeout_seconds,
    )
