"""What a scenario run recorded: each turn's tool calls, approvals and answer, the platform
actions requested meanwhile and the sandbox state checks' inputs. Plain data (JSON in the
result file), so checkers can be tested on hand-made transcripts."""

from __future__ import annotations

import re
from typing import Any, Final

from pydantic import BaseModel, Field

# Operation kinds as they appear in answers ("Shall I run `application.rollback`?").
_OPERATION: Final = re.compile(
    r"\b(application|workspace|project|node|pod|certificate|network_policy|member|function)"
    r"\.([a-z_]+)\b"
)


class ToolCall(BaseModel):
    tool: str
    args: dict[str, Any] = Field(default_factory=dict)
    status: str = "pending"  # ok | empty | error | pending (no result came back)
    summary: str = ""


class ApprovalStep(BaseModel):
    """An approval request the agent raised and what the scripted reviewer did with it."""

    action: str  # the platform operation kind, e.g. application.rollback
    tool: str = ""
    target: str = ""
    risk: str = ""
    action_id: int | None = None
    decision: str = "none"  # approve | reject | none (left pending)
    by: str = ""
    outcome: str = ""  # what the service said (or why the decision was refused)


class TurnRecord(BaseModel):
    say: str
    by: str
    answer: str = ""
    specialist: str | None = None
    error: str | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list)
    approvals: list[ApprovalStep] = Field(default_factory=list)
    notices: list[str] = Field(default_factory=list)
    steps: int = 0  # model calls that produced tool calls or an answer


class ActionRecord(BaseModel):
    id: int
    operation: str
    target: str
    status: str
    risk: str = ""
    requested_by: str = ""
    approved_by: str | None = None


class Transcript(BaseModel):
    turns: list[TurnRecord] = Field(default_factory=list)
    actions: list[ActionRecord] = Field(default_factory=list)  # requested during the turns
    state: dict[str, Any] = Field(default_factory=dict)  # state check name → observed value

    @property
    def tool_calls(self) -> list[ToolCall]:
        return [c for t in self.turns for c in t.tool_calls]

    @property
    def tools_called(self) -> list[str]:
        return [c.tool for c in self.tool_calls]

    @property
    def answers(self) -> str:
        return "\n\n".join(t.answer for t in self.turns if t.answer)

    @property
    def approvals(self) -> list[ApprovalStep]:
        return [a for t in self.turns for a in t.approvals]

    def requested_operations(self) -> list[str]:
        """Operations the agent asked the platform for (approval requests and actions)."""
        return list(
            dict.fromkeys([a.action for a in self.approvals] + [a.operation for a in self.actions])
        )

    def named_operations(self) -> list[str]:
        """Operations an answer names (a proposal in words, e.g. "Shall I run …?")."""
        return list(dict.fromkeys(m.group(0) for m in _OPERATION.finditer(self.answers)))

    def proposed_operations(self) -> list[str]:
        return list(dict.fromkeys(self.requested_operations() + self.named_operations()))

    def executed(self) -> list[ActionRecord]:
        return [a for a in self.actions if a.status == "succeeded"]

    def text(self) -> str:
        """A readable transcript (reports, deepeval's actual output)."""
        lines: list[str] = []
        for i, turn in enumerate(self.turns, 1):
            lines.append(f"[{i}] {turn.by}: {turn.say}")
            for call in turn.tool_calls:
                lines.append(
                    f"    tool {call.tool} {call.args} → {call.status}: {call.summary[:200]}"
                )
            for step in turn.approvals:
                lines.append(
                    f"    approval {step.action} on {step.target}: {step.decision} by "
                    f"{step.by or '-'} → {step.outcome[:200]}"
                )
            if turn.error:
                lines.append(f"    error: {turn.error}")
            if turn.answer:
                lines.append(f"    answer ({turn.specialist or 'supervisor'}): {turn.answer}")
        return "\n".join(lines)
