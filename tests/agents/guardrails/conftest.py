"""The context of one agent turn on the seeded platform."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hexaops.agents.context import AgentContext, Budgets
from hexaops.platform.core import Platform
from hexaops.settings import Settings
from hexaops.tools.context import ToolContext


@pytest.fixture
def agent_context(platform: Platform) -> Callable[..., AgentContext]:
    """`agent_context(email, session_id=..., turn_id=..., budgets=...)`: one turn's context."""

    def make(
        email: str = "dev@acme.example",
        *,
        session_id: str = "s-1",
        turn_id: str = "t-1",
        budgets: Budgets | None = None,
        model: str = "scripted-model",
    ) -> AgentContext:
        tools = ToolContext(platform, platform.user(email), Settings())
        return AgentContext(
            tools=tools,
            session_id=session_id,
            turn_id=turn_id,
            provider="openai-compatible",
            model=model,
            budgets=budgets or Budgets(),
        )

    return make
