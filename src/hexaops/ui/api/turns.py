"""Agent turns as tasks on the API's event loop (`AgentService.aask_into`): a turn mostly
waits for its model, so it holds no thread; its blocking parts (database reads, sync tools,
checkpoints) go to worker threads. Its events are queued for the response as they happen.

A turn, once started, runs to its end even when the client goes away: its steps are
checkpointed, so the session holds the answer (or the pending approval) for the next request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.to_thread

from hexaops.agents.events import AgentEvent, Answer, ApprovalRequested, Error, ToolFinished
from hexaops.agents.service import AgentService
from hexaops.agents.streaming import Emit
from hexaops.platform.domain import Principal
from hexaops.platform.errors import PlatformError
from hexaops.ui.api.observability import Metrics, Tracing
from hexaops.ui.cli.ask import Turn

log = logging.getLogger(__name__)


@dataclass
class TurnEnd:
    """The turn's summary document (see `Turn.document`), after its last event."""

    document: dict[str, Any]


_Item = AgentEvent | TurnEnd | BaseException


class TurnRunner:
    def __init__(
        self, agents: AgentService, metrics: Metrics, tracing: Tracing, workers: int
    ) -> None:
        self.agents, self.metrics, self.tracing = agents, metrics, tracing
        self.limiter = anyio.CapacityLimiter(workers)  # turns at once; more wait their turn
        self._tasks: set[asyncio.Task[None]] = set()

    async def open_turn(self, principal: Principal, session_id: str | None) -> Turn:
        """A turn of a new or existing session (NotFound for a session the principal may
        not see) — checked before anything streams."""
        if session_id is None:  # nothing to read
            return Turn(self.agents, principal, None)
        return await anyio.to_thread.run_sync(Turn, self.agents, principal, session_id)

    async def run(
        self, turn: Turn, kind: str, start: Callable[[Emit], Awaitable[None]]
    ) -> AsyncIterator[AgentEvent | TurnEnd]:
        """Run `start(emit)` as a task and stream the events it emits. A PlatformError raised
        before the first event (a refused message or decision) is raised here, so the caller
        can answer with a problem instead of a stream."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[_Item | None] = asyncio.Queue()

        def put(item: _Item | None) -> None:  # from the loop or, should a callback run on a
            loop.call_soon_threadsafe(queue.put_nowait, item)  # worker thread, from there

        self.metrics.turns_queued.inc()
        self.spawn(self._task(turn, kind, start, put))
        first = await queue.get()
        if isinstance(first, BaseException):
            raise first
        return self._rest(first, queue)

    async def _rest(
        self, first: _Item | None, queue: asyncio.Queue[_Item | None]
    ) -> AsyncIterator[AgentEvent | TurnEnd]:
        item = first
        while item is not None:
            if isinstance(item, BaseException):  # after the first event: tell it in-stream
                message = item.message if isinstance(item, PlatformError) else "internal error"
                yield Error(message=message)
            else:
                yield item
            item = await queue.get()

    async def _task(
        self,
        turn: Turn,
        kind: str,
        start: Callable[[Emit], Awaitable[None]],
        put: Callable[[_Item | None], None],
    ) -> None:
        try:
            async with self.limiter:
                self.metrics.turns_queued.dec()
                self.metrics.turns_running.inc()
                began = time.perf_counter()
                try:
                    await self._drive(turn, kind, start, put)
                finally:
                    self.metrics.turns_running.dec()
                    self.metrics.turn_seconds.observe(time.perf_counter() - began)
        finally:  # also when cancelled at shutdown before it started
            put(None)

    async def _drive(
        self,
        turn: Turn,
        kind: str,
        start: Callable[[Emit], Awaitable[None]],
        put: Callable[[_Item | None], None],
    ) -> None:
        attributes = {"hexaops.session_id": turn.session_id, "hexaops.turn_id": turn.turn_id}
        with self.tracing.tracer.start_as_current_span(
            f"agent.{kind}", attributes=attributes
        ) as span:
            span.set_attribute("hexaops.principal", turn.principal.id)
            outcome = "error"

            def emit(event: AgentEvent) -> None:
                nonlocal outcome
                put(event)
                if isinstance(event, ToolFinished):
                    self.metrics.tool_calls.labels(event.tool, event.status).inc()
                outcome = _outcome(event, outcome)

            try:
                await start(emit)
                document = turn.document()
                put(TurnEnd(document))
                self.metrics.record_usage(document["usage"])
                span.set_attribute("hexaops.tokens.input", document["usage"]["input_tokens"])
                span.set_attribute("hexaops.tokens.output", document["usage"]["output_tokens"])
            except PlatformError as exc:
                outcome = "refused"
                put(exc)
            except Exception as exc:  # never lose the stream's end: report it, log the cause
                log.exception("agent turn %s failed", turn.turn_id)
                span.record_exception(exc)
                put(exc)
            finally:
                span.set_attribute("hexaops.outcome", outcome)
                self.metrics.turns.labels(outcome).inc()

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` in the background, kept alive until it ends (or the app drains)."""
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Let running turns finish (called when the app stops)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


def _outcome(event: AgentEvent, current: str) -> str:
    if isinstance(event, Answer):
        return "answer"
    if isinstance(event, ApprovalRequested):
        return "approval"
    if isinstance(event, Error):
        return "error"
    return current
