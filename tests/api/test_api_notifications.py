"""The notification hub: publish from any thread, delivered only to subscribers of the event's
organization; a slow subscriber loses its oldest events instead of growing without bound."""

from __future__ import annotations

import asyncio
import threading

from hexaops.ui.api.notifications import QUEUE_SIZE, Notifier


def test_events_reach_only_their_organization_from_any_thread() -> None:
    async def scenario() -> None:
        hub = Notifier()
        async with (
            hub.subscribe(frozenset({"acme"})) as acme,
            hub.subscribe(frozenset({"globex"})) as globex,
        ):
            worker = threading.Thread(
                target=hub.publish, args=("action.approved", "acme", {"action_id": 7})
            )
            worker.start()
            worker.join()
            event = await asyncio.wait_for(acme.queue.get(), timeout=5)
            assert (event.type, event.org, event.data) == (
                "action.approved",
                "acme",
                {"action_id": 7},
            )
            hub.publish("incident.opened", "globex", {"id": 1})
            assert (await asyncio.wait_for(globex.queue.get(), timeout=5)).type == "incident.opened"
            assert acme.queue.empty()
        assert hub.subscribers == 0

    asyncio.run(scenario())


def test_a_slow_subscriber_keeps_the_newest_events() -> None:
    async def scenario() -> None:
        hub = Notifier()
        async with hub.subscribe(frozenset({"acme"})) as slow:
            for n in range(QUEUE_SIZE + 10):
                hub.publish("incident.updated", "acme", {"n": n})
            await asyncio.sleep(0.05)  # let the loop deliver
            assert slow.queue.qsize() == QUEUE_SIZE
            assert slow.queue.get_nowait().data == {"n": 10}

    asyncio.run(scenario())
