"""The API runs turns as tasks on its event loop (`aask_into` / `aresume_into`): the same
graph, the same events, the same approvals and refusals as a turn run on a thread."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from agents_graph_support import ScriptedModel
from test_agents_graph_approvals import MODEL, _replicas
from test_agents_graph_routing import _Overreaching

from hexaops.agents.context import Budgets
from hexaops.agents.events import (
    AgentEvent,
    Answer,
    ApprovalRequested,
    Notice,
    Token,
    ToolFinished,
)
from hexaops.agents.service import AgentService
from hexaops.platform.core import Platform
from hexaops.platform.domain import Principal


def _aask(service: AgentService, who: Principal, text: str, **kw: Any) -> list[AgentEvent]:
    events: list[AgentEvent] = []
    asyncio.run(service.aask_into(events.append, who, text, **kw))
    return events


def _aresume(
    service: AgentService, who: Principal, session: str, decision: dict[str, Any]
) -> list[AgentEvent]:
    events: list[AgentEvent] = []
    asyncio.run(service.aresume_into(events.append, who, session, decision))
    return events


def _shape(events: list[AgentEvent]) -> list[tuple[str, str]]:
    """Each event's kind and its text, tool or message (ids and timings left out)."""
    return [
        (type(e).__name__, str(getattr(e, "text", None) or getattr(e, "tool", ""))) for e in events
    ]


def test_an_async_turn_streams_what_a_threaded_turn_streams(
    service_for: Callable[..., AgentService], dev: Principal
) -> None:
    model = ScriptedModel(
        plans={"broken": [("platform_recent_changes", {"workspace": "acme-prod"})]}
    )
    service = service_for(model)
    threaded = list(service.ask(dev, "checkout is broken"))
    on_the_loop = _aask(service, dev, "checkout is broken")
    assert _shape(on_the_loop) == _shape(threaded)
    assert any(isinstance(e, Token) for e in on_the_loop)
    assert isinstance(on_the_loop[-1], Answer)
    assert on_the_loop[-1].specialist == "incident"


def test_an_async_write_waits_for_approval_then_runs(
    service_for: Callable[..., AgentService], platform: Platform, dev: Principal
) -> None:
    service = service_for(MODEL)
    waiting = _aask(service, dev, "set checkout to 3 replicas")[-1]
    assert isinstance(waiting, ApprovalRequested), waiting
    assert waiting.request["summary"] == "scale checkout from 2 to 3 replica(s)"
    assert _replicas(platform, dev, "checkout") == 2  # the dry run changed nothing

    done = _aresume(service, dev, waiting.session_id, {"decision": "approve"})[-1]
    assert isinstance(done, Answer), done
    assert done.text.startswith("ok: action #")
    assert _replicas(platform, dev, "checkout") == 3
    assert service.pending(dev, waiting.session_id) is None


def test_an_async_rejection_runs_nothing_and_an_edit_runs_the_edited_call(
    service_for: Callable[..., AgentService], platform: Platform, dev: Principal
) -> None:
    service = service_for(MODEL)
    first = _aask(service, dev, "set checkout to 3 replicas")[-1]
    assert isinstance(first, ApprovalRequested)
    rejected = _aresume(service, dev, first.session_id, {"decision": "reject", "note": "freeze"})
    assert isinstance(rejected[-1], Answer)
    assert "rejected application.scale" in rejected[-1].text
    assert _replicas(platform, dev, "checkout") == 2

    second = _aask(service, dev, "set checkout to 3 replicas")[-1]
    assert isinstance(second, ApprovalRequested)
    edit = {"decision": "edit", "args": {"replicas": 4}}
    edited = _aresume(service, dev, second.session_id, edit)[-1]
    assert isinstance(edited, Answer)
    assert "to 4 replica(s)" in edited.text
    assert _replicas(platform, dev, "checkout") == 4


def test_an_async_specialist_runs_only_its_own_tools(
    service_for: Callable[..., AgentService], platform: Platform, dev: Principal
) -> None:
    events = _aask(service_for(_Overreaching()), dev, "why is latency up?")
    finished = next(e for e in events if isinstance(e, ToolFinished))
    assert finished.status == "error"
    assert "not one of the observability specialist's tools" in finished.summary
    assert not [a for a in platform.list_actions(dev, "acme") if "restart" in a.operation]


def test_a_budget_stop_is_told_once_as_a_notice(
    service_for: Callable[..., AgentService], dev: Principal
) -> None:
    model = ScriptedModel(
        plans={"broken": [("platform_recent_changes", {"workspace": "acme-prod"})]}
    )
    service = service_for(model, budgets=Budgets(steps_per_turn=1))
    for events in (list(service.ask(dev, "checkout is broken")), _aask(service, dev, "broken")):
        notices = [e for e in events if isinstance(e, Notice)]
        assert [n.kind for n in notices] == ["limit"]
        assert "limit of 1 steps" in notices[0].message
        answer = events[-1]
        assert isinstance(answer, Answer)
        assert answer.text.startswith(notices[0].message)
