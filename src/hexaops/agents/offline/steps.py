"""What a planning step decides: call tools now, or answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hexaops.agents.offline.conversation import Turn
from hexaops.agents.offline.slots import Slots


@dataclass(frozen=True)
class ToolCalls:
    """Call these tools (in parallel) and plan again with their results."""

    calls: list[tuple[str, dict[str, Any]]]


@dataclass(frozen=True)
class Answer:
    """Reply to the user; `clarify` marks a question the user's next message answers;
    `proposal` is a write (tool, args) the answer offers, run only when the user says yes;
    `asks` is the kind of name a question wants ("workspace", "project", "org"), so that a bare
    reply ("acme-prod") is read as that kind even when no platform read can check it."""

    text: str
    clarify: bool = False
    asks: str = ""
    proposal: tuple[str, dict[str, Any]] | None = None


Step = ToolCalls | Answer


@dataclass
class Situation:
    """Everything a plan may look at: the turn, its slots and the tools bound to the model."""

    turn: Turn
    slots: Slots
    tools: dict[str, dict[str, Any]] = field(default_factory=dict)  # name → OpenAI function spec

    def bound(self, name: str) -> bool:
        return name in self.tools

    def accepts(self, tool: str, arg: str) -> bool:
        """Whether bound `tool` takes argument `arg` (filters args to the tool's schema)."""
        spec = self.tools.get(tool, {})
        return arg in spec.get("parameters", {}).get("properties", {})

    def args(self, tool: str, **values: Any) -> dict[str, Any]:
        """`values` without Nones and without arguments the tool's schema does not take."""
        return {k: v for k, v in values.items() if v is not None and self.accepts(tool, k)}
