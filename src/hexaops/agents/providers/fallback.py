"""A chat model that retries its provider, then answers with a fallback and says so.

One retry policy for every provider (the SDKs' own retries are off): overload, rate limits, 5xx,
timeouts and connection errors are retried with exponential backoff and jitter; a Retry-After up
to `max_retry_after_seconds` is honoured, a longer one ends the retries at once (the provider
said it will not be back soon). When the retries are exhausted the fallback model answers that
call: the AIMessage's `response_metadata["degraded"]` names the cause and its text starts with a
notice line. For `cooldown_seconds` afterwards calls go straight to the fallback, so an agent loop
does not wait through the retries on every step. Without a fallback the call raises
ProviderUnavailable. Misconfiguration (401/403/404) never falls back: it raises
ConfigurationError naming the variable.

Streams are retried until their first text or tool-call chunk (an empty message_start chunk does not
count); a stream that breaks off after that raises ProviderUnavailable (half an answer cannot be
retried or completed by another model).
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForLLMRun,
    CallbackManagerForLLMRun,
)
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableBinding, RunnableConfig
from langchain_core.tools import BaseTool
from pydantic import ConfigDict, Field, PrivateAttr

from hexaops.agents.providers.bindings import ToolBindings
from hexaops.agents.providers.errors import (
    Failure,
    ProviderUnavailable,
    permanent_error,
    transient_failure,
)

# The inner models run without the caller's callbacks: the outer run alone reports tokens and the
# final message, so LangGraph's "messages" stream and usage accounting never see an answer twice.
# An explicit empty list overrides the callbacks inherited through the context, but only when the
# chat model is called directly: a RunnableBinding (bind_tools) would merge them back in.
_ISOLATED: RunnableConfig = {"callbacks": []}


def _isolated(
    model: Runnable[LanguageModelInput, BaseMessage], kwargs: dict[str, Any]
) -> tuple[Runnable[LanguageModelInput, BaseMessage], dict[str, Any]]:
    """The model under its bindings, and the call's kwargs with the bound ones (tools…)."""
    bound: dict[str, Any] = {}
    while isinstance(model, RunnableBinding):
        bound = {**model.kwargs, **bound}
        model = model.bound
    return model, {**bound, **kwargs}


class CircuitBreaker:
    """Shared by a model and its tool-bound copies: while open, the primary is not tried."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open_until = 0.0
        self._reason = ""

    def open_reason(self) -> str | None:
        with self._lock:
            return self._reason if time.monotonic() < self._open_until else None

    def trip(self, reason: str, seconds: float) -> None:
        with self._lock:
            self._open_until = time.monotonic() + seconds
            self._reason = reason

    def close(self) -> None:
        with self._lock:
            self._open_until = 0.0


class FallbackChatModel(BaseChatModel):
    """`primary` (a provider's chat model, possibly tool-bound) guarded by retries and an
    optional `fallback` (the offline planner)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    primary: Runnable[LanguageModelInput, BaseMessage]
    fallback: Runnable[LanguageModelInput, BaseMessage] | None = None
    provider: str = Field(description='Who answers normally, e.g. "anthropic".')
    model_name: str = Field(description="The primary's model name.")
    fallback_label: str = "the offline planner"
    key_variables: str = Field(
        default="HEXAOPS_MODEL_API_KEY", description="Where the API key comes from (for errors)."
    )
    max_retries: int = 3
    timeout_seconds: float = 60.0
    backoff_seconds: float = 0.5
    max_backoff_seconds: float = 8.0
    max_retry_after_seconds: float = 30.0
    cooldown_seconds: float = 30.0
    breaker: CircuitBreaker = Field(default_factory=CircuitBreaker, exclude=True)
    _bindings: ToolBindings = PrivateAttr(default_factory=ToolBindings)

    @property
    def _llm_type(self) -> str:
        return "hexaops-fallback"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"provider": self.provider, "model_name": self.model_name}

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind the tools to the primary and the fallback alike (same breaker)."""

        def bound(model: Runnable[LanguageModelInput, BaseMessage]) -> Runnable[Any, Any]:
            if not isinstance(model, BaseChatModel):
                raise TypeError(f"cannot bind tools to {type(model).__name__}")
            return model.bind_tools(tools, tool_choice=tool_choice, **kwargs)

        def bind() -> FallbackChatModel:
            update: dict[str, Any] = {"primary": bound(self.primary)}
            if self.fallback is not None:
                update["fallback"] = bound(self.fallback)
            copy = self.model_copy(update=update)
            copy._bindings = ToolBindings()  # the copy's own (it is bound already)
            return copy

        return self._bindings.get(tools, {"tool_choice": tool_choice, **kwargs}, bind)

    # -- the retry policy -------------------------------------------------------------------

    def _delay(self, failure: Failure, retries: int) -> float | None:
        """Seconds to wait before the next attempt, or None to give up."""
        if retries >= self.max_retries:
            return None
        if failure.retry_after is not None:
            wait: float = failure.retry_after
            return wait if wait <= self.max_retry_after_seconds else None
        backoff = min(self.backoff_seconds * 2.0**retries, self.max_backoff_seconds)
        return backoff * (1 - 0.25 * random.random())

    def _failure(self, exc: Exception) -> Failure:
        failure = transient_failure(exc, self.timeout_seconds)
        if failure is None:
            error = permanent_error(exc, self.provider, self.model_name, self.key_variables)
            if error is exc:
                raise exc
            raise error from exc
        return failure

    def _gave_up(self, failure: Failure, retries: int) -> str:
        """Why the primary is unavailable; it is not tried again for `cooldown_seconds`."""
        reason = failure.reason
        if failure.retry_after is not None and failure.retry_after > self.max_retry_after_seconds:
            reason += f", asked to retry after {failure.retry_after:.0f} s"
        elif retries:
            reason += f" after {retries} {'retry' if retries == 1 else 'retries'}"
        if self.fallback is not None:  # without one, every request tries the provider again
            self.breaker.trip(reason, self.cooldown_seconds)
        return reason

    def _unavailable(self, reason: str) -> ProviderUnavailable:
        return ProviderUnavailable(
            f"{self.provider} is unavailable ({reason}). Try again later, or set "
            "HEXAOPS_MODEL_FALLBACK=offline to answer with the offline planner meanwhile."
        )

    def _degraded(self, reason: str) -> str:
        return f"{self.provider} is unavailable ({reason}): answered by {self.fallback_label}"

    # -- invoke -----------------------------------------------------------------------------

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        primary, call = _isolated(self.primary, kwargs)
        reason = self.breaker.open_reason()
        if reason is None:
            retries = 0
            while True:
                try:
                    message = primary.invoke(messages, _ISOLATED, stop=stop, **call)
                    self.breaker.close()
                    return _result(message)
                except Exception as exc:
                    failure = self._failure(exc)
                    delay = self._delay(failure, retries)
                    if delay is None:
                        reason = self._gave_up(failure, retries)
                        break
                    time.sleep(delay)
                    retries += 1
        if self.fallback is None:
            raise self._unavailable(reason)
        fallback, call = _isolated(self.fallback, kwargs)
        answer = fallback.invoke(messages, _ISOLATED, stop=stop, **call)
        return _result(_with_notice(answer, self._degraded(reason)))

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        primary, call = _isolated(self.primary, kwargs)
        reason = self.breaker.open_reason()
        if reason is None:
            retries = 0
            while True:
                try:
                    message = await primary.ainvoke(messages, _ISOLATED, stop=stop, **call)
                    self.breaker.close()
                    return _result(message)
                except Exception as exc:
                    failure = self._failure(exc)
                    delay = self._delay(failure, retries)
                    if delay is None:
                        reason = self._gave_up(failure, retries)
                        break
                    await asyncio.sleep(delay)
                    retries += 1
        if self.fallback is None:
            raise self._unavailable(reason)
        fallback, call = _isolated(self.fallback, kwargs)
        answer = await fallback.ainvoke(messages, _ISOLATED, stop=stop, **call)
        return _result(_with_notice(answer, self._degraded(reason)))

    # -- stream -----------------------------------------------------------------------------

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        primary, call = _isolated(self.primary, kwargs)
        reason = self.breaker.open_reason()
        if reason is None:
            retries = 0
            while True:
                started = False
                try:
                    for chunk in primary.stream(messages, _ISOLATED, stop=stop, **call):
                        started = started or _visible(chunk)
                        yield _chunk(chunk)
                    self.breaker.close()
                    return
                except Exception as exc:
                    failure = self._failure(exc)
                    if started:
                        raise self._broken_off(failure) from exc
                    delay = self._delay(failure, retries)
                    if delay is None:
                        reason = self._gave_up(failure, retries)
                        break
                    time.sleep(delay)
                    retries += 1
        if self.fallback is None:
            raise self._unavailable(reason)
        fallback, call = _isolated(self.fallback, kwargs)
        yield _notice_chunk(self._degraded(reason))
        for chunk in fallback.stream(messages, _ISOLATED, stop=stop, **call):
            yield _chunk(chunk)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        primary, call = _isolated(self.primary, kwargs)
        reason = self.breaker.open_reason()
        if reason is None:
            retries = 0
            while True:
                started = False
                try:
                    async for chunk in primary.astream(messages, _ISOLATED, stop=stop, **call):
                        started = started or _visible(chunk)
                        yield _chunk(chunk)
                    self.breaker.close()
                    return
                except Exception as exc:
                    failure = self._failure(exc)
                    if started:
                        raise self._broken_off(failure) from exc
                    delay = self._delay(failure, retries)
                    if delay is None:
                        reason = self._gave_up(failure, retries)
                        break
                    await asyncio.sleep(delay)
                    retries += 1
        if self.fallback is None:
            raise self._unavailable(reason)
        fallback, call = _isolated(self.fallback, kwargs)
        yield _notice_chunk(self._degraded(reason))
        async for chunk in fallback.astream(messages, _ISOLATED, stop=stop, **call):
            yield _chunk(chunk)

    def _broken_off(self, failure: Failure) -> ProviderUnavailable:
        return ProviderUnavailable(
            f"{self.provider} stopped answering midway ({failure.reason}); the partial answer "
            "is incomplete, ask again."
        )


def _visible(chunk: BaseMessage) -> bool:
    """Whether the consumer has seen part of the answer (text or a tool call)."""
    return bool(chunk.content) or bool(getattr(chunk, "tool_call_chunks", None))


def _result(message: BaseMessage) -> ChatResult:
    return ChatResult(generations=[ChatGeneration(message=message)])


def _chunk(message: BaseMessage) -> ChatGenerationChunk:
    """A stream chunk; a model without streaming yields its whole AIMessage as one chunk."""
    if isinstance(message, AIMessageChunk):
        return ChatGenerationChunk(message=message)
    calls = message.tool_calls if isinstance(message, AIMessage) else []
    usage = message.usage_metadata if isinstance(message, AIMessage) else None
    return ChatGenerationChunk(
        message=AIMessageChunk(
            content=message.content,
            id=message.id,
            response_metadata=message.response_metadata,
            usage_metadata=usage,
            tool_call_chunks=[
                tool_call_chunk(
                    name=call["name"], args=json.dumps(call["args"]), id=call["id"], index=i
                )
                for i, call in enumerate(calls)
            ],
        )
    )


def _notice(degraded: str) -> str:
    return f"⚠ {degraded}."


def _notice_chunk(degraded: str) -> ChatGenerationChunk:
    return ChatGenerationChunk(
        message=AIMessageChunk(
            content=_notice(degraded) + "\n\n", response_metadata={"degraded": degraded}
        )
    )


def _with_notice(message: BaseMessage, degraded: str) -> BaseMessage:
    """The fallback's answer, marked degraded, its text led by the notice line."""
    notice = _notice(degraded)
    content = message.content
    if isinstance(content, str):
        marked: str | list[str | dict[str, Any]] = f"{notice}\n\n{content}" if content else notice
    else:
        marked = [{"type": "text", "text": notice + "\n\n"}, *content]
    metadata = {**message.response_metadata, "degraded": degraded}
    return message.model_copy(update={"content": marked, "response_metadata": metadata})
