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

CLARIFY = "hexaops_clarify"  # marks an answer that asks the user a question (additional_kwargs)
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


def _text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    parts = [p if isinstance(p, str) else str(p.get("text", "")) for p in content]
    return " ".join(parts)


def read_turn(messages: Sequence[BaseMessage]) -> Turn:
    """The latest human request (joined with the one before when our last answer asked a
    clarifying question) and the tool calls with their results after it."""
    humans = [i for i, m in enumerate(messages) if isinstance(m, HumanMessage)]
    if not humans:
        return Turn(request="")
    last = humans[-1]
    request = _text(messages[last])
    proposal = None
    if len(humans) > 1:
        between = messages[humans[-2] + 1 : last]
        asked = [m for m in between if isinstance(m, AIMessage)]
        if asked and asked[-1].additional_kwargs.get(CLARIFY):
            request = f"{_text(messages[humans[-2]])} {request}"
        offered = asked[-1].additional_kwargs.get(PROPOSAL) if asked else None
        if isinstance(offered, dict) and isinstance(offered.get("args"), dict):
            proposal = (str(offered.get("tool")), dict(offered["args"]))
    results: dict[str, dict[str, Any]] = {}
    for message in messages[last + 1 :]:
        if isinstance(message, ToolMessage):
            content = _text(message)
            parsed = unquote_tool_result(content)
            if parsed is None:  # not one of ours: plain text (or a framework error) as data
                status = "error" if message.status == "error" else "ok"
                parsed = {"tool": message.name or "", "status": status, "summary": content}
            results[message.tool_call_id] = parsed
    turn = Turn(request=request, proposal=proposal)
    for message in messages[last + 1 :]:
        if isinstance(message, AIMessage):
            for call in message.tool_calls:
                turn.calls.append(
                    Call(call["name"], dict(call["args"]), results.get(call["id"] or ""))
                )
    return turn
