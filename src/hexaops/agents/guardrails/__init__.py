"""Guardrails of the agent runs: secret redaction and budgets, as LangChain middleware.

`guardrail_middleware` gives the middleware an agent needs: one layer (a `Stack`) running, in
order, budgets first (they may end the turn before anything else runs), usage recording, and
redaction innermost (it rewrites the request the model finally receives).
"""

from __future__ import annotations

from typing import Any

from langchain.agents.middleware import AgentMiddleware

from hexaops.agents.accounting import UsageRecorder, UsageStore
from hexaops.agents.guardrails.budgets import BudgetMiddleware, budgets_from_settings
from hexaops.agents.guardrails.redaction import SecretRedactionMiddleware, redact
from hexaops.agents.hooks import Stack
from hexaops.agents.pricing import price_table
from hexaops.platform.core import Platform
from hexaops.settings import Settings

__all__ = [
    "BudgetMiddleware",
    "SecretRedactionMiddleware",
    "UsageRecorder",
    "budgets_from_settings",
    "guardrail_middleware",
    "redact",
]


def guardrail_middleware(
    platform: Platform, settings: Settings, store: UsageStore | None = None
) -> list[AgentMiddleware[Any, Any, Any]]:
    """Budgets, usage recording and redaction for one agent; share the list between the agents
    of a graph so loop counts span the whole turn."""
    store = store or UsageStore.of(platform)
    layers = [BudgetMiddleware(store), UsageRecorder(store, price_table(settings))]
    return [Stack([*layers, SecretRedactionMiddleware()], name="Guardrails")]
