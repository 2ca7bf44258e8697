"""One contract, two backends: the in-process bus and a real nats-server with JetStream.

`connect()` opens a new connection to the same broker/server, as a restarted worker would."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import pytest_asyncio
from bus_support import nats_server

from hexaops.platform.bus import Delivery, Event, EventBus, MemoryBroker, MemoryBus
from hexaops.platform.bus.nats import NatsBus
from hexaops.platform.errors import InvalidInput

pytestmark = pytest.mark.asyncio

KNOBS = Delivery(ack_wait=1.0, max_deliver=3, retry_delay=0.05)
QUIET = 0.4  # how long "nothing else arrives" is watched
Connect = Callable[[], Awaitable[EventBus]]


@pytest_asyncio.fixture(params=["memory", "nats"])
async def connect(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Connect]:
    opened: list[EventBus] = []
    if request.param == "memory":
        broker = MemoryBroker()

        async def open_memory() -> EventBus:
            opened.append(MemoryBus(broker, KNOBS))
            return opened[-1]

        yield open_memory
    else:
        with nats_server(tmp_path / "js") as url:

            async def open_nats() -> EventBus:
                opened.append(await NatsBus.connect(url, delivery=KNOBS))
                return opened[-1]

            yield open_nats
            for bus in opened:
                await bus.close()
    for bus in opened:
        await bus.close()


class Inbox:
    """A handler that records events; `fail` decides (per event) whether to raise."""

    def __init__(self, fail: Callable[[Event], bool] = lambda e: False) -> None:
        self.queue: asyncio.Queue[Event] = asyncio.Queue()
        self.fail = fail

    async def __call__(self, event: Event) -> None:
        await self.queue.put(event)
        if self.fail(event):
            raise RuntimeError("handler failed")

    async def next(self) -> Event:
        return await asyncio.wait_for(self.queue.get(), 5)

    async def quiet(self, seconds: float = QUIET) -> bool:
        await asyncio.sleep(seconds)
        return self.queue.empty()


async def test_delivers_matching_events_once_and_drops_duplicate_ids(connect: Connect) -> None:
    bus = await connect()
    assert await bus.publish("hexaops.alerts.acme", {"alert": "HighErrorRate"}, msg_id="fp-1")
    assert not await bus.publish("hexaops.alerts.acme", {"alert": "HighErrorRate"}, msg_id="fp-1")
    await bus.publish("hexaops.notifications", b"not for the alert worker")
    inbox = Inbox()
    await bus.subscribe("hexaops.alerts.>", "alert-worker", inbox)
    event = await inbox.next()
    assert event.json() == {"alert": "HighErrorRate"}
    assert (event.subject, event.msg_id, event.delivery) == ("hexaops.alerts.acme", "fp-1", 1)
    assert await inbox.quiet()


async def test_failed_handler_gets_the_event_again_then_acks(connect: Connect) -> None:
    bus = await connect()
    inbox = Inbox(fail=lambda e: e.delivery == 1)
    await bus.subscribe("hexaops.alerts", "alert-worker", inbox)
    await bus.publish("hexaops.alerts", {"n": 1})
    first, second = await inbox.next(), await inbox.next()
    assert (first.sequence, first.delivery) == (second.sequence, 1)
    assert second.delivery == 2
    assert await inbox.quiet(KNOBS.ack_wait + 0.3)  # acked: not redelivered after ack_wait


async def test_gives_up_after_max_deliver(connect: Connect) -> None:
    bus = await connect()
    inbox = Inbox(fail=lambda e: True)
    await bus.subscribe("hexaops.alerts", "alert-worker", inbox)
    await bus.publish("hexaops.alerts", {"poison": True})
    deliveries = [(await inbox.next()).delivery for _ in range(KNOBS.max_deliver)]
    assert deliveries == [1, 2, 3]
    assert await inbox.quiet(KNOBS.ack_wait + 0.3)


async def test_event_in_flight_when_a_worker_stops_goes_to_the_next(connect: Connect) -> None:
    crashed = await connect()
    started = asyncio.Event()

    async def hangs(event: Event) -> None:
        started.set()
        await asyncio.Event().wait()  # never commits

    await crashed.subscribe("hexaops.alerts", "alert-worker", hangs)
    await crashed.publish("hexaops.alerts", {"n": 1})
    await asyncio.wait_for(started.wait(), 5)
    await crashed.close()
    inbox = Inbox()
    await (await connect()).subscribe("hexaops.alerts", "alert-worker", inbox)
    event = await inbox.next()
    assert (event.json(), event.delivery) == ({"n": 1}, 2)


async def test_durable_consumer_resumes_where_it_stopped(connect: Connect) -> None:
    publisher = await connect()
    first = await connect()
    inbox = Inbox()
    await first.subscribe("hexaops.alerts", "alert-worker", inbox)
    await publisher.publish("hexaops.alerts", {"n": 1})
    assert (await inbox.next()).json() == {"n": 1}
    await asyncio.sleep(0.1)  # the ack reaches the broker
    await first.close()
    await publisher.publish("hexaops.alerts", {"n": 2})
    await publisher.publish("hexaops.alerts", {"n": 3})
    resumed = Inbox()
    await (await connect()).subscribe("hexaops.alerts", "alert-worker", resumed)
    # No order promise: a pull request the closed worker left on the server may hold n=2
    # until its ack_wait passes.
    assert sorted([(await resumed.next()).json()["n"] for _ in range(2)]) == [2, 3]
    assert await resumed.quiet()
    other = Inbox()  # another durable consumer has its own position: it sees everything
    await publisher.subscribe("hexaops.alerts", "audit-log", other)
    assert sorted([(await other.next()).json()["n"] for _ in range(3)]) == [1, 2, 3]


async def test_workers_sharing_a_durable_split_the_work(connect: Connect) -> None:
    inbox = Inbox()
    for _ in range(2):
        await (await connect()).subscribe("hexaops.alerts", "alert-worker", inbox)
    publisher = await connect()
    for n in range(10):
        await publisher.publish("hexaops.alerts", {"n": n})
    got = sorted([(await inbox.next()).json()["n"] for _ in range(10)])
    assert got == list(range(10))
    assert await inbox.quiet()


async def test_long_handler_is_kept_alive_not_redelivered(connect: Connect) -> None:
    inbox = Inbox()

    async def slow(event: Event) -> None:
        await asyncio.sleep(KNOBS.ack_wait * 1.6)
        await inbox(event)

    for _ in range(2):
        await (await connect()).subscribe("hexaops.alerts", "alert-worker", slow)
    await (await connect()).publish("hexaops.alerts", {"n": 1})
    assert (await inbox.next()).delivery == 1
    assert await inbox.quiet(KNOBS.ack_wait)


async def test_names_nats_would_refuse_are_rejected(connect: Connect) -> None:
    bus = await connect()
    with pytest.raises(InvalidInput, match="durable name"):
        await bus.subscribe("hexaops.alerts", "alert.worker", Inbox())
