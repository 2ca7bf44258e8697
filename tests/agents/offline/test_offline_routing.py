"""The offline planner as the supervisor: which specialist each request is handed to."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from hexaops.agents.offline import OfflinePlanner
from hexaops.agents.offline.registry import INTENTS
from hexaops.agents.offline.routing import ROUTES

SPECIALISTS = ["provisioning", "observability", "security", "scaling", "incident", "knowledge"]


def _routes(names: list[str] = SPECIALISTS) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {
                "name": f"route_to_{n}",
                "description": f"Hand the request to the {n} specialist. It knows {n} things.",
                "parameters": {"type": "object", "properties": {}},
            },
        }
        for n in names
    ]


def _supervise(messages: list[BaseMessage], names: list[str] = SPECIALISTS) -> AIMessage:
    message = OfflinePlanner().bind_tools(_routes(names)).invoke(messages)
    assert isinstance(message, AIMessage)
    return message


def _routed(message: AIMessage) -> str | None:
    if not message.tool_calls:
        return None
    (call,) = message.tool_calls  # exactly one handoff, without arguments
    assert call["args"] == {}
    return call["name"].removeprefix("route_to_")


TABLE: list[tuple[str, str]] = [
    # incident: something is wrong
    ("what's wrong with checkout in acme-prod?", "incident"),
    ("why is payments failing?", "incident"),
    ("any OOM kills in acme-prod?", "incident"),
    ("is anything broken in acme-staging?", "incident"),
    ("checkout is down, investigate", "incident"),
    ("what happened to payments last night?", "incident"),
    ("help me fix checkout in acme-prod", "incident"),
    # observability: metrics and logs
    ("cpu and memory of checkout over the last 2 hours", "observability"),
    ("what's the p95 latency of frontend?", "observability"),
    ("which app uses the most cpu in acme-prod?", "observability"),
    ("did the last deploy of checkout make things worse?", "observability"),
    ("what do the logs of checkout say?", "observability"),
    ('search the logs of checkout for "timeout"', "observability"),
    ("top errors today", "observability"),
    ("show me the k8s events of checkout", "observability"),
    # security
    ("scan acme-prod for misconfigurations", "security"),
    ("which images have critical vulnerabilities?", "security"),
    ("CVEs of checkout", "security"),
    # scaling
    ("how many replicas should checkout have?", "scaling"),
    ("right-size frontend in acme-prod", "scaling"),
    ("what if I scale checkout to 4 replicas?", "scaling"),
    ("scale checkout in acme-staging to 3 replicas", "scaling"),
    ("set up an HPA for checkout", "scaling"),
    # provisioning: the platform's objects, members and actions
    ("list my workspaces", "provisioning"),
    ("list projects in acme-prod", "provisioning"),
    ("what's running in acme-prod/shop?", "provisioning"),
    ("create a dedicated workspace named data-lab with 3 nodes", "provisioning"),
    ("delete workspace acme-staging", "provisioning"),
    ("create project payments in acme-prod with 2 cores and 4Gi", "provisioning"),
    ("deploy checkout 1.5.0 in acme-staging", "provisioning"),
    ("delete app old-api in acme-staging/shop", "provisioning"),
    ("what changed recently in acme-prod?", "provisioning"),
    ("who are the members of acme?", "provisioning"),
    ("show pending actions", "provisioning"),
    ("restart frontend in acme-prod", "provisioning"),
    ("roll back checkout in acme-prod", "provisioning"),
    ("revert payments to revision 2", "provisioning"),
    # knowledge: how-tos, and questions nobody else takes
    ("how do I expose an application?", "knowledge"),
    ("what does CrashLoopBackOff mean?", "knowledge"),
    ("what is a vcluster?", "knowledge"),
    ("when is the maintenance window?", "knowledge"),
]


@pytest.mark.parametrize(("text", "specialist"), TABLE, ids=[t for t, _ in TABLE])
def test_route(text: str, specialist: str) -> None:
    assert _routed(_supervise([HumanMessage(text)])) == specialist


def test_the_table_covers_every_specialist_and_intent() -> None:
    assert len(TABLE) >= 30
    assert {s for _, s in TABLE} == set(SPECIALISTS)
    # Every intent of the registry has a specialist, and only known specialists are named.
    assert {i.name for i in INTENTS} == set(ROUTES)
    assert set(ROUTES.values()) <= set(SPECIALISTS)


@pytest.mark.parametrize("text", ["hi", "Hello!", "help", "what can you do?"])
def test_greetings_and_help_are_answered_in_text(text: str) -> None:
    answer = _supervise([HumanMessage(text)])
    assert not answer.tool_calls
    content = str(answer.content)
    for name in SPECIALISTS:
        assert f"**{name}**" in content
    assert '"what\'s wrong with checkout in acme-prod?"' in content  # an example to copy
    assert "It knows" not in content  # one sentence of each description, not all of it


def test_thanks_gets_a_short_reply() -> None:
    answer = _supervise([HumanMessage("thanks!")])
    assert not answer.tool_calls
    assert len(str(answer.content)) < 100


def test_unknown_requests() -> None:
    # A question nobody else takes goes to the knowledge specialist…
    assert _routed(_supervise([HumanMessage("who maintains the platform?")])) == "knowledge"
    # …not when there is none, and a non-question gets the menu.
    menu = _supervise([HumanMessage("who maintains the platform?")], ["incident", "scaling"])
    assert not menu.tool_calls
    assert "**incident**" in str(menu.content)
    assert "**knowledge**" not in str(menu.content)
    poem = _supervise([HumanMessage("write me a poem about kubernetes")])
    assert not poem.tool_calls
    assert "I am not sure what you need" in str(poem.content)


def test_an_intent_whose_specialist_is_missing_falls_back() -> None:
    # No security specialist here: a question goes to knowledge rather than nowhere.
    routed = _supervise([HumanMessage("which images have critical vulnerabilities?")],
                        ["incident", "knowledge"])  # fmt: skip
    assert _routed(routed) == "knowledge"


def _handoff(specialist: str, n: int) -> list[BaseMessage]:
    call_id = f"route-{n}"
    return [
        AIMessage("", tool_calls=[{"name": f"route_to_{specialist}", "args": {}, "id": call_id}]),
        ToolMessage(
            f"Transferred to {specialist}", tool_call_id=call_id, name=f"route_to_{specialist}"
        ),
    ]


def _turn(text: str, specialist: str, answer: AIMessage, n: int) -> list[BaseMessage]:
    return [HumanMessage(text), *_handoff(specialist, n), answer]


def test_the_answer_to_a_clarifying_question_goes_back_to_the_asker() -> None:
    question = AIMessage(
        "`checkout` exists in more than one place: `acme-prod/shop`, `acme-staging/shop`. "
        "Which workspace do you mean?",
        name="incident",
        additional_kwargs={"hexaops_clarify": True},
    )
    history = _turn("why is checkout failing?", "incident", question, 1)
    assert _routed(_supervise([*history, HumanMessage("acme-staging")])) == "incident"
    # A new request of its own is routed afresh.
    assert _routed(_supervise([*history, HumanMessage("list my workspaces")])) == "provisioning"


def test_yes_to_an_offer_goes_back_to_the_specialist_that_offered() -> None:
    offer = AIMessage(
        "Recommended: 3 replicas. Shall I apply these settings to `checkout`?",
        additional_kwargs={"hexaops_proposal": {"tool": "scaling_apply", "args": {}}},
    )  # no name: the last handoff says who answered
    history = _turn("how many replicas should acme-prod/shop/checkout have?", "scaling", offer, 1)
    assert _routed(_supervise([*history, HumanMessage("yes, go ahead")])) == "scaling"
    assert _routed(_supervise([*history, HumanMessage("ok")])) == "scaling"


def test_a_short_follow_up_continues_with_the_same_specialist() -> None:
    answer = AIMessage("**Metrics** — `checkout: cpu 0.2 cores`", name="observability")
    earlier = _turn("what's wrong in acme-prod?", "incident", AIMessage("…", name="incident"), 1)
    history = [*earlier, *_turn("cpu of acme-prod/shop/checkout", "observability", answer, 2)]
    assert _routed(_supervise([*history, HumanMessage("and for payments?")])) == "observability"
    # "yes" without a question or offer before it is not a request: the menu.
    plain = _supervise([HumanMessage("yes")])
    assert not plain.tool_calls


def test_after_the_handoff_the_supervisor_does_not_route_again() -> None:
    history = _turn(
        "list my workspaces", "provisioning", AIMessage("`acme-prod`, `acme-staging`"), 1
    )
    again = _supervise(history)
    assert not again.tool_calls
    assert str(again.content) == "`acme-prod`, `acme-staging`"


def test_routing_is_deterministic() -> None:
    first = _supervise([HumanMessage("top errors today")])
    second = _supervise([HumanMessage("top errors today")])
    assert first.id == second.id
    assert first.tool_calls == second.tool_calls
