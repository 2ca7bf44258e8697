"""What an agent turn tells the interfaces while it runs: typed events, one JSON object each.

The CLI, the chat UI and Slack render these; none of them reads LangGraph's stream directly.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any, Final, Literal

from langchain_core.messages import AIMessage, ToolMessage
from langgraph.types import Interrupt
from pydantic import BaseModel, Field, TypeAdapter

from hexaops.agents.quoting import unquote_tool_result


class Routed(BaseModel):
    """The supervisor handed the turn to a specialist."""

    type: Literal["routed"] = "routed"
    specialist: str


class Token(BaseModel):
    """A piece of the answer as the model writes it."""

    type: Literal["token"] = "token"
    text: str


class ToolStarted(BaseModel):
    type: Literal["tool_started"] = "tool_started"
    tool: str
    args: dict[str, Any]


class ToolFinished(BaseModel):
    type: Literal["tool_finished"] = "tool_finished"
    tool: str
    status: str  # ok | empty | error (the tool result's status)
    summary: str
    # Where the result comes from: the objects, queries and time ranges it read, or for
    # knowledge_search the passages found (citation, document, section, lines).
    evidence: list[dict[str, Any]] = Field(default_factory=list)


class ApprovalRequested(BaseModel):
    """A write waits for a decision: resume the session with approve, reject or edit."""

    type: Literal["approval_requested"] = "approval_requested"
    session_id: str
    interrupt_id: str
    request: dict[str, Any]  # the interrupt payload (see approvals.py)


class Notice(BaseModel):
    """Something the person should know about how the turn was answered: `degraded` (the
    provider was down, the fallback answered) or `limit` (a budget ended the turn)."""

    type: Literal["notice"] = "notice"
    kind: str
    message: str


class Usage(BaseModel):
    """What the turn's model calls used (sent once, when the turn ends or stops)."""

    type: Literal["usage"] = "usage"
    calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: float | None  # None when no call had a known price


class Answer(BaseModel):
    type: Literal["answer"] = "answer"
    text: str
    specialist: str | None  # None: the supervisor answered itself (greetings, help)
    session_id: str = ""


class Error(BaseModel):
    type: Literal["error"] = "error"
    message: str


AgentEvent = Annotated[
    Routed
    | Token
    | ToolStarted
    | ToolFinished
    | ApprovalRequested
    | Notice
    | Usage
    | Answer
    | Error,
    Field(discriminator="type"),
]
_EVENT: TypeAdapter[AgentEvent] = TypeAdapter(AgentEvent)


def to_json(event: AgentEvent) -> str:
    """One line of JSON (the CLI's --json output)."""
    return json.dumps(event.model_dump(mode="json"), ensure_ascii=False)


def from_json(text: str) -> AgentEvent:
    return _EVENT.validate_json(text)


def update_events(data: dict[str, Any]) -> Iterator[AgentEvent]:
    """Events of one `graph.stream(..., stream_mode="updates")` chunk: the routing, tool calls
    and tool results. (Tokens come from `streaming.TokenStream`; the turn's end, answer or
    approval, is kept by `TurnEnd`.)"""
    for update in data.values():
        if not isinstance(update, dict):
            continue
        if update.get("specialist"):
            yield Routed(specialist=str(update["specialist"]))
        for message in _messages(update):
            if isinstance(message, AIMessage):
                notice = _notice(message)
                if notice is not None:
                    yield notice
                for call in message.tool_calls:
                    yield ToolStarted(tool=call["name"], args=dict(call["args"]))
            elif isinstance(message, ToolMessage):
                fields = unquote_tool_result(str(message.content)) or {}
                yield ToolFinished(
                    tool=str(message.name),
                    status=str(fields.get("status", message.status)),
                    summary=str(fields.get("summary", message.content))[:500],
                    evidence=_evidence(str(message.name), fields),
                )


def _notice(message: AIMessage) -> Notice | None:
    """What an answer's metadata says the person should know: the provider was down and the
    fallback answered (`degraded`), or a budget ended the turn (`limit`)."""
    meta = message.response_metadata or {}
    if meta.get("degraded"):
        return Notice(kind="degraded", message=str(meta["degraded"]))
    if meta.get("finish_reason") == "budget":
        return Notice(kind="limit", message=message.text.split("\n", 1)[0])
    return None


_PASSAGE: Final = ("citation", "document", "section", "lines")


def _evidence(tool: str, fields: dict[str, Any]) -> list[dict[str, Any]]:
    """A tool result's sources: knowledge passages, or its evidence entries (empty values out)."""
    data = fields.get("data")
    if tool == "knowledge_search" and isinstance(data, list):
        return [{k: hit.get(k) for k in _PASSAGE} for hit in data if isinstance(hit, dict)]
    return [
        {k: v for k, v in entry.items() if v not in (None, "", [])}
        for entry in fields.get("evidence") or []
        if isinstance(entry, dict)
    ]


def _messages(update: dict[str, Any]) -> list[Any]:
    messages = update.get("messages") or []
    return messages if isinstance(messages, list) else [messages]


@dataclass
class TurnEnd:
    """How a turn ended, read from the graph's updates as they stream past (`update`), so the
    service need not read the checkpoint back: the interrupts, the last assistant message and
    the specialist the supervisor picked (None: it answered itself; unset: it did not run, as
    in a resumed turn)."""

    interrupts: list[Interrupt] = field(default_factory=list)
    last: AIMessage | None = None
    specialist: str | None = None
    routed: bool = False
    notices: set[tuple[str, str]] = field(default_factory=set)

    def first_time(self, notice: Notice) -> bool:
        """Whether the turn has not told this yet (a fallback answers every step of a turn)."""
        key = (notice.kind, notice.message)
        fresh = key not in self.notices
        self.notices.add(key)
        return fresh

    def update(self, data: dict[str, Any]) -> None:
        for node, update in data.items():
            if node == "__interrupt__":
                self.interrupts.extend(update)
            elif isinstance(update, dict):
                if "specialist" in update:
                    self.specialist, self.routed = update["specialist"], True
                for message in _messages(update):
                    if isinstance(message, AIMessage):
                        self.last = message
