"""The supervisor hands each turn to one specialist (or answers greetings itself); the turn
streams as typed events; the same graph runs the offline planner end to end."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from agents_graph_support import ScriptedModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from hexaops.agents.context import AgentContext
from hexaops.agents.events import (
    Answer,
    ApprovalRequested,
    Routed,
    Token,
    ToolFinished,
    ToolStarted,
    Usage,
    from_json,
    to_json,
)
from hexaops.agents.graph import build_agent_graph
from hexaops.agents.offline import OfflinePlanner
from hexaops.agents.service import AgentService
from hexaops.agents.specialists import specialists
from hexaops.platform.core import Platform
from hexaops.platform.domain import Principal
from hexaops.platform.sandbox.simulation import Simulation
from hexaops.platform.telemetry.clickhouse import ClickHouseStore
from hexaops.tools.context import ToolContext

QUESTIONS = {
    "provisioning": "deploy checkout 1.4.3",
    "observability": "why is latency up?",
    "security": "any vulnerabilities in our images?",
    "scaling": "how many replicas does checkout need?",
    "incident": "checkout is broken",
    "knowledge": "where is the runbook for DNS?",
}


def test_every_specialist_has_a_route_and_rules() -> None:
    team = specialists()
    assert {s.name for s in team} == set(QUESTIONS)
    for s in team:
        assert "never instructions" in s.system_prompt
        assert "approves" in s.system_prompt


@pytest.mark.parametrize("specialist", sorted(QUESTIONS))
def test_the_supervisor_routes_each_request_to_its_specialist(
    specialist: str, tool_context: Callable[..., ToolContext]
) -> None:
    graph = build_agent_graph(ScriptedModel())
    context = AgentContext(tool_context(), "s1", "t1", "scripted", "scripted")
    state = graph.invoke({"messages": [HumanMessage(QUESTIONS[specialist])]}, context=context)
    assert state["specialist"] == specialist
    assert isinstance(state["messages"][-1], AIMessage)


def test_a_greeting_is_answered_by_the_supervisor(tool_context: Callable[..., ToolContext]) -> None:
    graph = build_agent_graph(ScriptedModel())
    context = AgentContext(tool_context(), "s1", "t1", "scripted", "scripted")
    state = graph.invoke({"messages": [HumanMessage("hi")]}, context=context)
    assert state["specialist"] is None
    assert state["messages"][-1].text.startswith("Hello")


def test_a_turn_streams_routing_steps_then_the_answer(
    service_for: Callable[..., AgentService], dev: Principal
) -> None:
    model = ScriptedModel(
        plans={
            "broken": [
                ("platform_workloads", {"workspace": "acme-prod", "project": "shop"}),
                ("diagnose", {"workspace": "acme-prod", "project": "shop"}),
            ]
        }
    )
    events = list(service_for(model).ask(dev, "checkout is broken"))
    kinds = [type(e).__name__ for e in events if not isinstance(e, Token)]
    assert kinds == [
        "Routed",
        "ToolStarted",
        "ToolFinished",
        "ToolStarted",
        "ToolFinished",
        "Usage",
        "Answer",
    ]
    routed, started = events[0], next(e for e in events if isinstance(e, ToolStarted))
    assert routed == Routed(specialist="incident")
    assert started.args == {"workspace": "acme-prod", "project": "shop"}
    finished = next(e for e in events if isinstance(e, ToolFinished))
    assert (finished.tool, finished.status) == ("platform_workloads", "ok")
    answer = events[-1]
    assert isinstance(answer, Answer)
    assert answer.specialist == "incident"
    assert any(isinstance(e, Token) for e in events)
    assert all(from_json(to_json(e)) == e for e in events)


def test_offline_investigation_end_to_end(
    service_for: Callable[..., AgentService],
    platform: Platform,
    store: ClickHouseStore,
    dev: Principal,
) -> None:
    simulation = Simulation(platform.engine)
    simulation.inject("crashloop_bad_config", "acme", "acme-prod", "checkout")
    simulation.advance(3, store)
    events = list(
        service_for(OfflinePlanner()).ask(dev, "what's wrong with checkout in acme-prod?")
    )
    assert Routed(specialist="incident") in events
    tools = [e.tool for e in events if isinstance(e, ToolStarted)]
    assert "diagnose" in tools
    answer = events[-1]
    assert isinstance(answer, Answer), answer
    assert "checkout" in answer.text
    assert "crash" in answer.text.lower()


class _Overreaching(ScriptedModel):
    """A specialist model that asks for a tool its specialist does not hold (as an injected
    or confused model might): observability asking for a provisioning write."""

    def _reply(self, messages: list[BaseMessage]) -> AIMessage:
        if any(n.startswith("route_to_") for n in self.bound):
            return AIMessage(
                "", tool_calls=[{"name": "route_to_observability", "args": {}, "id": "r"}]
            )
        if not any(isinstance(m, ToolMessage) for m in messages):
            args = {"workspace": "acme-prod", "project": "shop", "name": "checkout"}
            call = {"name": "platform_application_restart", "args": args, "id": "w"}
            return AIMessage("", tool_calls=[call])
        return AIMessage("done")


def test_a_specialist_runs_only_its_own_tools(
    service_for: Callable[..., AgentService], platform: Platform, dev: Principal
) -> None:
    events = list(service_for(_Overreaching()).ask(dev, "why is latency up?"))
    finished = next(e for e in events if isinstance(e, ToolFinished))
    assert finished.tool == "platform_application_restart"
    assert finished.status == "error"
    assert "not one of the observability specialist's tools" in finished.summary
    assert not any(isinstance(e, ApprovalRequested) for e in events)
    restarts = [a for a in platform.list_actions(dev, "acme") if "restart" in a.operation]
    assert restarts == []  # nothing was even proposed


def test_a_turn_reports_its_usage_and_sources(
    service_for: Callable[..., AgentService], dev: Principal
) -> None:
    model = ScriptedModel(
        plans={"broken": [("platform_recent_changes", {"workspace": "acme-prod"})]}
    )
    events = list(service_for(model).ask(dev, "checkout is broken"))
    usage = next(e for e in events if isinstance(e, Usage))
    assert usage.calls == 3  # route, the tool call, the answer
    assert usage.input_tokens == usage.output_tokens == 0  # the scripted model reports none
    assert events.index(usage) == len(events) - 2  # just before the answer
    finished = next(e for e in events if isinstance(e, ToolFinished))
    assert finished.status in {"ok", "empty"}
