"""Requests of each kind, end to end: the offline planner, real tools, a sandbox with a fault."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolCall, ToolMessage

from hexaops.agents.offline import OfflinePlanner
from hexaops.agents.quoting import quote_tool_result
from hexaops.agents.toolkit import langchain_tools
from hexaops.platform.core import Platform
from hexaops.platform.sandbox.simulation import Simulation
from hexaops.platform.telemetry.clickhouse import ClickHouseStore
from hexaops.tools.catalog import all_tools
from hexaops.tools.context import ToolContext
from hexaops.tools.contract import ToolResult


def _run(ctx: ToolContext, text: str) -> tuple[list[str], str]:
    agent = create_agent(model=OfflinePlanner(), tools=langchain_tools(ctx))
    messages: list[BaseMessage] = agent.invoke({"messages": [HumanMessage(text)]})["messages"]
    calls = [c["name"] for m in messages if isinstance(m, AIMessage) for c in m.tool_calls]
    return calls, str(messages[-1].content)


@pytest.fixture
def oom(platform: Platform, store: ClickHouseStore) -> None:
    simulation = Simulation(platform.engine)
    simulation.inject("crashloop_bad_config", "acme", "acme-prod", "checkout")
    simulation.advance(3, store)


@pytest.mark.usefixtures("oom")
@pytest.mark.parametrize(
    ("text", "calls", "expected"),
    [
        (
            "memory and restarts of checkout in acme-prod over the last hour",
            ["platform_projects", "platform_workloads", "metrics_workload"],
            ["acme/acme-prod/shop/checkout", "restarts", "Window: last hour", "`metrics_workload`"],
        ),
        (
            "what do the logs of acme-prod/shop/checkout say?",
            ["logs_summary"],
            ["invalid configuration", "`logs_summary`"],
        ),
        (
            "top errors in acme-prod",
            ["logs_top_errors", "logs_search"],  # the search names who logs the top error
            ["invalid configuration", "Next: ask", "logged by `checkout` in acme-prod/shop"],
        ),
        (
            "security scan of workspace acme-prod",
            ["security_config_scan"],
            ["KSV-", "acme-prod"],
        ),
        (
            "which app uses the most memory in workspace acme-prod?",
            ["metrics_top_consumers"],
            ["acme-prod/shop/", "avg_MiB"],
        ),
    ],
)
def test_reads_answer_from_the_tool_results(
    tool_context: Callable[..., ToolContext], text: str, calls: list[str], expected: list[str]
) -> None:
    made, answer = _run(tool_context(), text)
    assert made == calls
    for fragment in expected:
        assert fragment in answer


def test_deploy_a_new_tag_of_an_existing_app(tool_context: Callable[..., ToolContext]) -> None:
    agent = create_agent(model=OfflinePlanner(), tools=langchain_tools(tool_context()))
    request: Any = {"messages": [HumanMessage("deploy checkout 1.5.0 in acme-staging")]}
    messages = agent.invoke(request)["messages"]
    calls = [c for m in messages if isinstance(m, AIMessage) for c in m.tool_calls]
    assert [c["name"] for c in calls] == [
        "platform_projects",
        "platform_workloads",
        "platform_application_deploy",
    ]
    # The running app's image repository, replicas and resources are kept; only the tag moves.
    assert calls[-1]["args"] == {
        "workspace": "acme-staging",
        "project": "shop",
        "name": "checkout",
        "image": "ghcr.io/acme/checkout:1.5.0",
        "replicas": 2,
        "cpu_request": "250m",
        "memory_request": "256Mi",
        "cpu_limit": "500m",
        "memory_limit": "512Mi",
    }
    assert str(messages[-1].content).startswith("Done:")


def test_deploy_a_new_application(tool_context: Callable[..., ToolContext]) -> None:
    calls, answer = _run(
        tool_context(), "deploy ghcr.io/acme/api:1.0.0 as app api in acme-prod/shop with 2 replicas"
    )
    assert calls == ["platform_workloads", "platform_application_deploy"]
    assert "action #" in answer


def test_create_a_workspace_finds_the_org_first(tool_context: Callable[..., ToolContext]) -> None:
    calls, answer = _run(
        tool_context("owner@acme.example"),
        "create a dedicated workspace named data-lab with 3 nodes",
    )
    assert calls == ["platform_organizations", "platform_workspace_create"]
    assert "action #" in answer
    assert "data-lab" in answer


def test_unknown_application_is_said_plainly(tool_context: Callable[..., ToolContext]) -> None:
    calls, answer = _run(tool_context(), "restart billing in acme-prod")
    assert "platform_application_restart" not in calls
    assert answer.startswith("I found no application or function named `billing` in acme-prod")
    assert "`checkout`" in answer  # what there is instead


def _spec(name: str) -> dict[str, Any]:
    if name == "knowledge_search":
        params = {"type": "object", "properties": {"query": {"type": "string"}}}
        return {"type": "function", "function": {"name": name, "description": "docs",
                                                 "parameters": params}}  # fmt: skip
    tool = all_tools()[name]
    return {"type": "function", "function": {"name": name, "description": tool.description,
                                             "parameters": tool.input_schema()}}  # fmt: skip


def _reply(call: ToolCall, data: Any, summary: str) -> ToolMessage:
    result = ToolResult(tool=call["name"], status="ok", summary=summary, data=data)
    return ToolMessage(quote_tool_result(result), tool_call_id=call["id"] or "")


def test_investigation_consults_the_runbook_when_bound() -> None:
    model = OfflinePlanner().bind_tools([_spec("diagnose"), _spec("knowledge_search")])
    ask = HumanMessage("what's wrong in workspace acme-prod?")
    first = model.invoke([ask])
    (diagnose,) = first.tool_calls
    finding = {
        "analyzer": "oom_killed",
        "severity": "critical",
        "object": "acme/acme-prod/shop/Deployment/checkout",
        "title": "checkout: 2 pods OOMKilled",
        "detail": "containers exceed their memory limit",
        "evidence": [],
        "next_steps": ["application.rollback — if the leak came with the latest revision"],
    }
    history: list[BaseMessage] = [
        ask,
        first,
        _reply(diagnose, {"findings": [finding]}, "1 finding"),
    ]
    second = model.invoke(history)
    assert [c["name"] for c in second.tool_calls] == ["knowledge_search"]
    assert "oom_killed" in second.tool_calls[0]["args"]["query"]
    docs = [
        {"citation": "runbooks/oom.md § Fix (lines 3-9)", "text": "Raise the limit or roll back."}
    ]
    history += [second, _reply(second.tool_calls[0], docs, "1 passage")]
    answer = str(model.invoke(history).content)
    assert "acme/acme-prod/shop/Deployment/checkout" in answer
    assert "`knowledge_search`" in answer
    assert "`runbooks/oom.md § Fix (lines 3-9)`: `Raise the limit or roll back.`" in answer
    assert "Shall I run `application.rollback` on `checkout`" in answer


def test_how_to_is_answered_from_the_knowledge_base() -> None:
    model = OfflinePlanner().bind_tools([_spec("knowledge_search")])
    ask = HumanMessage("How do I set up autoscaling for an application?")
    first = model.invoke([ask])
    (call,) = first.tool_calls
    assert call["args"] == {"query": "How do I set up autoscaling for an application?"}
    docs = [{"citation": "platform/autoscaling.md § HPA", "text": "Use application.set_hpa."}]
    answer = str(model.invoke([ask, first, _reply(call, docs, "1 passage")]).content)
    assert "`platform/autoscaling.md § HPA`" in answer
    assert "application.set_hpa" in answer


def test_a_failed_lookup_is_explained(tool_context: Callable[..., ToolContext]) -> None:
    calls, answer = _run(tool_context(), "what's wrong with checkout in acme-nope?")
    assert calls == ["platform_projects"]
    assert answer.startswith("It does not exist (or you cannot see it)")
    assert "acme-nope" in answer
    # Another organization's workspace is just as invisible.
    calls, answer = _run(tool_context(), "list projects in globex-prod")
    assert calls == ["platform_projects"]
    assert answer.startswith("It does not exist (or you cannot see it)")
