"""Actions: the only way anything changes. Request one (typed per operation, with dry run and
idempotency key), list them, approve or reject the pending ones.

Deciding an action an agent proposed also resumes the agent session waiting on it, in the
background: the session finishes its turn with the action's result and a `session.resumed`
notification carries the answer.
"""

from __future__ import annotations

import functools
import logging
import operator
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field, create_model

from hexaops.platform.domain import ActionStatus, Principal
from hexaops.platform.errors import PlatformError
from hexaops.platform.operations import OPERATIONS, Operation
from hexaops.platform.views import ActionView
from hexaops.ui.api.deps import PrincipalDep, Services, ServicesDep
from hexaops.ui.api.problems import problem_responses
from hexaops.ui.api.routes.params import OrgSlug
from hexaops.ui.api.turns import TurnEnd

router = APIRouter(prefix="/api/actions", tags=["actions"])
log = logging.getLogger(__name__)
ActionId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Action id.")]


def _request_model(kind: str, params: type[Operation]) -> type[BaseModel]:
    name = "".join(p.capitalize() for p in kind.replace(".", "_").split("_")) + "Request"
    return create_model(
        name,
        __doc__=f"Request the operation `{kind}`.",
        operation=(
            Literal[kind],  # type: ignore[arg-type]
            Field(description="The operation."),
        ),
        params=(params, Field(description="Its parameters.")),
        dry_run=(bool, Field(default=False, description="Plan only; change nothing.")),
        idempotency_key=(
            str | None,
            Field(
                default=None,
                min_length=1,
                max_length=200,
                description="Repeat-safe key: the same key returns the same action.",
            ),
        ),
    )


_REQUESTS = [_request_model(kind, cls) for kind, cls in OPERATIONS.items()]
if TYPE_CHECKING:  # built at import time from the operations: opaque to type checkers
    ActionRequest = Any
else:
    ActionRequest = Annotated[
        functools.reduce(operator.or_, _REQUESTS), Field(discriminator="operation")
    ]


class DecisionIn(BaseModel):
    note: str = Field(default="", max_length=2000, description="Why (kept with the decision).")


class DecisionOut(BaseModel):
    action: ActionView
    resumed_session: str | None = Field(
        description="The agent session that was waiting on this action and now resumes "
        "(its answer arrives as a `session.resumed` notification), if any."
    )


def org_of(view: ActionView) -> str:
    return view.target.split("/", 1)[0]


@router.get(
    "", summary="Actions you can see, newest first", responses=problem_responses(401, 404, 422)
)
def list_actions(
    principal: PrincipalDep,
    services: ServicesDep,
    org: Annotated[str | None, Query(**OrgSlug)] = None,
    status: Annotated[ActionStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[ActionView]:
    return services.platform.list_actions(
        principal, org, None if status is None else status.value, limit
    )


@router.get("/{action_id}", summary="One action", responses=problem_responses(401, 404, 422))
def get_action(action_id: ActionId, principal: PrincipalDep, services: ServicesDep) -> ActionView:
    return services.platform.action(principal, action_id)


@router.post(
    "",
    summary="Request an operation (validated, authorized, planned; run or left pending)",
    description="Low-risk operations run at once; high-risk ones wait (`status: pending`) for "
    "an owner or admin. `dry_run` returns the plan and stores nothing.",
    responses=problem_responses(401, 403, 404, 409, 422, 502),
)
def request_action(
    body: Annotated[ActionRequest, Body()], principal: PrincipalDep, services: ServicesDep
) -> ActionView:
    payload: Any = body
    view = services.platform.submit(
        principal,
        payload.params,
        idempotency_key=payload.idempotency_key,
        dry_run=payload.dry_run,
    )
    if view.status == ActionStatus.PENDING and not view.replayed:
        services.notifier.publish("action.requested", org_of(view), _brief(view))
    return view


@router.post(
    "/{action_id}/approve",
    summary="Approve a pending action (owners and admins); it runs now",
    responses=problem_responses(401, 403, 404, 409, 422, 502),
)
async def approve(
    action_id: ActionId,
    principal: PrincipalDep,
    services: ServicesDep,
    body: Annotated[DecisionIn | None, Body()] = None,
) -> DecisionOut:
    return await _decide(services, principal, action_id, "approved", body or DecisionIn())


@router.post(
    "/{action_id}/reject",
    summary="Reject a pending action (owners and admins); nothing runs",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def reject(
    action_id: ActionId,
    principal: PrincipalDep,
    services: ServicesDep,
    body: Annotated[DecisionIn | None, Body()] = None,
) -> DecisionOut:
    return await _decide(services, principal, action_id, "rejected", body or DecisionIn())


async def _decide(
    services: Services,
    principal: Principal,
    action_id: int,
    decision: Literal["approved", "rejected"],
    body: DecisionIn,
) -> DecisionOut:
    decide = services.platform.approve if decision == "approved" else services.platform.reject
    view = await run_in_threadpool(decide, principal, action_id, body.note)
    services.metrics.approvals.labels(decision).inc()
    services.notifier.publish(
        "action.approved" if decision == "approved" else "action.rejected",
        org_of(view),
        _brief(view) | {"decided_by": principal.id, "note": body.note},
    )
    session = await _resume_waiting_session(services, principal, view)
    return DecisionOut(action=view, resumed_session=session)


def _brief(view: ActionView) -> dict[str, Any]:
    return {
        "action_id": view.id,
        "operation": view.operation,
        "target": view.target,
        "status": view.status,
        "summary": view.summary,
        "requested_by": view.requested_by,
    }


async def _resume_waiting_session(
    services: Services, principal: Principal, view: ActionView
) -> str | None:
    """Start the follow-up turn of the agent session waiting on `view`, if any. The decision
    stands either way; a failed follow-up is logged and can be resumed by hand."""
    if not (view.idempotency_key or "").startswith("tool:"):
        return None  # not requested by an agent
    try:
        session = await run_in_threadpool(services.agents.waiting_on, principal, view)
        if session is None:
            return None
        turn = await services.turns.open_turn(principal, session)
        decision = {
            "decision": "reject" if view.status == ActionStatus.REJECTED else "approve",
            "note": view.decision_note,
        }
        events = await services.turns.run(
            turn, "resume", lambda emit: turn.aresume_into(emit, decision)
        )
    except PlatformError as exc:
        log.warning("action %s decided, its session did not resume: %s", view.id, exc.message)
        return None

    async def follow() -> None:
        async for item in events:
            if isinstance(item, TurnEnd):
                doc = item.document
                services.notifier.publish(
                    "session.resumed",
                    org_of(view),
                    {
                        "session_id": doc["session_id"],
                        "action_id": view.id,
                        "answer": doc["answer"],
                        "pending": doc["pending"],
                        "error": doc["error"],
                    },
                )

    services.turns.spawn(follow())
    return session
