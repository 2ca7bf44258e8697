"""Approvals: every write an agent proposes waits for a person (or an automation policy).

`ApprovalMiddleware.wrap_tool_call` intercepts write tools (metadata `writes=True`):

1. plan the call as a dry run (nothing changes); a call the platform refuses comes back as
   the error result, without asking anyone;
2. if an automation policy of the organization (given to the middleware, or stored with
   `hexaops policies set`) covers the action, run it as requested;
3. a write the platform would leave pending for an owner or admin anyway (not low risk) is
   requested for real: the platform records a PENDING action (nothing runs before approval),
   and the interrupt carries its `action_id`, so it can also be decided with
   `hexaops platform actions approve|reject ID`; the action's state is the truth when the
   session resumes (decided elsewhere: the session continues with its result);
4. a low-risk write waits as a dry-run plan for the requester's own confirmation;
5. `interrupt(request)` — the session stops until someone resumes it with
   `{"decision": "approve" | "reject" | "edit", "by": EMAIL, "args": {...}, "note": "..."}`;
   approve/edit runs (or approves) the write, reject leaves everything unchanged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from langchain.agents.middleware import AgentMiddleware
from langchain_core.messages import ToolMessage
from langgraph.prebuilt.tool_node import ToolCallRequest
from langgraph.types import Command, interrupt
from pydantic import BaseModel, ConfigDict, Field, field_validator

from hexaops.agents.context import AgentContext
from hexaops.agents.hooks import Flow, adrive, drive
from hexaops.agents.quoting import quote_tool_result, unquote_tool_result
from hexaops.agents.toolkit import scoped_call_id
from hexaops.platform.errors import PlatformError
from hexaops.platform.views import ActionView
from hexaops.tools.contract import ToolResult, run_tool

APPROVER_ROLES = ("owner", "admin")


class Decision(BaseModel):
    """How a person resumes a session waiting for approval."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "reject", "edit"]
    by: str = Field(description="Email of the person deciding (set by the service, not typed)")
    args: dict[str, Any] = Field(default_factory=dict, description="edit: arguments to change")
    note: str = ""


# -- automation policies -----------------------------------------------------------------------


class AutomationRule(BaseModel):
    """One operation kind an organization lets the agents run without asking, within bounds."""

    model_config = ConfigDict(extra="forbid")

    operation: str  # a platform operation kind, e.g. application.restart
    max_per_window: int | None = None  # at most this many such actions in the org per window
    window_minutes: int = 10
    within_hpa_max: bool = False  # application.scale: only autoscaled apps, up to the HPA max
    business_hours_only: bool = False  # only inside the policy's business hours

    @field_validator("operation")
    @classmethod
    def _never_deletes(cls, value: str) -> str:
        # Deleting a pod only recreates it (its Deployment owns it); every other delete loses
        # something, so no policy may pre-approve one.
        if value.endswith(".delete") and value != "pod.delete":
            raise ValueError(f"{value}: automation policies never pre-approve deletes")
        return value


class BusinessHours(BaseModel):
    """When people are at work (UTC): rules marked business_hours_only apply only then."""

    model_config = ConfigDict(extra="forbid")

    days: list[int] = Field(default=[0, 1, 2, 3, 4], description="0 = Monday … 6 = Sunday")
    start_hour: int = Field(default=9, ge=0, le=23)
    end_hour: int = Field(default=18, ge=1, le=24)

    @field_validator("days")
    @classmethod
    def _days(cls, value: list[int]) -> list[int]:
        if not value or any(d < 0 or d > 6 for d in value):
            raise ValueError("days are 0 (Monday) … 6 (Sunday), at least one")
        return sorted(set(value))

    def contains(self, when: datetime) -> bool:
        at = _aware(when).astimezone(UTC)
        return at.weekday() in self.days and self.start_hour <= at.hour < self.end_hour


class AutomationPolicy(BaseModel):
    """What an organization pre-approves: allow-listed operation kinds with bounds. Everything
    else waits for a person. Organizations store theirs with `hexaops policies set`; alert
    remediation (hexaops.incidents) and the agents' approvals both consult it."""

    model_config = ConfigDict(extra="forbid")

    name: str
    org: str  # organization slug the policy belongs to
    rules: list[AutomationRule]
    business_hours: BusinessHours | None = None

    def covers(
        self,
        view: ActionView,
        args: dict[str, Any],
        recent: Callable[[], list[ActionView]],
        application: Callable[[], dict[str, Any] | None],
        now: datetime | None = None,
    ) -> tuple[bool, str]:
        """Whether the planned action is inside the policy, and why (not). `now` is the
        platform's time (business hours); the rate window counts actions by wall time."""
        if view.target.split("/", 1)[0] != self.org:
            return False, f"policy {self.name} is for {self.org}"
        rule = next((r for r in self.rules if r.operation == view.operation), None)
        if rule is None:
            return False, f"{view.operation} is not in policy {self.name}"
        if rule.business_hours_only:
            hours = self.business_hours or BusinessHours()
            if not hours.contains(now or datetime.now(UTC)):
                return False, (
                    f"policy {self.name} allows {view.operation} in business hours only "
                    f"(days {hours.days}, {hours.start_hour}:00–{hours.end_hour}:00 UTC)"
                )
        if rule.within_hpa_max:
            hpa = (application() or {}).get("autoscaling")
            wanted = args.get("replicas")
            if not hpa or not isinstance(wanted, int) or wanted > hpa["max_replicas"]:
                return False, f"policy {self.name} scales autoscaled apps up to their HPA max only"
        if rule.max_per_window is not None:
            since = datetime.now(UTC) - timedelta(minutes=rule.window_minutes)
            done = [
                a
                for a in recent()
                if a.operation == view.operation
                and a.status != "rejected"
                and a.created_at is not None
                and _aware(a.created_at) >= since
            ]
            if len(done) >= rule.max_per_window:
                return False, (
                    f"policy {self.name} allows {rule.max_per_window} {view.operation} per "
                    f"{rule.window_minutes} min; {len(done)} already ran"
                )
        return True, f"pre-approved by automation policy {self.name}"


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


_ToolOutcome = ToolMessage | Command[Any]
_ToolFlow = Flow[ToolCallRequest, _ToolOutcome, _ToolOutcome]


# -- the middleware ----------------------------------------------------------------------------


class ApprovalMiddleware(AgentMiddleware[Any, AgentContext]):
    """Dry-run, then ask a person (or an automation policy) before any write tool runs."""

    def __init__(self, policies: Sequence[AutomationPolicy] = ()) -> None:
        super().__init__()
        self.policies = tuple(policies)

    def wrap_tool_call(
        self,
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], ToolMessage | Command[Any]],
    ) -> ToolMessage | Command[Any]:
        if not _writes(request):
            return handler(request)
        return drive(self._approve(request), handler)

    async def awrap_tool_call(
        self,
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], Awaitable[ToolMessage | Command[Any]]],
    ) -> ToolMessage | Command[Any]:
        if not _writes(request):
            return await handler(request)
        # The approval's bookkeeping (dry run, policies, actions) reads the database: its steps
        # run on worker threads, the tool itself on the loop.
        return await adrive(self._approve(request), handler, offload=True)

    def _approve(self, request: ToolCallRequest) -> _ToolFlow:
        """A write tool's call: dry run, then pre-approval by a policy, or a person's decision
        (a LangGraph interrupt), then the call — or the pending platform action's outcome."""
        call = request.tool_call
        args = {k: v for k, v in call["args"].items() if k != "dry_run"}
        context = request.runtime.context
        if not isinstance(context, AgentContext):
            raise TypeError("ApprovalMiddleware needs the AgentContext as runtime context")

        # A resumed node runs again from the top: an action this call already requested is
        # the truth (it may have been approved and run meanwhile, so planning again would lie).
        requested = _requested(context, call["id"] or "")
        if requested is None:
            planned = run_tool(context.tools, call["name"], {**args, "dry_run": True})
            if planned.status == "error":
                return _message(request, planned)
            view = ActionView.model_validate(action_data(planned.data))
            covered, why = self._automation(context, view, args)
            if covered:
                return (yield request)
            if view.risk != "low":
                # The platform keeps it pending for an owner or admin anyway: request it for
                # real (nothing runs before approval) so it shows up as a platform action.
                result = yield request
                requested = _pending_action(result)
                if requested is None:
                    return result
        else:
            why = None
        if requested is not None:
            return self._await_action(context, request, args, requested, why)

        raw = interrupt(_approval_request(context, call["name"], call["id"] or "", args, view, why))
        decision = Decision.model_validate(raw)
        if decision.decision == "reject":
            return _rejected(request, decision, view)
        if decision.decision == "edit":
            args = {**args, **{k: v for k, v in decision.args.items() if k != "dry_run"}}
            request = request.override(tool_call={**call, "args": args})
        result = yield request
        return _approve_if_pending(context, request, result, decision)

    def _await_action(
        self,
        context: AgentContext,
        request: ToolCallRequest,
        args: dict[str, Any],
        action: ActionView,
        automation: str | None,
    ) -> ToolMessage:
        """Wait for a decision on a pending platform action; its state is the truth."""
        call = request.tool_call
        if action.status == "pending":
            payload = _approval_request(
                context, call["name"], call["id"] or "", args, action, automation
            )
            raw = interrupt({**payload, "action_id": action.id})
            decision = Decision.model_validate(raw)
            assert action.id is not None
            current = context.platform.action(context.principal, action.id)
            if current.status == "pending":
                return self._decide(context, request, args, current, decision)
            action = current  # decided elsewhere (hexaops platform actions approve/reject)
        return _message(request, _outcome(call["name"], action))

    def _decide(
        self,
        context: AgentContext,
        request: ToolCallRequest,
        args: dict[str, Any],
        action: ActionView,
        decision: Decision,
    ) -> ToolMessage:
        platform, name = context.platform, request.tool_call["name"]
        assert action.id is not None
        decider = platform.user(decision.by)
        try:
            if decision.decision == "reject":
                platform.reject(decider, action.id, decision.note)
                return _rejected(request, decision, action)
            if decision.decision == "edit":
                note = decision.note or "replaced by an edited request"
                platform.reject(decider, action.id, note)
                edited = {**args, **{k: v for k, v in decision.args.items() if k != "dry_run"}}
                call_id = (
                    f"{scoped_call_id(context.session_id, request.tool_call['id'] or '')}~edit"
                )
                result = run_tool(context.tools, name, edited, call_id=call_id)
                fresh = _pending_view(result.data)
                if result.status == "error" or fresh is None or fresh.id is None:
                    return _message(request, result)
                action = fresh
            done = platform.approve(decider, _id(action), decision.note)
        except PlatformError as exc:  # e.g. the decider lost the role, or it no longer applies
            current = platform.action(context.principal, _id(action))
            if current.status != "pending":
                return _message(request, _outcome(name, current))
            return _message(
                request,
                ToolResult(
                    tool=name,
                    status="ok",
                    data=current.model_dump(mode="json"),
                    summary=f"action #{action.id} {action.operation} on {action.target} still "
                    f"waits for approval ({decision.by}: {exc.message}); an owner or admin can "
                    f"run: hexaops platform actions approve {action.id}",
                ),
            )
        return _message(request, _outcome(name, done))

    def _automation(
        self, context: AgentContext, view: ActionView, args: dict[str, Any]
    ) -> tuple[bool, str | None]:
        org = view.target.split("/", 1)[0]
        platform, principal = context.platform, context.principal

        def recent() -> list[ActionView]:
            return platform.list_actions(principal, org, limit=200)

        def application() -> dict[str, Any] | None:
            parts = view.target.split("/")
            if len(parts) != 4:
                return None
            apps = platform.applications(principal, parts[1], parts[2], org)
            found = next((a for a in apps if a.name == parts[3]), None)
            return None if found is None else found.model_dump()

        reasons = []
        for policy in [*self.policies, *_stored(context, org)]:
            if policy.org != org:
                continue
            now = context.tools.now() if _timed(policy) else None  # business hours: platform time
            covered, why = policy.covers(view, args, recent, application, now)
            if covered:
                return True, why
            reasons.append(why)
        return False, "; ".join(reasons) or None


def _writes(request: ToolCallRequest) -> bool:
    """Whether the call is a write that needs approval (a dry run is only a plan)."""
    tool, args = request.tool, request.tool_call["args"]
    return (
        tool is not None and bool((tool.metadata or {}).get("writes")) and not args.get("dry_run")
    )


def _timed(policy: AutomationPolicy) -> bool:
    return any(r.business_hours_only for r in policy.rules)


def _stored(context: AgentContext, org: str) -> list[AutomationPolicy]:
    """The organization's policy stored with `hexaops policies set`, if any."""
    from hexaops.incidents.policies import stored_policy  # incidents builds on this module

    found = stored_policy(context.platform.engine, org)
    return [] if found is None else [found]


def _approval_request(
    context: AgentContext,
    tool: str,
    call_id: str,
    args: dict[str, Any],
    view: ActionView,
    automation: str | None,
) -> dict[str, Any]:
    """The interrupt payload: everything a person needs to decide, as plain JSON."""
    org = view.target.split("/", 1)[0]
    try:
        members = context.platform.members(context.principal, org)
        approvers = [m.email for m in members if m.role in APPROVER_ROLES]
    except PlatformError:
        approvers = []
    return {
        "kind": "approval",
        "tool": tool,
        "tool_call_id": call_id,
        "action": view.operation,
        "target": view.target,
        "risk": view.risk,
        "summary": view.summary,
        "changes": view.plan.get("changes", []),
        "args": args,
        "org": org,
        "requested_by": context.principal.id,
        "approvers": approvers,
        "automation": automation,  # why no automation policy pre-approved it (None: no policy)
        "decisions": ["approve", "reject", "edit"],
    }


def _approve_if_pending(
    context: AgentContext,
    request: ToolCallRequest,
    result: ToolMessage | Command[Any],
    decision: Decision,
) -> ToolMessage | Command[Any]:
    """The person approved in the chat: if the platform keeps the action pending for an owner
    or admin, and that person is one, their approval is the platform's approval too."""
    if not isinstance(result, ToolMessage):
        return result
    fields = unquote_tool_result(str(result.content))
    data = (fields or {}).get("data")
    if not isinstance(data, dict) or data.get("status") != "pending" or data.get("id") is None:
        return result
    action_id = int(data["id"])
    platform = context.platform
    try:
        view = platform.approve(platform.user(decision.by), action_id, decision.note)
    except PlatformError as exc:
        return _message(
            request,
            ToolResult(
                tool=request.tool_call["name"],
                status="ok",
                data=data,
                summary=f"action #{action_id} {data.get('operation')} on {data.get('target')} waits "
                f"for approval by an owner or admin ({decision.by} cannot approve it: {exc.message}); "
                f"they can run: hexaops platform actions approve {action_id}",
            ),
        )
    outcome = {"succeeded": "done", "failed": f"failed: {view.error}"}.get(view.status, view.status)
    return _message(
        request,
        ToolResult(
            tool=request.tool_call["name"],
            status="ok" if view.status != "failed" else "error",
            data=view.model_dump(mode="json"),
            summary=f"action #{action_id} {view.operation} on {view.target} approved by "
            f"{decision.by}, {outcome}: {view.summary}",
        ),
    )


def _requested(context: AgentContext, tool_call_id: str) -> ActionView | None:
    """The platform action this tool call already requested (its idempotency key), if any."""
    key = f"tool:{scoped_call_id(context.session_id, tool_call_id)}"
    return context.platform.action_by_key(context.principal, key)


def _id(view: ActionView) -> int:
    assert view.id is not None, "a stored action has an id"
    return view.id


def action_data(data: Any) -> Any:
    """The action view in a write tool's result data: the data itself, or its `action` (tools
    that say more than the action, e.g. the image bump's from/to images)."""
    return data.get("action", data) if isinstance(data, dict) else data


def _pending_view(data: Any) -> ActionView | None:
    data = action_data(data)
    if not isinstance(data, dict) or data.get("status") != "pending" or data.get("id") is None:
        return None
    return ActionView.model_validate(data)


def _pending_action(result: ToolMessage | Command[Any]) -> ActionView | None:
    if not isinstance(result, ToolMessage):
        return None
    return _pending_view((unquote_tool_result(str(result.content)) or {}).get("data"))


def _outcome(tool: str, view: ActionView) -> ToolResult:
    """A decided action as the tool's result: who decided and how it ended."""
    head = f"action #{view.id} {view.operation} on {view.target}"
    note = f": {view.decision_note}" if view.decision_note else ""
    if view.status == "rejected":
        summary = (
            f"{head} was rejected{note}; nothing was changed. Do not request it again unless asked."
        )
    elif view.status == "pending":
        summary = f"{head} waits for approval by an owner or admin"
    else:
        outcome = {"succeeded": "done", "failed": f"failed: {view.error}"}.get(
            view.status, view.status
        )
        summary = f"{head} approved by {view.approved_by}, {outcome}: {view.summary}"
    return ToolResult(
        tool=tool,
        status="error" if view.status in ("failed", "rejected") else "ok",
        error_code="rejected" if view.status == "rejected" else None,
        data=view.model_dump(mode="json"),
        summary=summary,
    )


def _rejected(request: ToolCallRequest, decision: Decision, view: ActionView) -> ToolMessage:
    note = f": {decision.note}" if decision.note else ""
    return _message(
        request,
        ToolResult(
            tool=request.tool_call["name"],
            status="error",
            error_code="rejected",
            summary=f"{decision.by} rejected {view.operation} on {view.target}{note}; "
            "nothing was changed. Do not request it again unless asked.",
        ),
    )


def _message(request: ToolCallRequest, result: ToolResult) -> ToolMessage:
    return ToolMessage(
        content=quote_tool_result(result),
        tool_call_id=request.tool_call["id"] or "",
        name=request.tool_call["name"],
        status="error" if result.status == "error" else "success",
    )
