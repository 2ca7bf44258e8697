"""Middleware logic written once for LangGraph's sync and async runs.

A middleware hook that calls its handler (the next layer, or the model or tool itself) is
written as a generator: it yields each request it hands on and is sent the response back;
what it returns is the hook's result. `drive` runs it under a sync run, `adrive` under an
async one (the API's), so the two runs cannot drift apart.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Generator
from typing import Any, TypeVar

import langsmith
from langsmith.utils import tracing_is_enabled

Request = TypeVar("Request")
Response = TypeVar("Response")
Result = TypeVar("Result")

Flow = Generator[Request, Response, Result]


def _advance(move: Callable[[Any], Request], value: Any) -> tuple[bool, Any]:
    """One step of a flow: (False, the next request) or (True, its result)."""
    try:
        return False, move(value)
    except StopIteration as done:  # caught here: it cannot cross a thread into a future
        return True, done.value


def drive(flow: Flow[Request, Response, Result], handler: Callable[[Request], Response]) -> Result:
    """Run `flow`, calling `handler` in this thread for each request it yields."""
    finished, value = _advance(flow.send, None)
    while not finished:
        try:
            response = handler(value)
        except BaseException as exc:  # the flow sees the handler's error where it called
            finished, value = _advance(flow.throw, exc)
        else:
            finished, value = _advance(flow.send, response)
    return value  # type: ignore[no-any-return]


async def adrive(
    flow: Flow[Request, Response, Result],
    handler: Callable[[Request], Awaitable[Response]],
    *,
    offload: bool = False,
) -> Result:
    """Run `flow`, awaiting `handler` for each request it yields. `offload`: the flow's own
    steps block (database calls), so each runs on a worker thread — with this task's context
    variables (the run's config, so a LangGraph interrupt works there) — while the handler
    runs on the event loop."""

    async def advance(move: Callable[[Any], Request], value: Any) -> tuple[bool, Any]:
        if offload:
            return await asyncio.to_thread(_advance, move, value)
        return _advance(move, value)

    finished, value = await advance(flow.send, None)
    while not finished:
        try:
            response = await handler(value)
        except BaseException as exc:
            finished, value = await advance(flow.throw, exc)
        else:
            finished, value = await advance(flow.send, response)
    return value  # type: ignore[no-any-return]


async def _inline_unless_traced(
    default: Callable[..., Awaitable[Any]],
    ctx: contextvars.Context,
    func: Callable[..., Any],
    /,
    *args: Any,
    **kwargs: Any,
) -> Any:
    """LangSmith's `traceable`, which `create_agent` puts around every async middleware hook,
    opens and closes its run on a worker thread: two thread hops per hook per call, even with
    tracing off. Untraced, that bookkeeping is a few checks: it runs here, on the loop."""
    if ctx.run(tracing_is_enabled):
        return await default(ctx, func, *args, **kwargs)
    return ctx.run(func, *args, **kwargs)


def hooks_inline_unless_traced() -> None:
    """Install `_inline_unless_traced` for this process (LangSmith's own runtime hook)."""
    langsmith.set_runtime_overrides(aio_to_thread=_inline_unless_traced)
