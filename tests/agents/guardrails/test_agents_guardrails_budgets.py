"""A turn that reaches a budget ends with a message naming the limit, never with a traceback."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from guardrails_support import ScriptedModel, answers, calls_tool, echo, run_agent
from langchain.agents import create_agent
from langchain.agents.middleware import AgentMiddleware
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

from hexaops.agents.accounting import UsageRecorder, UsageStore
from hexaops.agents.context import AgentContext, Budgets
from hexaops.agents.guardrails import budgets_from_settings, guardrail_middleware
from hexaops.agents.guardrails.budgets import BudgetMiddleware
from hexaops.agents.pricing import LIST_PRICES
from hexaops.platform.core import Platform
from hexaops.settings import Settings


def _guarded(store: UsageStore) -> list[AgentMiddleware[Any, Any, Any]]:
    return [BudgetMiddleware(store), UsageRecorder(store, LIST_PRICES)]


def _final(history: list[BaseMessage]) -> str:
    last = history[-1]
    assert isinstance(last, AIMessage)
    assert not last.tool_calls
    return str(last.content)


def _record(store: UsageStore, *, org: str, tokens: int, session_id: str = "old") -> None:
    store.record(
        org=org,
        principal_id="owner@acme.example",
        session_id=session_id,
        turn_id=f"{session_id}-t",
        provider="anthropic",
        model="claude-sonnet-4-5",
        input_tokens=tokens,
        output_tokens=0,
        cost_usd=0.0,
    )


def test_settings_give_the_budgets() -> None:
    settings = Settings(agent_steps_per_turn=5, agent_tokens_per_org_day=10_000)
    budgets = budgets_from_settings(settings)
    assert budgets.steps_per_turn == 5
    assert budgets.tokens_per_org_day == 10_000
    assert budgets_from_settings(Settings()) == Budgets()


def test_a_model_that_never_stops_ends_at_the_step_limit(
    platform: Platform, agent_context: Callable[..., AgentContext]
) -> None:
    store = UsageStore.of(platform)
    model = ScriptedModel(script=calls_tool(lambda n: {"text": f"page {n}"}))
    context = agent_context(budgets=Budgets(steps_per_turn=4))
    history = run_agent(model, guardrail_middleware(platform, Settings(), store), context, "go")
    assert len(model.seen) == 4
    assert _final(history) == (
        "This turn reached its limit of 4 steps (HEXAOPS_AGENT_STEPS_PER_TURN). "
        "Ask a narrower question or continue in a new turn."
    )
    # Every tool call the model asked for was answered before the turn ended.
    assert sum(isinstance(m, ToolMessage) for m in history) == 4
    # The next turn of the session starts with a fresh step count.
    again = run_agent(
        ScriptedModel(script=answers("fine")),
        _guarded(store),
        agent_context(turn_id="t-2", budgets=Budgets(steps_per_turn=4)),
        "and now?",
    )
    assert _final(again) == "fine"


def test_the_turn_ends_when_its_tokens_are_used(
    platform: Platform, agent_context: Callable[..., AgentContext]
) -> None:
    store = UsageStore.of(platform)
    model = ScriptedModel(
        script=calls_tool(lambda n: {"text": f"page {n}"}), tokens=(30_000, 1_000)
    )
    context = agent_context(budgets=Budgets(tokens_per_turn=80_000))
    history = run_agent(model, _guarded(store), context, "go")
    assert len(model.seen) == 3  # 31k, 62k, 93k tokens: no fourth call
    assert _final(history) == (
        "This turn used 93,000 tokens, reaching its limit of 80,000 "
        "(HEXAOPS_AGENT_TOKENS_PER_TURN). Ask a narrower question or continue in a new turn."
    )


def test_a_session_over_its_tokens_gets_no_model_call(
    platform: Platform, agent_context: Callable[..., AgentContext]
) -> None:
    store = UsageStore.of(platform)
    _record(store, org="acme", tokens=600_000, session_id="s-1")
    model = ScriptedModel(script=answers("hello"))
    history = run_agent(model, _guarded(store), agent_context(session_id="s-1"), "hi")
    assert model.seen == []
    assert "HEXAOPS_AGENT_TOKENS_PER_SESSION" in _final(history)
    assert "Start a new session" in _final(history)


def test_the_organization_daily_budget_counts_todays_stored_usage(
    platform: Platform, agent_context: Callable[..., AgentContext]
) -> None:
    now = datetime.now(UTC)
    store = UsageStore.of(platform)
    yesterday = UsageStore(platform.engine, clock=lambda: now - timedelta(days=1))
    _record(yesterday, org="acme", tokens=4_000_000)  # yesterday's usage does not count
    _record(store, org="globex", tokens=4_000_000)  # nor another organization's
    _record(store, org="acme", tokens=2_500_000)
    budgets = Budgets(tokens_per_org_day=3_000_000)

    model = ScriptedModel(script=answers("ok"))
    history = run_agent(model, _guarded(store), agent_context(budgets=budgets), "hi")
    assert _final(history) == "ok"  # 2.5M of 3M used: the call runs

    _record(store, org="acme", tokens=600_000, session_id="other")  # another member's session
    model = ScriptedModel(script=answers("ok"))
    history = run_agent(
        model,
        _guarded(store),
        agent_context("viewer@acme.example", session_id="s-9", budgets=budgets),
        "hi",
    )
    assert model.seen == []
    assert _final(history).startswith("Organization acme used 3,100,120 model tokens today")
    assert "HEXAOPS_AGENT_TOKENS_PER_ORG_DAY" in _final(history)


def test_the_same_tool_call_repeated_ends_the_turn(
    platform: Platform, agent_context: Callable[..., AgentContext]
) -> None:
    store = UsageStore.of(platform)
    model = ScriptedModel(script=calls_tool(lambda n: {"text": "same"}))
    history = run_agent(
        model, _guarded(store), agent_context(budgets=Budgets(repeated_calls=3)), "go"
    )
    assert len(model.seen) == 3
    tool_messages = [m for m in history if isinstance(m, ToolMessage)]
    assert [m.status for m in tool_messages] == ["success", "success", "error"]
    assert "Not run" in str(tool_messages[-1].content)
    final = _final(history)
    assert "the tool echo was asked for 3 times with the same arguments" in final
    assert "HEXAOPS_AGENT_REPEATED_CALLS" in final


@pytest.mark.asyncio
async def test_the_guardrails_hold_in_async_runs(
    platform: Platform, agent_context: Callable[..., AgentContext]
) -> None:
    store = UsageStore.of(platform)
    model = ScriptedModel(script=calls_tool(lambda n: {"text": f"page {n}"}))
    agent = create_agent(
        model=model,
        tools=[echo],
        middleware=guardrail_middleware(platform, Settings(), store),
        context_schema=AgentContext,
    )
    state = await agent.ainvoke(
        {"messages": [{"role": "user", "content": "PGPASSWORD=hunter2 why?"}]},
        context=agent_context(budgets=Budgets(steps_per_turn=2)),
    )
    assert len(model.seen) == 2
    assert "hunter2" not in str(model.seen[0][0].content)
    assert "limit of 2 steps" in _final(state["messages"])
    assert store.budget_totals(org="acme", session_id="s-1", turn_id="t-1").turn_calls == 2
