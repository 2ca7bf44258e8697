"""Middleware plumbing of the team's agent loop, for sync runs (CLI, chat, Slack) and async ones
(the API):

- **Flows.** A hook that calls its handler (the next layer, or the model or tool itself) is
  written as a generator: it yields each request it hands on and is sent the response back;
  what it returns is the hook's result. `drive` runs it in a sync run, `adrive` in an async
  one, so the two cannot drift apart.
- **`Stack`**: several wrap-only middleware as one layer of `create_agent`.
- **`hooks_inline_unless_traced`**: no worker-thread hops around every async hook call when
  LangSmith tracing is off.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Awaitable, Callable, Generator, Sequence
from typing import Any, TypeVar

import langsmith
from langchain.agents.middleware import (
    AgentMiddleware,
    ExtendedModelResponse,
    ModelRequest,
    ModelResponse,
)
from langchain.agents.middleware.types import ModelCallResult
from langchain_core.messages import AIMessage, ToolMessage
from langgraph.prebuilt.tool_node import ToolCallRequest
from langgraph.types import Command
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


# -- several middleware as one layer ------------------------------------------------------------

_NODE_HOOKS = (
    "before_agent",
    "abefore_agent",
    "before_model",
    "abefore_model",
    "after_model",
    "aafter_model",
    "after_agent",
    "aafter_agent",
)


def _overrides(layer: AgentMiddleware[Any, Any, Any], hook: str) -> bool:
    return getattr(type(layer), hook) is not getattr(AgentMiddleware, hook)


def stackable(layer: AgentMiddleware[Any, Any, Any]) -> bool:
    """Whether `layer` only wraps model and tool calls (no graph nodes, no tools of its own)."""
    tools = getattr(layer, "tools", None)
    return not tools and not any(_overrides(layer, hook) for hook in _NODE_HOOKS)


_ModelCall = Callable[[ModelRequest[Any]], ModelResponse[Any]]
_AsyncModelCall = Callable[[ModelRequest[Any]], Awaitable[ModelResponse[Any]]]
_ToolOutcome = ToolMessage | Command[Any]
_ToolCall = Callable[[ToolCallRequest], _ToolOutcome]
_AsyncToolCall = Callable[[ToolCallRequest], Awaitable[_ToolOutcome]]


class Stack(AgentMiddleware[Any, Any, Any]):
    """Several wrap-only middleware as one layer: each model or tool call passes through the
    layers that wrap it, in order (outermost first). `create_agent` runs every layer's every
    call inside a LangSmith `traceable` — a cost per layer per call, traced or not — so the
    team's layers are stacked here into one. A layer's `Command` reply (e.g. the Team's
    state update) is kept: it is returned by the stack when it comes from the outermost layer
    that wraps model calls, which is where such a layer belongs."""

    def __init__(self, layers: Sequence[AgentMiddleware[Any, Any, Any]], name: str) -> None:
        super().__init__()
        unstackable = [type(layer).__name__ for layer in layers if not stackable(layer)]
        if unstackable:
            raise ValueError(f"only wrap-only middleware can be stacked: {unstackable}")
        self.layers = tuple(layers)
        self._name = name
        self.model_layers = [m for m in layers if _wraps(m, "wrap_model_call")]
        self.tool_layers = [m for m in layers if _wraps(m, "wrap_tool_call")]

    @property
    def name(self) -> str:
        return self._name

    def wrap_model_call(
        self, request: ModelRequest[Any], handler: _ModelCall
    ) -> ModelCallResult[Any]:
        call: Callable[[ModelRequest[Any]], Any] = handler
        for layer in reversed(self.model_layers[1:]):
            call = _model_layer(layer, call)
        if not self.model_layers:
            return handler(request)
        return self.model_layers[0].wrap_model_call(request, call)

    async def awrap_model_call(
        self, request: ModelRequest[Any], handler: _AsyncModelCall
    ) -> ModelCallResult[Any]:
        call: Callable[[ModelRequest[Any]], Awaitable[Any]] = handler
        for layer in reversed(self.model_layers[1:]):
            call = _amodel_layer(layer, call)
        if not self.model_layers:
            return await handler(request)
        return await self.model_layers[0].awrap_model_call(request, call)

    def wrap_tool_call(self, request: ToolCallRequest, handler: _ToolCall) -> _ToolOutcome:
        call = handler
        for layer in reversed(self.tool_layers):
            call = functools.partial(layer.wrap_tool_call, handler=call)
        return call(request)

    async def awrap_tool_call(
        self, request: ToolCallRequest, handler: _AsyncToolCall
    ) -> _ToolOutcome:
        call = handler
        for layer in reversed(self.tool_layers):
            call = functools.partial(layer.awrap_tool_call, handler=call)
        return await call(request)


def _wraps(layer: AgentMiddleware[Any, Any, Any], hook: str) -> bool:
    return _overrides(layer, hook) or _overrides(layer, "a" + hook)


def _model_layer(layer: AgentMiddleware[Any, Any, Any], inner: _ModelCall) -> _ModelCall:
    """An inner layer's model call; its reply as a plain ModelResponse for the layer above."""
    return lambda request: _response(layer.wrap_model_call(request, inner))


def _amodel_layer(layer: AgentMiddleware[Any, Any, Any], inner: _AsyncModelCall) -> _AsyncModelCall:
    async def call(request: ModelRequest[Any]) -> ModelResponse[Any]:
        return _response(await layer.awrap_model_call(request, inner))

    return call


def _response(out: ModelCallResult[Any]) -> ModelResponse[Any]:
    if isinstance(out, AIMessage):
        return ModelResponse(result=[out])
    if isinstance(out, ExtendedModelResponse):
        return out.model_response
    return out
