"""The service charges every model call of a turn (also one stopped for approval) and streams
an answer once."""

from __future__ import annotations

from collections.abc import Callable

from agents_graph_support import ScriptedModel

from hexaops.agents.accounting import UsageStore
from hexaops.agents.events import Answer, ApprovalRequested, Token
from hexaops.agents.service import AgentService
from hexaops.platform.core import Platform
from hexaops.platform.domain import Principal

MODEL = ScriptedModel(
    plans={
        "replicas": [
            (
                "platform_application_scale",
                {"workspace": "acme-staging", "project": "shop", "name": "checkout", "replicas": 3},
            )
        ],
        "deploy": [("platform_workspaces", {})],
    }
)


def test_usage_of_a_turn_stopped_for_approval_is_saved_and_resuming_adds_to_it(
    service_for: Callable[..., AgentService], platform: Platform, dev: Principal
) -> None:
    service = service_for(MODEL)
    usage = UsageStore.of(platform)
    waiting = list(service.ask(dev, "set checkout to 3 replicas"))[-1]
    assert isinstance(waiting, ApprovalRequested)
    # supervisor + the specialist's call that proposed the write
    assert usage.report(dev, session_id=waiting.session_id).total.calls == 2

    done = list(service.resume(dev, waiting.session_id, {"decision": "approve"}))[-1]
    assert isinstance(done, Answer)
    report = usage.report(dev, session_id=waiting.session_id)
    assert report.total.calls == 3  # + the specialist's answer after the write ran


def test_each_turn_of_a_session_is_charged_to_the_sessions_organization(
    service_for: Callable[..., AgentService], platform: Platform, owner: Principal
) -> None:
    service = service_for(MODEL)
    first = list(service.ask(owner, "where can I deploy?"))[-1]
    assert isinstance(first, Answer)
    again = list(service.ask(owner, "and where can I deploy now?", first.session_id))[-1]
    assert isinstance(again, Answer)
    report = UsageStore.of(platform).report(owner, org="acme", session_id=first.session_id)
    assert report.total.calls == 6  # two turns of supervisor, tool call, answer


def test_the_supervisors_own_answer_streams_once(
    service_for: Callable[..., AgentService], owner: Principal
) -> None:
    events = list(service_for(MODEL).ask(owner, "hello there"))
    answer = events[-1]
    assert isinstance(answer, Answer)
    assert answer.specialist is None
    tokens = "".join(e.text for e in events if isinstance(e, Token))
    assert tokens == answer.text == "Hello! Ask me about your workspaces."
