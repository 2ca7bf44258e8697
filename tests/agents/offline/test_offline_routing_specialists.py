"""The offline planner inside each specialist: it sees the supervisor's handoff and a system
prompt in the conversation, and calls only the tools of that specialist."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langgraph.checkpoint.memory import InMemorySaver
from test_offline_routing import TABLE

from hexaops.agents.context import AgentContext
from hexaops.agents.graph import build_agent_graph
from hexaops.agents.offline import OfflinePlanner
from hexaops.agents.specialists import specialists
from hexaops.agents.toolkit import langchain_tools
from hexaops.platform.core import Platform
from hexaops.platform.sandbox.simulation import Simulation
from hexaops.platform.telemetry.clickhouse import ClickHouseStore
from hexaops.tools.catalog import all_tools
from hexaops.tools.context import ToolContext

_ALL = all_tools()
READS = sorted(n for n, t in _ALL.items() if n.startswith("platform_") and not t.writes)
WRITES = sorted(n for n, t in _ALL.items() if n.startswith("platform_") and t.writes)


def _prefixed(*prefixes: str) -> list[str]:
    return sorted(n for n in _ALL if n.startswith(prefixes))


# The specialists' tool subsets, as the supervisor graph gives them.
SPECIALIST_TOOLS: dict[str, list[str]] = {
    "provisioning": [*READS, *WRITES],
    "observability": [
        *_prefixed("metrics_", "logs_"), "analytics_sql", "k8s_events", "k8s_pod_logs", *READS,
    ],
    "security": [*_prefixed("security_"), *READS],
    "scaling": [
        *_prefixed("scaling_"), "metrics_workload", *READS, "platform_application_scale",
        "platform_application_set_hpa", "platform_function_set_scaling",
    ],
    "incident": [
        "diagnose", *_prefixed("metrics_", "logs_", "k8s_", "knowledge_"),
        "platform_recent_changes", "platform_application_rollback",
        "platform_application_restart", "platform_application_scale", "platform_pod_delete",
    ],
    "knowledge": ["knowledge_search", "knowledge_similar_incidents"],
}  # fmt: skip


def _specs(names: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {
                "name": n,
                "description": _ALL[n].description,
                "parameters": _ALL[n].input_schema(),
            },
        }
        for n in names
    ]


def _handed_off(text: str, specialist: str) -> list[BaseMessage]:
    """The conversation a specialist sees: its prompt, the request, the supervisor's handoff."""
    return [
        SystemMessage(f"You are the {specialist} specialist. Diagnose before you change things."),
        HumanMessage(text),
        AIMessage(
            "", tool_calls=[{"name": f"route_to_{specialist}", "args": {}, "id": "handoff-1"}]
        ),
        ToolMessage(
            f"Transferred to {specialist}", tool_call_id="handoff-1", name=f"route_to_{specialist}"
        ),
    ]


def _decide(messages: list[BaseMessage], names: list[str]) -> AIMessage:
    message = OfflinePlanner().bind_tools(_specs(names)).invoke(messages)
    assert isinstance(message, AIMessage)
    return message


@pytest.mark.parametrize(("text", "specialist"), TABLE, ids=[t for t, _ in TABLE])
def test_the_specialist_acts_with_its_own_tools(text: str, specialist: str) -> None:
    tools = SPECIALIST_TOOLS[specialist]
    message = _decide(_handed_off(text, specialist), tools)
    if specialist == "knowledge" and text.startswith("when"):
        return  # routed there as a last resort: it may well have nothing to say
    # Every routed request is one its specialist can act on: a tool call, or a question back.
    calls = [c["name"] for c in message.tool_calls]
    assert calls or message.additional_kwargs.get("hexaops_clarify"), message.content
    assert set(calls) <= set(tools)
    # The handoff and the system prompt change nothing: the same decision as without them.
    plain = _decide([HumanMessage(text)], tools)
    assert [(c["name"], c["args"]) for c in message.tool_calls] == [
        (c["name"], c["args"]) for c in plain.tool_calls
    ]


@pytest.mark.parametrize(
    ("specialist", "text", "needed"),
    [
        ("security", "restart acme-prod/shop/frontend", "platform_application_restart"),
        ("knowledge", "cpu of acme-prod/shop/checkout", "metrics_workload"),
        ("observability", "delete workspace acme-staging", "platform_workspace_delete"),
        ("incident", "scan acme-prod for misconfigurations", "security_config_scan"),
    ],
)
def test_a_request_for_another_specialist_says_what_is_missing(
    specialist: str, text: str, needed: str
) -> None:
    message = _decide(_handed_off(text, specialist), SPECIALIST_TOOLS[specialist])
    assert not message.tool_calls
    assert f"`{needed}`" in str(message.content)
    assert "not available to me here" in str(message.content)


@pytest.fixture
def crashloop(platform: Platform, store: ClickHouseStore) -> None:
    simulation = Simulation(platform.engine)
    simulation.inject("crashloop_bad_config", "acme", "acme-prod", "checkout")
    simulation.advance(3, store)


def _routes() -> list[dict[str, Any]]:
    return [
        {"type": "function",
         "function": {"name": f"route_to_{n}", "description": f"The {n} specialist.",
                      "parameters": {"type": "object", "properties": {}}}}
        for n in SPECIALIST_TOOLS
    ]  # fmt: skip


def _supervise_then_run(ctx: ToolContext, history: list[BaseMessage]) -> list[BaseMessage]:
    """One turn as the supervisor graph runs it: route, hand off, run the specialist."""
    handoff = OfflinePlanner().bind_tools(_routes()).invoke(history)
    assert isinstance(handoff, AIMessage)
    (call,) = handoff.tool_calls
    specialist = call["name"].removeprefix("route_to_")
    done = ToolMessage(f"Transferred to {specialist}", tool_call_id=call["id"] or "")
    agent = create_agent(
        model=OfflinePlanner(),
        tools=langchain_tools(ctx, SPECIALIST_TOOLS[specialist]),
        system_prompt=f"You are the {specialist} specialist.",
        name=specialist,
    )
    state: Any = {"messages": [*history, handoff, done]}
    return list(agent.invoke(state)["messages"])


@pytest.mark.usefixtures("crashloop")
def test_two_turns_through_supervisor_and_specialist(
    tool_context: Callable[..., ToolContext],
) -> None:
    ctx = tool_context()
    first = _supervise_then_run(ctx, [HumanMessage("why is checkout failing?")])
    question = first[-1]
    assert question.name == "incident"
    assert "Which workspace do you mean?" in str(question.content)
    second = _supervise_then_run(ctx, [*first, HumanMessage("acme-prod")])
    later = second[len(first) + 1 :]
    calls = [c["name"] for m in later if isinstance(m, AIMessage) for c in m.tool_calls]
    assert calls[0] == "route_to_incident"
    assert "diagnose" in calls
    assert set(calls[1:]) <= set(SPECIALIST_TOOLS["incident"])
    answer = str(second[-1].content)
    assert answer.startswith("**Root cause:")
    assert "acme/acme-prod/shop/Deployment/checkout" in answer


def test_a_provisioning_read_through_the_supervisor(
    tool_context: Callable[..., ToolContext],
) -> None:
    messages = _supervise_then_run(tool_context(), [HumanMessage("list projects in acme-prod")])
    calls = [c["name"] for m in messages if isinstance(m, AIMessage) for c in m.tool_calls]
    assert calls == ["route_to_provisioning", "platform_projects"]
    assert "shop" in str(messages[-1].content)


@pytest.mark.parametrize(
    ("specialist", "text", "tool", "args"),
    [
        ("observability", "show me warning events of acme-prod/shop/checkout", "k8s_events",
         {"workspace": "acme-prod", "project": "shop", "object": "checkout", "type": "Warning"}),
        ("scaling", "autoscale acme-prod/shop/checkout between 2 and 8 replicas at 60% cpu",
         "platform_application_set_hpa",
         {"workspace": "acme-prod", "project": "shop", "name": "checkout", "min_replicas": 2,
          "max_replicas": 8, "target_cpu_percent": 60}),
        # Without platform reads (incident) a named workspace is diagnosed as a whole.
        ("incident", "why is checkout failing in acme-prod?", "diagnose",
         {"workspace": "acme-prod"}),
    ],
)  # fmt: skip
def test_specialist_tool_arguments(
    specialist: str, text: str, tool: str, args: dict[str, Any]
) -> None:
    message = _decide(_handed_off(text, specialist), SPECIALIST_TOOLS[specialist])
    assert [(c["name"], c["args"]) for c in message.tool_calls] == [(tool, args)]


def test_autoscaling_without_bounds_asks_for_them() -> None:
    question = _decide(
        _handed_off("set up an HPA for acme-prod/shop/checkout", "scaling"),
        SPECIALIST_TOOLS["scaling"],
    )
    assert not question.tool_calls
    assert "Between how many replicas" in str(question.content)
    assert question.additional_kwargs.get("hexaops_clarify") is True


def test_a_bare_reply_to_which_workspace_is_taken_as_the_workspace() -> None:
    # The incident specialist cannot list workspaces: it asks, and reads the reply as one.
    tools = SPECIALIST_TOOLS["incident"]
    asked = _decide(_handed_off("why is checkout failing?", "incident"), tools)
    assert asked.additional_kwargs.get("hexaops_clarify") == "workspace"
    history = [*_handed_off("why is checkout failing?", "incident"), asked]
    reply = [HumanMessage("acme-staging"), *_handed_off("acme-staging", "incident")[2:]]
    diagnose = _decide([*history, *reply], tools)
    assert [(c["name"], c["args"]) for c in diagnose.tool_calls] == [
        ("diagnose", {"workspace": "acme-staging"})
    ]


@pytest.mark.usefixtures("crashloop")
def test_the_supervisor_graph_runs_on_the_offline_planner(
    tool_context: Callable[..., ToolContext],
) -> None:
    graph = build_agent_graph(OfflinePlanner(), checkpointer=InMemorySaver())
    ctx = tool_context()
    config: Any = {"configurable": {"thread_id": "t1"}}

    def turn(n: int, text: str) -> dict[str, Any]:
        context = AgentContext(
            tools=ctx, session_id="t1", turn_id=f"turn-{n}", provider="offline", model="offline"
        )
        request: Any = {"messages": [HumanMessage(text)]}
        return dict(graph.invoke(request, config=config, context=context))

    hello = turn(1, "hi")
    assert hello["specialist"] is None
    assert "**incident**" in str(hello["messages"][-1].content)
    asked = turn(2, "why is checkout failing?")
    assert asked["specialist"] == "incident"
    assert "Which workspace do you mean?" in str(asked["messages"][-1].content)
    answered = turn(3, "acme-prod")  # the answer goes back to the incident specialist
    assert answered["specialist"] == "incident"
    assert str(answered["messages"][-1].content).startswith("**Root cause:")
    metrics = turn(4, "cpu of acme-prod/shop/frontend")
    assert metrics["specialist"] == "observability"
    assert "`metrics_workload`" in str(metrics["messages"][-1].content)


@pytest.mark.parametrize(("text", "specialist"), TABLE, ids=[t for t, _ in TABLE])
def test_the_team_as_built_acts_on_its_routes(text: str, specialist: str) -> None:
    team = {s.name: sorted(s.tools) for s in specialists()}
    message = _decide(_handed_off(text, specialist), team[specialist])
    calls = [c["name"] for c in message.tool_calls]
    if specialist != "knowledge" or not text.startswith("when"):
        assert calls or message.additional_kwargs.get("hexaops_clarify"), message.content
    assert set(calls) <= set(team[specialist])
