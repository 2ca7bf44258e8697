"""The runtime context of an agent run: who is asking and with what, never part of graph state.

LangGraph passes it to every node, middleware and tool (`runtime.context`); it is not
checkpointed, so a resumed session gets a fresh one built for whoever resumes it.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from hexaops.platform.core import Platform
from hexaops.platform.domain import Principal
from hexaops.tools.context import ToolContext


@dataclass(frozen=True)
class Budgets:
    """Limits that end a turn with a clear message instead of running on."""

    steps_per_turn: int = 12  # model calls in one turn (supervisor and specialists together)
    tokens_per_turn: int = 80_000
    tokens_per_session: int = 500_000
    tokens_per_org_day: int = 5_000_000
    repeated_calls: int = 3  # the same tool with the same arguments, within one turn


@dataclass
class TurnUsage:
    """What one turn has used, kept in memory so a model call costs no database round trip.

    The budgets read the session's and organization's earlier usage once (`before`), then add
    this turn's counts; the usage recorder queues one row per model call in `unsaved` and writes
    it at once — or, with `saved_by_owner`, leaves the rows to whoever runs the turn (the agent
    service writes them in one insert when the turn ends or stops for an approval)."""

    saved_by_owner: bool = False
    calls: int = 0
    tokens: int = 0
    before: tuple[int, int] | None = None  # (session tokens, org tokens today) before the turn
    unsaved: list[dict[str, Any]] = field(default_factory=list)
    recorded: list[dict[str, Any]] = field(default_factory=list)  # every row of the turn
    tool_calls: Counter[str] = field(default_factory=Counter)  # name + args asked for: loops
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, row: dict[str, Any]) -> None:
        with self.lock:
            self.calls += 1
            self.tokens += int(row["input_tokens"]) + int(row["output_tokens"])
            self.unsaved.append(row)
            self.recorded.append(row)

    def take_unsaved(self) -> list[dict[str, Any]]:
        with self.lock:
            rows, self.unsaved = self.unsaved, []
        return rows


@dataclass
class AgentContext:
    """One turn of one session, as one principal."""

    tools: ToolContext  # the principal, the platform, telemetry clients, the clock
    session_id: str  # the LangGraph thread id
    turn_id: str  # unique per turn (accounting, idempotency of a turn's writes)
    provider: str  # anthropic | openai | openai-compatible | offline
    model: str
    budgets: Budgets = field(default_factory=Budgets)
    org: str | None = None  # the organization the session is about (charged for its usage)
    usage: TurnUsage = field(default_factory=TurnUsage)

    @property
    def principal(self) -> Principal:
        return self.tools.principal

    @property
    def platform(self) -> Platform:
        return self.tools.platform
