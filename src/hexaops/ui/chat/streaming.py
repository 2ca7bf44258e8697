"""Run a synchronous agent turn in a worker thread and hand its events to async code.

AgentService turns are blocking generators (LangGraph streams, psycopg): the whole generator
runs in one thread (LangGraph keeps context variables across its steps, so it must not hop
threads between events), and each event crosses to the event loop through a queue.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


async def in_thread(produce: Callable[[], Iterator[T]]) -> AsyncIterator[T]:
    """Yield what `produce()` yields, running it in a daemon thread; its exception re-raises
    here, after the items it yielded before failing."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[object] = asyncio.Queue()
    failure: list[BaseException] = []

    def work() -> None:
        try:
            for item in produce():
                loop.call_soon_threadsafe(queue.put_nowait, item)
        except BaseException as exc:  # re-raised in the caller's task
            failure.append(exc)
        finally:
            loop.call_soon_threadsafe(queue.put_nowait, _DONE)

    threading.Thread(target=work, name="hexaops-chat-turn", daemon=True).start()
    while (item := await queue.get()) is not _DONE:
        yield item  # type: ignore[misc]  # everything but _DONE came from produce()
    if failure:
        raise failure[0]
