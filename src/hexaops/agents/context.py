"""The runtime context of an agent run: who is asking and with what, never part of graph state.

LangGraph passes it to every node, middleware and tool (`runtime.context`); it is not
checkpointed, so a resumed session gets a fresh one built for whoever resumes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
class AgentContext:
    """One turn of one session, as one principal."""

    tools: ToolContext  # the principal, the platform, telemetry clients, the clock
    session_id: str  # the LangGraph thread id
    turn_id: str  # unique per turn (accounting, idempotency of a turn's writes)
    provider: str  # anthropic | openai | openai-compatible | offline
    model: str
    budgets: Budgets = field(default_factory=Budgets)
    org: str | None = None  # the organization the session is about (charged for its usage)

    @property
    def principal(self) -> Principal:
        return self.tools.principal

    @property
    def platform(self) -> Platform:
        return self.tools.platform
