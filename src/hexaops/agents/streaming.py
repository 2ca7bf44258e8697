"""A turn's events as they happen, without LangGraph's "messages" stream mode.

That mode would give the tokens too, but it runs every step of the graph on a thread pool made
for that one run, for each turn. Here the graph runs inline (stream mode "updates") and
`TokenStream` hands each token to an `Emit` callback as the model writes it. The API's turn
runner takes the events through the callback, its turns running as tasks on the event loop;
`pulled` turns them into an iterator for the sync interfaces, running the turn on one reused
thread.
"""

from __future__ import annotations

import contextvars
import queue
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, GenerationChunk, LLMResult

from hexaops.agents.events import AgentEvent, Token

Emit = Callable[[AgentEvent], None]
T = TypeVar("T")


class TokenStream(BaseCallbackHandler):
    """Emits a Token for each piece of text a chat model streams, or, for a model that does
    not stream, its whole text when it is done. Having `tap_output_iter` makes chat models
    stream to it (LangChain streams a call when a streaming handler listens)."""

    # Called on the event loop in an async run, not handed to a worker thread: `emit` only
    # queues, and a token must not overtake the one before it.
    run_inline = True
    # Only chat model events matter: the callback manager skips this handler for the rest.
    ignore_chain = True
    ignore_agent = True
    ignore_retriever = True
    ignore_retry = True
    ignore_custom_event = True

    def __init__(self, emit: Emit) -> None:
        super().__init__()
        self.emit = emit
        self._streamed: set[UUID] = set()

    def tap_output_aiter(self, run_id: UUID, output: AsyncIterator[T]) -> AsyncIterator[T]:
        return output

    def tap_output_iter(self, run_id: UUID, output: Iterator[T]) -> Iterator[T]:
        return output

    def on_chat_model_start(
        self, serialized: dict[str, Any], messages: list[list[BaseMessage]], **kwargs: Any
    ) -> None:
        return None  # without it, LangChain would call on_llm_start with the prompt as text

    def on_llm_new_token(
        self,
        token: str | list[str | dict[str, Any]],
        *,
        chunk: GenerationChunk | ChatGenerationChunk | None = None,
        run_id: UUID,
        **kwargs: Any,
    ) -> None:
        if isinstance(chunk, ChatGenerationChunk) and chunk.message.text:
            self._streamed.add(run_id)
            self.emit(Token(text=chunk.message.text))

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        if run_id in self._streamed:
            self._streamed.discard(run_id)
            return
        for generations in response.generations[:1]:
            for generation in generations[:1]:
                if isinstance(generation, ChatGeneration) and generation.message.text:
                    self.emit(Token(text=generation.message.text))

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._streamed.discard(run_id)


_DONE = object()
# Turns run on reused threads: starting a thread per turn costs a GIL hand-over that, under
# load, waits behind every running turn. As many at once as arrive (each waits on its model).
_TURNS = ThreadPoolExecutor(max_workers=4096, thread_name_prefix="hexaops-turn")


def pulled(run: Callable[[Emit], None]) -> Iterator[AgentEvent]:
    """The events `run(emit)` emits, as an iterator: `run` goes on a thread of its own (with
    the caller's context variables, e.g. the trace span) and its events stream through a
    queue. An exception `run` raises is raised here after its events. A consumer that stops
    early does not stop `run`: a turn, once started, runs to its end."""
    items: queue.SimpleQueue[Any] = queue.SimpleQueue()
    context = contextvars.copy_context()

    def work() -> None:
        try:
            context.run(run, items.put)
        except BaseException as exc:  # handed to the consumer, which raises it
            items.put(exc)
        finally:
            items.put(_DONE)

    _TURNS.submit(work)
    while (item := items.get()) is not _DONE:
        if isinstance(item, BaseException):
            raise item
        yield item
