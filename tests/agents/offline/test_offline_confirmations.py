"""A "yes" carries out what the previous answer offered, for every kind of operation; the
phrasings the evaluation found unplaced are placed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from hexaops.agents.offline import OfflinePlanner
from hexaops.agents.offline.conversation import Call, Turn
from hexaops.agents.offline.intents import Recommend, next_patch
from hexaops.agents.offline.registry import INTENTS, choose, confirms
from hexaops.agents.offline.slots import extract
from hexaops.agents.offline.steps import Situation
from hexaops.agents.toolkit import langchain_tools
from hexaops.platform.core import Platform
from hexaops.platform.sandbox.simulation import Simulation
from hexaops.platform.telemetry.clickhouse import ClickHouseStore
from hexaops.tools.context import ToolContext

READS = ["platform_workspaces", "platform_projects", "platform_workloads", "diagnose"]
SHOP = {"workspace": "acme-prod", "project": "shop"}


def _calls(messages: list[BaseMessage]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (c["name"], c["args"]) for m in messages if isinstance(m, AIMessage) for c in m.tool_calls
    ]


def _converse(ctx: ToolContext, names: list[str], *turns: str) -> list[list[BaseMessage]]:
    """Each turn's new messages, the conversation carried over (as the checkpointer does)."""
    agent = create_agent(model=OfflinePlanner(), tools=langchain_tools(ctx, names))
    history: list[BaseMessage] = []
    out = []
    for text in turns:
        state: Any = {"messages": [*history, HumanMessage(text)]}
        messages = list(agent.invoke(state)["messages"])
        out.append(messages[len(history) :])
        history = messages
    return out


@pytest.mark.parametrize(
    ("kind", "target", "request_text", "tool", "args"),
    [
        (
            "certificate_expiry", "frontend",
            "the frontend certificate in acme-prod is failing, fix it",
            "platform_certificate_renew", {**SHOP, "name": "frontend-tls"},
        ),
        (
            "dns_failure", "acme-prod", "DNS is failing in acme-prod, please fix it",
            "platform_workspace_restart_dns", {"name": "acme-prod"},
        ),
        (
            "quota_exhausted", "checkout", "checkout in acme-prod cannot create its pods, fix it",
            "platform_project_update_quota",
            {"workspace": "acme-prod", "name": "shop", "cpu": "6000m", "memory": "12288Mi",
             "pods": 60},
        ),
    ],
)  # fmt: skip
def test_yes_runs_the_offered_operation(
    platform: Platform,
    store: ClickHouseStore,
    tool_context: Callable[..., ToolContext],
    kind: str,
    target: str,
    request_text: str,
    tool: str,
    args: dict[str, Any],
) -> None:
    simulation = Simulation(platform.engine)
    simulation.inject(kind, "acme", "acme-prod", target)
    simulation.advance(5, store)
    names = [*READS, tool]
    owner = tool_context("owner@acme.example")  # a developer may not change quotas
    asked, confirmed = _converse(owner, names, request_text, "yes")
    assert tool not in [name for name, _ in _calls(asked)]  # nothing changes before the yes
    offer = asked[-1]
    assert offer.additional_kwargs["hexaops_proposal"] == {"tool": tool, "args": args}
    assert "Reply **yes** to request" in str(offer.content)
    assert _calls(confirmed) == [(tool, args)]
    assert "action #" in str(confirmed[-1].content)


def test_patch_it_offers_the_image_bump(
    platform: Platform, store: ClickHouseStore, tool_context: Callable[..., ToolContext]
) -> None:
    simulation = Simulation(platform.engine)
    simulation.inject("vulnerable_image", "acme", "acme-prod", "checkout")
    simulation.advance(2, store)
    names = ["platform_projects", "platform_workloads", "security_vulnerabilities"]
    names.append("platform_application_deploy")
    asked, confirmed = _converse(
        tool_context(), names, "checkout in acme-prod has critical CVEs, patch it", "ok run it"
    )
    assert "ghcr.io/acme/checkout:1.4.3" in str(asked[-1].content)
    ((tool, args),) = _calls(confirmed)
    assert tool == "platform_application_deploy"
    assert args["image"] == "ghcr.io/acme/checkout:1.4.3"
    assert {k: args[k] for k in ("workspace", "project", "name", "replicas")} == {
        **SHOP,
        "name": "checkout",
        "replicas": 2,
    }
    # Only listing the CVEs offers nothing.
    (listed,) = _converse(tool_context(), names, "show me the CVEs of checkout in acme-prod")
    assert "hexaops_proposal" not in listed[-1].additional_kwargs


def _recommendation(text: str, **more: dict[str, Any]) -> tuple[Situation, Call]:
    hpa = {"min_replicas": 2, "max_replicas": 49, "target_cpu_percent": 70}
    data = {"changes": {"hpa": {"from": {**hpa, "max_replicas": 3}, "to": hpa}, **more}}
    call = Call(
        "scaling_recommend", {**SHOP, "application": "frontend"}, {"status": "ok", "data": data}
    )
    tools: dict[str, dict[str, Any]] = {"scaling_apply": {}, "platform_application_set_hpa": {}}
    return Situation(turn=Turn(request=text, calls=[call]), slots=extract(text), tools=tools), call


def test_cannot_scale_far_enough_offers_the_recommended_autoscaler() -> None:
    text = "frontend in acme-prod cannot scale far enough, fix it"
    s, call = _recommendation(text)
    intent = choose(s)
    assert isinstance(intent, Recommend)
    assert intent.propose(s, call) == (
        "platform_application_set_hpa",
        {
            **SHOP,
            "name": "frontend",
            "min_replicas": 2,
            "max_replicas": 49,
            "target_cpu_percent": 70,
        },
    )
    assert "2–49 replicas at 70% CPU" in intent.suggestion(s, call)
    # A plain right-sizing question still offers the whole recommendation.
    s, call = _recommendation("right-size frontend in acme-prod")
    offer = intent.propose(s, call)
    assert offer is not None
    assert offer[0] == "scaling_apply"
    # One that also changes the resources (two platform actions) offers the autoscaler first.
    cpu = {"cpu_limit": {"from": "500m", "to": "900m"}}
    s, call = _recommendation("right-size frontend in acme-prod", **cpu)
    offer = intent.propose(s, call)
    assert offer is not None
    assert offer[0] == "platform_application_set_hpa"
    assert "the other changes stay proposals" in intent.suggestion(s, call)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("Pods keep restarting in acme-prod/shop. Which application is affected?", "investigate"),
        ("which app in acme-prod keeps restarting?", "investigate"),
        ("which application in acme-prod/shop has pods that never start?", "investigate"),
        ("why were payments pods evicted in acme-prod?", "investigate"),
        ("a node in acme-prod is under memory pressure and evicting pods, deal with it",
         "investigate"),
        ("one of our autoscalers in acme-prod looks maxed out - which one?", "investigate"),
        ("how do I roll back a bad deployment?", "howto"),
        ("how do I fix OOMKilled pods?", "howto"),
        ("frontend in acme-prod cannot scale far enough, fix it", "scaling_recommend"),
        ("roll back checkout in acme-prod", "rollback"),
    ],
)  # fmt: skip
def test_phrasings_are_placed(text: str, intent: str) -> None:
    s = Situation(turn=Turn(request=text), slots=extract(text))
    chosen = choose(s)
    assert chosen is not None
    assert chosen.name == intent
    assert intent in [i.name for i in INTENTS]


@pytest.mark.parametrize(
    ("text", "yes"),
    [
        ("yes", True),
        ("yes, do it", True),
        ("go ahead", True),
        ("please do", True),
        ("ok run it", True),
        ("yes please", True),
        ("yes, go ahead and renew the certificate", True),
        ("ok, but first show me the logs of checkout in acme-prod", False),
        ("ok, restart frontend", False),
        ("no", False),
        ("why?", False),
    ],
)
def test_what_counts_as_a_yes(text: str, yes: bool) -> None:
    assert confirms(Situation(turn=Turn(request=text), slots=extract(text))) is yes


def test_next_patch_release() -> None:
    assert next_patch("1.4.2") == "1.4.3"
    assert next_patch("v2.0") == "v2.1"
    assert next_patch("latest") is None


def _supervise(messages: list[BaseMessage]) -> str:
    names = ["provisioning", "observability", "security", "scaling", "incident", "knowledge"]
    routes = [
        {"type": "function",
         "function": {"name": f"route_to_{n}", "description": n,
                      "parameters": {"type": "object", "properties": {}}}}
        for n in names
    ]  # fmt: skip
    message = OfflinePlanner().bind_tools(routes).invoke(messages)
    assert isinstance(message, AIMessage)
    (call,) = message.tool_calls
    return str(call["name"]).removeprefix("route_to_")


@pytest.mark.parametrize(
    ("tool", "specialist"),
    [
        ("platform_application_rollback", "incident"),  # the investigator holds it
        ("platform_certificate_renew", "provisioning"),  # only provisioning does
        ("platform_workspace_restart_dns", "provisioning"),
        ("platform_application_set_hpa", "scaling"),  # offered by scaling, which holds it
    ],
)
def test_a_yes_goes_to_a_specialist_that_can_run_the_offer(tool: str, specialist: str) -> None:
    offerer = "scaling" if tool == "platform_application_set_hpa" else "incident"
    handoff = AIMessage("", tool_calls=[{"name": f"route_to_{offerer}", "args": {}, "id": "r1"}])
    offer = AIMessage(
        "Shall I run it?",
        name=offerer,
        additional_kwargs={"hexaops_proposal": {"tool": tool, "args": {"name": "x"}}},
    )
    history = [
        HumanMessage("fix it"),
        handoff,
        ToolMessage(f"routed to {offerer}", tool_call_id="r1", name=f"route_to_{offerer}"),
        offer,
    ]
    assert _supervise([*history, HumanMessage("yes")]) == specialist
