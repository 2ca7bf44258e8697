"""Chat sessions: ask (the turn streams over SSE), read a session, decide its pending write.

SSE events: one per agent event, named by its `type` (`routed`, `token`, `tool_started`,
`tool_finished`, `notice`, `approval_requested`, `answer`, `error`; data: the event as JSON,
see hexaops.agents.events), then `end` with the turn's summary document.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal, get_args

from fastapi import APIRouter, Body, Path
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sse_starlette import EventSourceResponse, ServerSentEvent

from hexaops.agents.events import AgentEvent
from hexaops.agents.service import MAX_MESSAGE_CHARS, check_message
from hexaops.ui.api.deps import PrincipalDep, ServicesDep
from hexaops.ui.api.problems import problem_responses
from hexaops.ui.api.turns import TurnEnd
from hexaops.ui.cli.ask import pending_entry

router = APIRouter(prefix="/api", tags=["chat"])
SESSION_PATTERN = r"^[A-Za-z0-9_.:@-]{1,128}$"  # uuids here; other interfaces prefix theirs
SessionId = Annotated[
    str, Path(pattern=SESSION_PATTERN, description="Session id (from a turn's `end`).")
]
# Every agent event's `type`, then the stream's own `end`.
_EVENT_NAMES = [
    member.model_fields["type"].default for member in get_args(get_args(AgentEvent)[0])
] + ["end"]
_SSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The turn as server-sent events (see the tag description).",
        "content": {
            "text/event-stream": {
                "schema": {
                    "type": "object",
                    "required": ["event", "data"],
                    "properties": {
                        "event": {"type": "string", "enum": _EVENT_NAMES},
                        "data": {"type": "string", "contentMediaType": "application/json"},
                        "id": {"type": "string"},
                    },
                }
            }
        },
    }
}


class ChatIn(BaseModel):
    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS, description="Your question.")
    session_id: str | None = Field(
        default=None,
        pattern=SESSION_PATTERN,
        description="Continue this session; unset starts a new one.",
    )


class DecisionIn(BaseModel):
    decision: Literal["approve", "reject", "edit"]
    args: dict[str, Any] | None = Field(
        default=None, description="With `edit`: the tool arguments to run instead."
    )
    note: str = Field(default="", max_length=2000)


class Message(BaseModel):
    role: Literal["user", "assistant"]
    text: str


class SessionOut(BaseModel):
    session_id: str
    messages: list[Message]
    pending: dict[str, Any] | None = Field(description="The write waiting for a decision.")


@router.post(
    "/chat",
    summary="Ask the assistant; the turn streams as server-sent events",
    response_class=EventSourceResponse,
    responses=_SSE | problem_responses(401, 404, 409, 422),
)
async def chat(body: ChatIn, principal: PrincipalDep, services: ServicesDep) -> EventSourceResponse:
    check_message(body.message)
    turn = await services.turns.open_turn(principal, body.session_id)
    events = await services.turns.run(turn, "ask", lambda emit: turn.aask_into(emit, body.message))
    return EventSourceResponse(_sse(events))


@router.get(
    "/sessions/{session_id}",
    summary="A session: its conversation and the write waiting for a decision",
    responses=problem_responses(401, 404, 422),
)
def session(session_id: SessionId, principal: PrincipalDep, services: ServicesDep) -> SessionOut:
    messages = services.agents.history(principal, session_id)
    waiting = services.agents.pending(principal, session_id)
    return SessionOut(
        session_id=session_id,
        messages=[Message.model_validate(m) for m in messages],
        pending=None if waiting is None else pending_entry(waiting),
    )


@router.post(
    "/sessions/{session_id}/decision",
    summary="Decide the session's pending write (approve, reject, edit); the turn goes on "
    "as server-sent events",
    response_class=EventSourceResponse,
    responses=_SSE | problem_responses(401, 403, 404, 409, 422),
)
async def decide(
    session_id: SessionId,
    body: Annotated[DecisionIn, Body()],
    principal: PrincipalDep,
    services: ServicesDep,
) -> EventSourceResponse:
    await run_in_threadpool(services.agents.pending, principal, session_id)  # NotFound first
    turn = await services.turns.open_turn(principal, session_id)
    decision = body.model_dump(exclude_none=True)
    events = await services.turns.run(
        turn, "resume", lambda emit: turn.aresume_into(emit, decision)
    )
    return EventSourceResponse(_sse(events))


async def _sse(events: AsyncIterator[AgentEvent | TurnEnd]) -> AsyncIterator[ServerSentEvent]:
    n = 0
    async for item in events:
        n += 1
        if isinstance(item, TurnEnd):
            yield ServerSentEvent(
                data=json.dumps(item.document, default=str), event="end", id=str(n)
            )
        else:
            yield ServerSentEvent(data=item.model_dump_json(), event=item.type, id=str(n))
