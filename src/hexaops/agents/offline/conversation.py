"""What the planner reads from a conversation: the latest request and the tool results after it.

Only the human's words choose what to do. Tool results are read as quoted JSON data (see
`hexaops.agents.quoting`) and only ever fill in names and numbers, never intents.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from hexaops.agents.quoting import unquote_tool_result

# Marks an answer that asks the user a question (additional_kwargs): True, or the kind of name
# asked for ("workspace", "project", "org"), which the reply is then read as.
CLARIFY = "hexaops_clarify"
PROPOSAL = "hexaops_proposal"  # the write an answer offered: {"tool": …, "args": {…}}


@dataclass(frozen=True)
class Call:
    """One tool call of this turn and its result (None while it has not come back)."""

    name: str
    args: dict[str, Any]
    result: dict[str, Any] | None

    @property
    def ok(self) -> bool:
        return self.result is not None and self.result.get("status") in ("ok", "empty")

    @property
    def data(self) -> Any:
        return (self.result or {}).get("data")


@dataclass
class Turn:
    """The request being answered and what the tools said about it so far."""

    request: str
    calls: list[Call] = field(default_factory=list)
    proposal: tuple[str, dict[str, Any]] | None = None  # what our previous answer offered

    def called(self, name: str, **args: Any) -> list[Call]:
        """Calls of tool `name` whose arguments include `args`."""
        return [
            c
            for c in self.calls
            if c.name == name and all(c.args.get(k) == v for k, v in args.items())
        ]

    def result(self, name: str, **args: Any) -> Call | None:
        found = self.called(name, **args)
        return found[-1] if found else None


ROUTE_PREFIX = "route_to_"  # the supervisor's handoff tools (see `routing`)


def is_route(tool: str | None) -> bool:
    """Whether `tool` is a supervisor handoff: part of the plumbing, not of the request."""
    return bool(tool) and str(tool).startswith(ROUTE_PREFIX)


def text_of(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    parts = [p if isinstance(p, str) else str(p.get("text", "")) for p in content]
    return " ".join(parts)


def read_turn(messages: Sequence[BaseMessage]) -> Turn:
    """The latest human request (joined with the one before when our last answer asked a
    clarifying question) and the tool calls with their results after it.

    System prompts and the supervisor's handoffs (route_to_* calls and their results) are not
    part of the request: a specialist sees the same turn the supervisor saw."""
    humans = [i for i, m in enumerate(messages) if isinstance(m, HumanMessage)]
    if not humans:
        return Turn(request="")
    last = humans[-1]
    request = text_of(messages[last])
    proposal = None
    if len(humans) > 1:
        between = messages[humans[-2] + 1 : last]
        asked = [m for m in between if isinstance(m, AIMessage) and not _routes_only(m)]
        question = asked[-1].additional_kwargs.get(CLARIFY) if asked else None
        if question:
            kind = question if isinstance(question, str) else ""
            said = f"{kind} {request}" if kind and kind not in request.lower() else request
            request = f"{text_of(messages[humans[-2]])} {said}"
        offered = asked[-1].additional_kwargs.get(PROPOSAL) if asked else None
        if isinstance(offered, dict) and isinstance(offered.get("args"), dict):
            proposal = (str(offered.get("tool")), dict(offered["args"]))
    results: dict[str, dict[str, Any]] = {}
    for message in messages[last + 1 :]:
        if isinstance(message, ToolMessage) and not is_route(message.name):
            content = text_of(message)
            parsed = unquote_tool_result(content)
            if parsed is None:  # not one of ours: plain text (or a framework error) as data
                status = "error" if message.status == "error" else "ok"
                parsed = {"tool": message.name or "", "status": status, "summary": content}
            results[message.tool_call_id] = parsed
    turn = Turn(request=request, proposal=proposal)
    for message in messages[last + 1 :]:
        if isinstance(message, AIMessage):
            for call in message.tool_calls:
                if is_route(call["name"]):
                    continue
                turn.calls.append(
                    Call(call["name"], dict(call["args"]), results.get(call["id"] or ""))
                )
    return turn


def _routes_only(message: AIMessage) -> bool:
    """A supervisor's handoff message (not an answer of ours)."""
    return bool(message.tool_calls) and all(is_route(c["name"]) for c in message.tool_calls)
