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
    this turn's counts; the usage recorder keeps one row per model call in `rows` and hands the
    new ones to the writer at once — or, with `saved_by_owner`, leaves them to whoever runs the
    turn (the agent service hands them over when the turn ends or stops for an approval)."""

    saved_by_owner: bool = False
    tokens: int = 0
    before: tuple[int, int] | None = None  # (session tokens, org tokens today) before the turn
    rows: list[dict[str, Any]] = field(default_factory=list)  # one per model call of the turn
    saved: int = 0  # how many of `rows` went to the writer
    tool_calls: Counter[str] = field(default_factory=Counter)  # name + args asked for: loops
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def calls(self) -> int:
        return len(self.rows)

    def add(self, row: dict[str, Any]) -> None:
        with self.lock:
            self.tokens += int(row["input_tokens"]) + int(row["output_tokens"])
            self.rows.append(row)

    def take_unsaved(self) -> list[dict[str, Any]]:
        with self.lock:
            unsaved, self.saved = self.rows[self.saved :], len(self.rows)
        return unsaved


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
