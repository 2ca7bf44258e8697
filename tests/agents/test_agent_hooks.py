"""A middleware hook written once as a flow behaves the same under a sync and an async run:
the handler's answers and errors reach the flow where it called, and its result comes back.
Middleware stacked as one layer keeps its order; what cannot be stacked is refused."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, cast

import pytest
from langchain.agents.middleware import AgentMiddleware, ModelResponse
from langchain_core.messages import AIMessage, ToolMessage

from hexaops.agents.hooks import Flow, Stack, adrive, drive, stackable


def _retry_once(log: list[str]) -> Flow[str, str, str]:
    """Asks twice when the first answer fails; a flow's own step notes its thread."""
    log.append(threading.current_thread().name)
    try:
        first = yield "first"
    except ValueError as exc:
        first = f"recovered from {exc}"
    second = yield "second"
    return f"{first} + {second}"


def _flaky(request: str) -> str:
    if request == "first":
        raise ValueError("a flaky provider")
    return request.upper()


async def _aflaky(request: str) -> str:
    return _flaky(request)


def test_a_flow_gets_the_handlers_errors_and_answers_in_both_runs() -> None:
    log: list[str] = []
    expected = "recovered from a flaky provider + SECOND"
    assert drive(_retry_once(log), _flaky) == expected
    assert asyncio.run(adrive(_retry_once(log), _aflaky)) == expected
    assert asyncio.run(adrive(_retry_once(log), _aflaky, offload=True)) == expected
    main = threading.current_thread().name
    assert log[:2] == [main, main]
    assert log[2] != main  # offloaded: the flow's blocking steps ran on a worker thread


def test_a_flow_that_returns_at_once_never_calls_the_handler() -> None:
    def at_once() -> Flow[str, str, str]:
        return "refused"
        yield "never"

    def handler(request: str) -> str:
        raise AssertionError("called")

    async def ahandler(request: str) -> str:
        raise AssertionError("called")

    assert drive(at_once(), handler) == "refused"
    assert asyncio.run(adrive(at_once(), ahandler, offload=True)) == "refused"


def test_an_error_the_flow_does_not_handle_reaches_the_caller() -> None:
    def plain() -> Flow[str, str, str]:
        return (yield "first")

    with pytest.raises(ValueError, match="flaky"):
        drive(plain(), _flaky)
    with pytest.raises(ValueError, match="flaky"):
        asyncio.run(adrive(plain(), _aflaky, offload=True))


class _Tag(AgentMiddleware[Any, Any, Any]):
    """Notes the order in which model and tool calls pass it."""

    def __init__(self, tag: str, seen: list[str]) -> None:
        super().__init__()
        self.tag, self.seen = tag, seen

    def wrap_model_call(self, request: Any, handler: Callable[[Any], Any]) -> Any:
        self.seen.append(f"{self.tag}:model")
        return handler(request)

    def wrap_tool_call(self, request: Any, handler: Callable[[Any], Any]) -> Any:
        self.seen.append(f"{self.tag}:tool")
        return handler(request)


class _WithNode(AgentMiddleware[Any, Any, Any]):
    def before_model(self, state: Any, runtime: Any) -> dict[str, Any] | None:
        return None


def test_a_stack_passes_each_call_through_its_layers_outermost_first() -> None:
    seen: list[str] = []
    stack = Stack([_Tag("outer", seen), _Tag("inner", seen)], name="team")
    reply = ModelResponse(result=[AIMessage("hi")])
    assert stack.wrap_model_call(cast(Any, None), lambda _: reply) is reply
    done = ToolMessage("ok", tool_call_id="c1")
    assert stack.wrap_tool_call(cast(Any, None), lambda _: done) is done
    assert seen == ["outer:model", "inner:model", "outer:tool", "inner:tool"]
    assert stack.name == "team"


def test_middleware_that_adds_graph_nodes_is_not_stacked() -> None:
    assert not stackable(_WithNode())
    with pytest.raises(ValueError, match="_WithNode"):
        Stack([_WithNode()], name="team")
