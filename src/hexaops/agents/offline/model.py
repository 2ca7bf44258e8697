"""OfflinePlanner: a deterministic chat model that plans tool calls with rules instead of an LLM.

It lets hexaops run with zero configuration (no API key, no model download) and makes agent
runs reproducible in tests. Same conversation in, same message out: ids are hashes of the
conversation, and nothing depends on the clock or randomness.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ToolMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field, PrivateAttr

from hexaops.agents.offline.conversation import CLARIFY, PROPOSAL, read_turn
from hexaops.agents.offline.registry import plan
from hexaops.agents.offline.routing import route, routing_mode
from hexaops.agents.offline.slots import extract
from hexaops.agents.offline.steps import Answer, Situation, ToolCalls
from hexaops.agents.providers.bindings import ToolBindings
from hexaops.agents.quoting import unquote_tool_result
from hexaops.tools.budget import estimate_tokens

_CHUNK_WORDS = 8  # words per streamed chunk


def _digest(*parts: Any) -> str:
    text = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _fingerprint(messages: Sequence[BaseMessage]) -> list[Any]:
    """The conversation as plain data (ids excluded: they may be random; so are a tool
    result's token estimates, which can differ by one between identical results)."""
    out: list[Any] = []
    for m in messages:
        calls = [(c["name"], c["args"]) for c in getattr(m, "tool_calls", None) or []]
        content: Any = m.content
        if isinstance(m, ToolMessage) and (parsed := unquote_tool_result(str(content))):
            content = {k: v for k, v in parsed.items() if k != "tokens"}
        out.append([m.type, content, calls])
    return out


class OfflinePlanner(BaseChatModel):
    """Rule-based planner: intents and slots from the user's words, tool calls from the bound
    tools, answers rendered from the tool results. Bound only to `route_to_*` handoff tools it
    is a supervisor and picks the specialist instead (see `routing`)."""

    tool_specs: dict[str, dict[str, Any]] = Field(default_factory=dict)  # name → function spec
    # Salts message and tool-call ids. Tool-call ids are the idempotency keys of writes, so the
    # same request in two conversations would replay one action: give each conversation its
    # own session (e.g. the thread id). Empty: ids depend on the messages only.
    session: str = ""
    _bindings: ToolBindings = PrivateAttr(default_factory=ToolBindings)

    @property
    def _llm_type(self) -> str:
        return "hexaops-offline"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"tools": sorted(self.tool_specs)}

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """A planner that may call exactly these tools."""

        def bind() -> OfflinePlanner:
            specs: dict[str, dict[str, Any]] = {}
            for item in tools:
                function = convert_to_openai_tool(item)["function"]
                specs[str(function["name"])] = dict(function)
            return OfflinePlanner(tool_specs=specs, session=self.session)

        return self._bindings.get(tools, {"tool_choice": tool_choice, **kwargs}, bind)

    def decide(self, messages: Sequence[BaseMessage]) -> AIMessage:
        """The next message of the conversation: tool calls or an answer."""
        if routing_mode(self.tool_specs):
            step = route(messages, self.tool_specs)
        else:
            turn = read_turn(messages)
            situation = Situation(turn=turn, slots=extract(turn.request), tools=self.tool_specs)
            step = plan(situation)
        seed = _digest(self.session, _fingerprint(messages), sorted(self.tool_specs))
        prompt = sum(estimate_tokens(str(m.content)) for m in messages)
        if isinstance(step, ToolCalls):
            calls = [
                {
                    "name": name,
                    "args": args,
                    "id": f"call_{_digest(seed, i, name, args)}",
                    "type": "tool_call",
                }
                for i, (name, args) in enumerate(step.calls)
            ]
            output = estimate_tokens(json.dumps([c["args"] for c in calls]))
            return AIMessage(
                content="",
                tool_calls=calls,
                id=f"offline-{seed}",
                usage_metadata=_usage(prompt, output),
                response_metadata={"model_name": "hexaops-offline"},
            )
        assert isinstance(step, Answer)
        return AIMessage(
            content=step.text,
            id=f"offline-{seed}",
            additional_kwargs=_flags(step),
            usage_metadata=_usage(prompt, estimate_tokens(step.text)),
            response_metadata={"model_name": "hexaops-offline"},
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self.decide(messages))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        message = self.decide(messages)
        if message.tool_calls:
            chunk = AIMessageChunk(
                content="",
                id=message.id,
                tool_call_chunks=[
                    {
                        "name": c["name"],
                        "args": json.dumps(c["args"]),
                        "id": c["id"],
                        "index": i,
                        "type": "tool_call_chunk",
                    }
                    for i, c in enumerate(message.tool_calls)
                ],
                usage_metadata=message.usage_metadata,
                response_metadata=message.response_metadata,
            )
            yield ChatGenerationChunk(message=chunk)
            return
        words = str(message.content).split(" ")
        pieces = [" ".join(words[i : i + _CHUNK_WORDS]) for i in range(0, len(words), _CHUNK_WORDS)]
        for i, piece in enumerate(pieces):
            last = i == len(pieces) - 1
            text = piece if last else piece + " "
            chunk = AIMessageChunk(
                content=text,
                id=message.id,
                additional_kwargs=message.additional_kwargs if i == 0 else {},
                usage_metadata=message.usage_metadata if last else None,
                response_metadata=message.response_metadata if last else {},
            )
            if run_manager:
                run_manager.on_llm_new_token(text, chunk=ChatGenerationChunk(message=chunk))
            yield ChatGenerationChunk(message=chunk)


def _flags(answer: Answer) -> dict[str, Any]:
    """What the next turn needs to know about this answer (see `conversation.read_turn`)."""
    flags: dict[str, Any] = {}
    if answer.clarify:
        flags[CLARIFY] = answer.asks or True
    if answer.proposal:
        flags[PROPOSAL] = {"tool": answer.proposal[0], "args": answer.proposal[1]}
    return flags


def _usage(prompt: int, output: int) -> UsageMetadata:
    return UsageMetadata(input_tokens=prompt, output_tokens=output, total_tokens=prompt + output)
