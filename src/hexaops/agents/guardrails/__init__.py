"""Guardrails of the agent runs: secret redaction and budgets, as LangChain middleware.

`guardrail_middleware` gives the middleware an agent needs: one `Guardrails` layer running, in
order, budgets first (they may end the turn before anything else runs), usage recording, and
redaction innermost (it rewrites the request the model finally receives).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from langchain.agents.middleware import AgentMiddleware, ModelRequest, ModelResponse
from langchain.agents.middleware.types import AgentState, ExtendedModelResponse
from langchain_core.messages import AIMessage

from hexaops.agents.accounting import UsageRecorder, UsageStore
from hexaops.agents.context import AgentContext
from hexaops.agents.guardrails.budgets import BudgetMiddleware, budgets_from_settings
from hexaops.agents.guardrails.redaction import SecretRedactionMiddleware, redact
from hexaops.agents.pricing import price_table
from hexaops.platform.core import Platform
from hexaops.settings import Settings

__all__ = [
    "BudgetMiddleware",
    "Guardrails",
    "SecretRedactionMiddleware",
    "UsageRecorder",
    "budgets_from_settings",
    "guardrail_middleware",
    "redact",
]

_Call = Callable[[ModelRequest[AgentContext]], ModelResponse[Any]]
_AsyncCall = Callable[[ModelRequest[AgentContext]], Awaitable[ModelResponse[Any]]]


def _response(
    out: ModelResponse[Any] | AIMessage | ExtendedModelResponse[Any],
) -> ModelResponse[Any]:
    if isinstance(out, AIMessage):
        return ModelResponse(result=[out])
    if isinstance(out, ExtendedModelResponse):
        return out.model_response
    return out


class Guardrails(AgentMiddleware[AgentState[Any], AgentContext, Any]):
    """Several model-call middleware as one: each call passes through `layers` in order
    (outermost first). Composed here rather than by `create_agent`, which wraps every
    middleware's hooks in a tracing span of its own — a cost per layer on every model call.
    The layers may only wrap model calls."""

    def __init__(self, layers: Sequence[AgentMiddleware[Any, Any, Any]]) -> None:
        super().__init__()
        self.layers = tuple(layers)

    def wrap_model_call(
        self, request: ModelRequest[AgentContext], handler: _Call
    ) -> ModelResponse[Any]:
        call = handler
        for layer in reversed(self.layers):
            call = self._wrapped(layer, call)
        return call(request)

    async def awrap_model_call(
        self, request: ModelRequest[AgentContext], handler: _AsyncCall
    ) -> ModelResponse[Any]:
        call = handler
        for layer in reversed(self.layers):
            call = self._awrapped(layer, call)
        return await call(request)

    @staticmethod
    def _wrapped(layer: AgentMiddleware[Any, Any, Any], inner: _Call) -> _Call:
        return lambda request: _response(layer.wrap_model_call(request, inner))

    @staticmethod
    def _awrapped(layer: AgentMiddleware[Any, Any, Any], inner: _AsyncCall) -> _AsyncCall:
        async def call(request: ModelRequest[AgentContext]) -> ModelResponse[Any]:
            return _response(await layer.awrap_model_call(request, inner))

        return call


def guardrail_middleware(
    platform: Platform, settings: Settings, store: UsageStore | None = None
) -> list[AgentMiddleware[Any, Any, Any]]:
    """Budgets, usage recording and redaction for one agent; share the list between the agents
    of a graph so loop counts span the whole turn."""
    store = store or UsageStore.of(platform)
    return [
        Guardrails(
            [
                BudgetMiddleware(store),
                UsageRecorder(store, price_table(settings)),
                SecretRedactionMiddleware(),
            ]
        )
    ]
