"""A turn, once started, runs to its end even when nobody reads its stream any more (the
client went away): the session holds the answer for the next request."""

from __future__ import annotations

import asyncio

from hexaops.agents.events import Routed
from hexaops.agents.service import AgentService
from hexaops.platform.domain import Principal
from hexaops.ui.api.observability import Metrics, Tracing
from hexaops.ui.api.turns import TurnRunner


def test_a_turn_finishes_after_its_client_left(agents: AgentService, dev: Principal) -> None:
    async def scenario() -> str:
        runner = TurnRunner(agents, Metrics(), Tracing(None), workers=4)
        turn = await runner.open_turn(dev, None)
        events = await runner.run(
            turn, "ask", lambda emit: turn.ask_into(emit, "list the workspaces")
        )
        first = await anext(events)
        assert isinstance(first, Routed)
        await events.aclose()  # the client disconnects after the first event
        await runner.drain()
        return turn.session_id

    session = asyncio.run(scenario())
    history = agents.history(dev, session)
    assert [m["role"] for m in history] == ["user", "assistant"]
    assert history[-1]["text"].startswith("ok: 2 workspaces in acme")
