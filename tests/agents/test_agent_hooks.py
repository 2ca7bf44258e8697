"""A middleware hook written once as a flow behaves the same under a sync and an async run:
the handler's answers and errors reach the flow where it called, and its result comes back."""

from __future__ import annotations

import asyncio
import threading

import pytest

from hexaops.agents.hooks import Flow, adrive, drive


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
