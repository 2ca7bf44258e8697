"""Budgets of an agent run: a turn that reaches one ends with a message, not more model calls.

Before every model call `BudgetMiddleware` checks what the turn, its session and its organization
(today, UTC) have used: the session's and organization's earlier usage is read from the usage
store once per turn (other turns and processes write it there), the turn's own is counted in
memory by `UsageRecorder` (`AgentContext.usage`), so the limits hold across the supervisor and its
specialists without a database round trip per model call. After every model call it checks the
requested tool calls for a loop: the same tool with the same arguments asked for
`repeated_calls` times in one turn. Either way the turn ends with an assistant message that names
the limit and its variable; nothing raises.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from langchain.agents.middleware import AgentMiddleware, ModelRequest, ModelResponse
from langchain.agents.middleware.types import AgentState
from langchain_core.messages import AIMessage, ToolMessage

from hexaops.agents.accounting import BudgetTotals, org_of
from hexaops.agents.context import AgentContext, Budgets
from hexaops.settings import Settings

_NEXT = "Ask a narrower question or continue in a new turn."


def budgets_from_settings(settings: Settings) -> Budgets:
    return Budgets(
        steps_per_turn=settings.agent_steps_per_turn,
        tokens_per_turn=settings.agent_tokens_per_turn,
        tokens_per_session=settings.agent_tokens_per_session,
        tokens_per_org_day=settings.agent_tokens_per_org_day,
        repeated_calls=settings.agent_repeated_calls,
    )


class UsageLedger(Protocol):
    """Where the budgets read earlier usage (`hexaops.agents.accounting.UsageStore`)."""

    def usage_before_turn(self, *, org: str | None, session_id: str) -> tuple[int, int]: ...


def turn_totals(ledger: UsageLedger, context: AgentContext, org: str | None) -> BudgetTotals:
    """The turn's usage so far plus its session's and organization's before it."""
    usage = context.usage
    if usage.before is None:
        usage.before = ledger.usage_before_turn(org=org, session_id=context.session_id)
    session, org_day = usage.before
    return BudgetTotals(usage.calls, usage.tokens, session + usage.tokens, org_day + usage.tokens)


def exceeded(budgets: Budgets, totals: BudgetTotals, org: str | None) -> str | None:
    """The message ending the turn when a budget is used up, else None."""
    if totals.turn_calls >= budgets.steps_per_turn:
        return (
            f"This turn reached its limit of {budgets.steps_per_turn} steps "
            f"(HEXAOPS_AGENT_STEPS_PER_TURN). {_NEXT}"
        )
    if totals.turn_tokens >= budgets.tokens_per_turn:
        return (
            f"This turn used {totals.turn_tokens:,} tokens, reaching its limit of "
            f"{budgets.tokens_per_turn:,} (HEXAOPS_AGENT_TOKENS_PER_TURN). {_NEXT}"
        )
    if totals.session_tokens >= budgets.tokens_per_session:
        return (
            f"This session used {totals.session_tokens:,} tokens, reaching its limit of "
            f"{budgets.tokens_per_session:,} (HEXAOPS_AGENT_TOKENS_PER_SESSION). "
            "Start a new session to continue."
        )
    if org is not None and totals.org_day_tokens >= budgets.tokens_per_org_day:
        return (
            f"Organization {org} used {totals.org_day_tokens:,} model tokens today, reaching its "
            f"daily limit of {budgets.tokens_per_org_day:,} (HEXAOPS_AGENT_TOKENS_PER_ORG_DAY). "
            "It resets at 00:00 UTC; an operator can raise the limit."
        )
    return None


def _ending(text: str, reason: str) -> AIMessage:
    return AIMessage(content=text, response_metadata={"finish_reason": "budget", "budget": reason})


class BudgetMiddleware(AgentMiddleware[AgentState[Any], AgentContext, Any]):
    """Ends a turn when its steps, tokens, its session's or organization's tokens are used up,
    or when the model loops on one tool call. Limits come from `runtime.context.budgets`.

    It only wraps the model call (no graph nodes of its own, so it adds no steps to a run):
    over a budget, the call is not made and the turn's answer says which limit it reached; a
    reply repeating a tool call too often ends the turn the same way, its calls answered as not
    run so the history stays valid for the next turn.
    """

    def __init__(self, ledger: UsageLedger) -> None:
        super().__init__()
        self.ledger = ledger

    def wrap_model_call(
        self,
        request: ModelRequest[AgentContext],
        handler: Callable[[ModelRequest[AgentContext]], ModelResponse[Any]],
    ) -> ModelResponse[Any]:
        ending = self._over_budget(request.runtime.context)
        if ending is not None:
            return ModelResponse(result=[ending])
        return self._unless_looping(request.runtime.context, handler(request))

    async def awrap_model_call(
        self,
        request: ModelRequest[AgentContext],
        handler: Callable[[ModelRequest[AgentContext]], Awaitable[ModelResponse[Any]]],
    ) -> ModelResponse[Any]:
        context = request.runtime.context
        if context.usage.before is None:  # the turn's first call: the totals may need a read
            ending = await asyncio.to_thread(self._over_budget, context)
        else:  # arithmetic on the totals the turn holds
            ending = self._over_budget(context)
        if ending is not None:
            return ModelResponse(result=[ending])
        return self._unless_looping(context, await handler(request))

    def _over_budget(self, context: AgentContext) -> AIMessage | None:
        org = org_of(context)
        message = exceeded(context.budgets, turn_totals(self.ledger, context, org), org)
        return None if message is None else _ending(message, "limit")

    def _unless_looping(
        self, context: AgentContext, response: ModelResponse[Any]
    ) -> ModelResponse[Any]:
        reply = next((m for m in response.result if isinstance(m, AIMessage)), None)
        if reply is None or not reply.tool_calls:
            return response
        limit = context.budgets.repeated_calls
        looping: str | None = None
        with context.usage.lock:
            counts = context.usage.tool_calls
            for call in reply.tool_calls:
                key = call["name"] + " " + json.dumps(call["args"], sort_keys=True, default=str)
                counts[key] += 1
                if counts[key] >= limit and looping is None:
                    looping = call["name"]
        if looping is None:
            return response
        text = (
            f"This turn stopped: the tool {looping} was asked for {limit} times with the same "
            f"arguments (HEXAOPS_AGENT_REPEATED_CALLS), which looks like a loop. The results so "
            f"far are above. {_NEXT}"
        )
        # Every requested call gets an answer, so the history stays valid for the next turn.
        skipped = [
            ToolMessage(
                content="Not run: the turn stopped because it repeated a tool call.",
                tool_call_id=call["id"],
                name=call["name"],
                status="error",
            )
            for call in reply.tool_calls
            if call.get("id")
        ]
        return ModelResponse(result=[reply, *skipped, _ending(text, "repeated_calls")])
