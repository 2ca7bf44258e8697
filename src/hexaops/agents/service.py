"""Agent sessions: ask, stream the turn as events, stop for approvals, resume — across restarts.

A session is a LangGraph thread checkpointed in PostgreSQL (the platform database, in its own
schema `agent_sessions`, outside the platform's Alembic metadata). It belongs to the
organization of the principal who started it: anyone else is told it does not exist.

A turn runs in the caller's thread (`ask_into`; `ask` streams it from a thread of its own) or
as a task on the running event loop (`aask_into`, as the API runs it): the same graph, the same
events. Either way it is prepared (reads, checks) before anything streams.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final

from langchain.agents.middleware import AgentMiddleware
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.errors import GraphRecursionError
from langgraph.types import Command, Durability, Interrupt
from pydantic import ValidationError

from hexaops.agents.accounting import UsageStore, save_usage, turn_usage
from hexaops.agents.approvals import APPROVER_ROLES, AutomationPolicy, Decision
from hexaops.agents.checkpoints import open_checkpointer
from hexaops.agents.context import AgentContext, Budgets, TurnUsage
from hexaops.agents.events import (
    AgentEvent,
    Answer,
    ApprovalRequested,
    Error,
    Notice,
    TurnEnd,
    update_events,
)
from hexaops.agents.graph import build_agent_graph
from hexaops.agents.guardrails import budgets_from_settings, guardrail_middleware
from hexaops.agents.providers import build_chat_model
from hexaops.agents.quoting import unquote_tool_result
from hexaops.agents.streaming import Emit, TokenStream, pulled
from hexaops.platform.core import Platform
from hexaops.platform.domain import Principal
from hexaops.platform.errors import Forbidden, InvalidInput, NotFound, PlatformError
from hexaops.platform.views import ActionView
from hexaops.settings import Settings
from hexaops.tools.context import ToolContext

SCHEMA: Final = "agent_sessions"
MAX_MESSAGE_CHARS: Final = 8000  # a question longer than this is a paste, not a question


def check_message(text: str) -> None:
    """Refuse a message the agents should not get: empty, or longer than MAX_MESSAGE_CHARS."""
    if not text.strip():
        raise InvalidInput("the message is empty: ask a question or describe a change")
    if len(text) > MAX_MESSAGE_CHARS:
        raise InvalidInput(
            f"the message has {len(text):,} characters; the limit is {MAX_MESSAGE_CHARS:,}: "
            "shorten it or send the essentials (e.g. the error lines, not the whole log)"
        )


class AgentService:
    """The agent team for every interface (CLI, chat, Slack): one compiled graph, many sessions."""

    def __init__(
        self,
        settings: Settings,
        platform: Platform,
        *,
        model: BaseChatModel | None = None,
        middleware: Sequence[AgentMiddleware[Any, Any]] | None = None,
        policies: Sequence[AutomationPolicy] = (),
        budgets: Budgets | None = None,
        resources: dict[str, Any] | None = None,  # shared tool clients (e.g. telemetry)
        durability: Durability = "exit",
    ) -> None:
        self.settings, self.platform = settings, platform
        choice = build_chat_model(settings) if model is None else None
        self.provider = choice.provider if choice else "custom"
        self.model_name = choice.model if choice else type(model).__name__
        self.budgets = budgets or budgets_from_settings(settings)
        self.usage = UsageStore.of(platform)
        # "exit": a turn is checkpointed when it ends or stops for an approval, not after every
        # step — a chat turn is the unit of work (a turn cut short by a crash is asked again; the
        # writes it requested are platform actions, recorded by the platform either way).
        self.durability: Durability = durability
        if middleware is None:  # the product's default: redaction, budgets, accounting
            middleware = guardrail_middleware(platform, settings, self.usage)
        self._resources = resources or {}
        # Without the disk flush (a third of a turn's checkpoint write), only a crash of
        # PostgreSQL right after a turn can lose its checkpoint: the session resumes from the
        # turn before, and the turn's writes, platform actions, were committed with the flush.
        self._conn, self.checkpointer = open_checkpointer(
            platform, SCHEMA, synchronous_commit=False
        )
        self.graph = build_agent_graph(
            model or choice.chat_model,  # type: ignore[union-attr]
            middleware=middleware,
            policies=policies,
            checkpointer=self.checkpointer,
        )

    def close(self) -> None:
        self.usage.flush()
        self._conn.close()

    def __enter__(self) -> AgentService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- turns ---------------------------------------------------------------------------

    def ask(
        self,
        principal: Principal,
        text: str,
        session_id: str | None = None,
        *,
        turn_id: str | None = None,
        new_session: bool = False,
    ) -> Iterator[AgentEvent]:
        """Run one turn on a thread of its own and stream its events (see `ask_into`)."""
        return pulled(
            lambda emit: self.ask_into(
                emit, principal, text, session_id, turn_id=turn_id, new_session=new_session
            )
        )

    def resume(
        self,
        principal: Principal,
        session_id: str,
        decision: dict[str, Any],
        *,
        turn_id: str | None = None,
    ) -> Iterator[AgentEvent]:
        """Decide the pending approval on a thread of its own and stream the events (see
        `resume_into`)."""
        return pulled(
            lambda emit: self.resume_into(emit, principal, session_id, decision, turn_id=turn_id)
        )

    def ask_into(
        self,
        emit: Emit,
        principal: Principal,
        text: str,
        session_id: str | None = None,
        *,
        turn_id: str | None = None,
        new_session: bool = False,
    ) -> None:
        """Run one turn in this thread, handing each event to `emit` as it happens; the events
        end with the turn's Usage, then an Answer, an ApprovalRequested or an Error.
        `new_session`: `session_id` is a fresh id the caller made up (a random one) for a new
        session — nothing is read back. Raises InvalidInput for an empty or oversized message
        and NotFound for a session the principal may not see (before anything runs)."""
        start = self._asking(principal, text, session_id, new_session)
        if isinstance(start, Error):
            emit(start)
            return
        self._play(emit, start, turn_id)

    async def aask_into(
        self,
        emit: Emit,
        principal: Principal,
        text: str,
        session_id: str | None = None,
        *,
        turn_id: str | None = None,
        new_session: bool = False,
    ) -> None:
        """`ask_into` on the running event loop (the API's): the turn is a task, not a thread;
        its blocking parts (database reads, sync tools, checkpoints) go to worker threads.
        `emit` is called on the loop."""
        start = await asyncio.to_thread(self._asking, principal, text, session_id, new_session)
        if isinstance(start, Error):
            emit(start)
            return
        await self._aplay(emit, start, turn_id)

    def resume_into(
        self,
        emit: Emit,
        principal: Principal,
        session_id: str,
        decision: dict[str, Any],
        *,
        turn_id: str | None = None,
    ) -> None:
        """Decide the pending approval as `principal` (approve, reject or edit) and go on, in
        this thread, handing each event to `emit`.

        A pending platform action (the request has an `action_id`) is decided by an owner or
        admin only: anyone else gets Forbidden and the session keeps waiting. When the action
        was already decided elsewhere, any decision just lets the session continue with it."""
        self._play(emit, self._resuming(principal, session_id, decision), turn_id)

    async def aresume_into(
        self,
        emit: Emit,
        principal: Principal,
        session_id: str,
        decision: dict[str, Any],
        *,
        turn_id: str | None = None,
    ) -> None:
        """`resume_into` on the running event loop (see `aask_into`)."""
        start = await asyncio.to_thread(self._resuming, principal, session_id, decision)
        await self._aplay(emit, start, turn_id)

    def _asking(
        self, principal: Principal, text: str, session_id: str | None, new_session: bool
    ) -> _Start | Error:
        """A question's turn, ready to run — or why it cannot run now."""
        check_message(text)
        session = session_id or uuid.uuid4().hex
        new = session_id is None or new_session
        update: dict[str, Any] = {"messages": [HumanMessage(text)]}
        tools = self._tools(principal)  # shares the principal's organizations with the tools
        try:
            state = None if new else self.graph.get_state(self._config(session))
            if state is not None and state.values:
                values = dict(state.values)
                org = self._require_access(principal, session, values, tools.organizations())
                if state.interrupts:
                    tools.close()
                    return Error(message=f"session {session} waits for an approval decision first")
            else:
                org = self._org_of(tools)
                update |= {"org": org, "started_by": principal.id}
                if new:  # a made-up id: nothing stored to read back
                    self.usage.started(session)
                    self.checkpointer.new_thread(session)
        except BaseException:
            tools.close()
            raise
        return _Start(tools, session, update, org, None, self._before(org, session))

    def _resuming(self, principal: Principal, session_id: str, decision: dict[str, Any]) -> _Start:
        """A decision's turn, ready to run (raises when the decision cannot be taken)."""
        state = self.graph.get_state(self._config(session_id))
        org = self._require_access(principal, session_id, dict(state.values))
        pending = list(state.interrupts)
        if not pending:
            raise InvalidInput(f"session {session_id} has no pending approval")
        try:
            value = Decision.model_validate({**decision, "by": principal.id}).model_dump()
        except ValidationError as exc:
            raise InvalidInput(f"invalid decision: {exc.errors()[0]['msg']}") from None
        first = pending[0]
        action_id = first.value.get("action_id")
        if action_id is not None:
            view = self.platform.action(principal, int(action_id))
            org = str(first.value.get("org", ""))
            if view.status == "pending" and not self.may_approve(principal, org):
                raise Forbidden(
                    f"{principal.id} cannot decide action #{action_id} ({view.operation} on "
                    f"{view.target}): it waits for an owner or admin of {org} "
                    f"(hexaops platform actions approve {action_id}); nothing was run"
                )
        # The write runs as whoever asked for it; the decider only approves.
        requester = self.platform.user(str(first.value.get("requested_by", principal.id)))
        resume: Command[Any] = Command(resume={first.id: value})
        specialist = state.values.get("specialist")
        before = self._before(org, session_id)
        return _Start(self._tools(requester), session_id, resume, org, specialist, before)

    def may_approve(self, principal: Principal, org: str) -> bool:
        """Whether `principal` is an owner or admin of `org` (may decide its pending actions)."""
        try:
            members = self.platform.members(principal, org)
        except PlatformError:
            return False
        return any(m.email == principal.id and m.role in APPROVER_ROLES for m in members)

    def waiting_on(self, principal: Principal, action: ActionView) -> str | None:
        """The session whose pending approval is platform action `action`, if one waits on it.
        An agent's write carries the idempotency key `tool:{session_id}/{tool_call_id}`."""
        key = action.idempotency_key or ""
        if not key.startswith("tool:") or "/" not in key:
            return None
        session_id = key.removeprefix("tool:").split("/", 1)[0]
        values = self._values(session_id)
        try:
            self._require_access(principal, session_id, values)
        except NotFound:
            return None
        for found in self._interrupts(session_id):
            if found.value.get("action_id") == action.id:
                return session_id
        return None

    def message_count(self, principal: Principal, session_id: str) -> int:
        """How many messages the session holds (0 for a new one): mark where a turn starts."""
        values = self._values(session_id)
        return len(values.get("messages", [])) if values else 0

    def tool_results(
        self, principal: Principal, session_id: str, after: int = 0
    ) -> list[dict[str, Any]]:
        """The session's tool results (status, summary, data, evidence) from message `after` on."""
        values = self._values(session_id)
        self._require_access(principal, session_id, values)
        out = []
        for m in values.get("messages", [])[after:]:
            if isinstance(m, ToolMessage):
                fields = unquote_tool_result(str(m.content))
                if fields is not None:
                    out.append(fields)
        return out

    def pending(self, principal: Principal, session_id: str) -> ApprovalRequested | None:
        self._require_access(principal, session_id, self._values(session_id))
        found = self._interrupts(session_id)
        if not found:
            return None
        return ApprovalRequested(
            session_id=session_id, interrupt_id=found[0].id, request=dict(found[0].value)
        )

    def history(self, principal: Principal, session_id: str) -> list[dict[str, str]]:
        """The conversation: questions and answers (tool traffic left out)."""
        values = self._values(session_id)
        self._require_access(principal, session_id, values)
        out = []
        for m in values.get("messages", []):
            if isinstance(m, HumanMessage):
                out.append({"role": "user", "text": m.text})
            elif isinstance(m, AIMessage) and not m.tool_calls and m.text:
                out.append({"role": "assistant", "text": m.text})
        return out

    # -- internals -----------------------------------------------------------------------

    def _config(self, session_id: str) -> RunnableConfig:
        return {"configurable": {"thread_id": session_id}, "recursion_limit": 50}

    def _values(self, session_id: str) -> dict[str, Any]:
        return dict(self.graph.get_state(self._config(session_id)).values)

    def _interrupts(self, session_id: str) -> list[Interrupt]:
        return list(self.graph.get_state(self._config(session_id)).interrupts)

    def _tools(self, principal: Principal) -> ToolContext:
        """The tools' context of one turn as `principal` (closed when the turn ends)."""
        return ToolContext.for_settings(
            self.platform, principal, self.settings, resources=dict(self._resources)
        )

    def _org_of(self, tools: ToolContext) -> str:
        orgs = tools.organizations()
        if not orgs:
            raise NotFound(f"{tools.principal.id} belongs to no organization")
        return orgs[0]

    def _require_access(
        self,
        principal: Principal,
        session_id: str,
        values: dict[str, Any],
        orgs: Sequence[str] | None = None,
    ) -> str:
        """The session's organization, if `principal` is in it (its organizations: `orgs` when
        the caller has read them); else the session is not found."""
        if orgs is None:
            orgs = self.platform.organization_slugs(principal)
        org = values.get("org") if values else None
        if org not in orgs:
            raise NotFound(f"session {session_id} not found")
        return str(org)

    def _play(self, emit: Emit, start: _Start, turn_id: str | None) -> None:
        """Run the turn in this thread, emitting its events; they end with its Usage, then an
        Answer, an ApprovalRequested or an Error."""
        with _Run(emit, start, self._context(start, turn_id), self) as run:
            for update in self.graph.stream(start.payload, **run.options):
                run.fold(update)

    async def _aplay(self, emit: Emit, start: _Start, turn_id: str | None) -> None:
        """`_play` on the running event loop."""
        with _Run(emit, start, self._context(start, turn_id), self) as run:
            async for update in self.graph.astream(start.payload, **run.options):
                run.fold(update)

    def _context(self, start: _Start, turn_id: str | None) -> AgentContext:
        return AgentContext(
            tools=start.tools,
            session_id=start.session_id,
            turn_id=turn_id or uuid.uuid4().hex,
            provider=self.provider,
            model=self.model_name,
            budgets=self.budgets,
            org=start.org,
            usage=TurnUsage(saved_by_owner=True, before=start.before),
        )

    def _before(self, org: str, session_id: str) -> tuple[int, int]:
        """The budgets' starting point, read while the turn is prepared (off the event loop):
        the session's tokens and the organization's today, mostly from the kept totals."""
        return self.usage.usage_before_turn(org=org, session_id=session_id)


@dataclass(frozen=True)
class _Start:
    """A turn ready to run: the graph's input and whom its tools run as."""

    tools: ToolContext
    session_id: str
    payload: Any  # the question's state update, or the decision's Command
    org: str
    specialist: str | None  # who answered before, for a resumed turn
    before: tuple[int, int]  # tokens of the session, and of the organization today


class _Run:
    """One run of the graph for a turn, whichever way it is driven (`graph.stream` or
    `astream`): the options it runs with, the events of each update (`fold`), and its end —
    the usage saved and the tools closed whatever happens, then the Usage and the last event
    (an expected failure becomes an Error event; anything else propagates)."""

    def __init__(
        self, emit: Emit, start: _Start, context: AgentContext, service: AgentService
    ) -> None:
        self.emit, self.start, self.context, self.usage = emit, start, context, service.usage
        self.end = TurnEnd()
        self.options: dict[str, Any] = {
            "config": service._config(start.session_id) | {"callbacks": [TokenStream(emit)]},
            "context": context,
            "stream_mode": "updates",
            "durability": service.durability,
        }

    def __enter__(self) -> _Run:
        return self

    def fold(self, update: dict[str, Any]) -> None:
        self.end.update(update)
        for event in update_events(update):
            if not isinstance(event, Notice) or self.end.first_time(event):
                self.emit(event)

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool:
        try:
            if exc is None:
                final = self._final()
            elif isinstance(exc, PlatformError):  # incl. ProviderUnavailable / ProviderRejected
                final = Error(message=exc.message)
            elif isinstance(exc, GraphRecursionError):
                final = Error(message="the turn took too many steps; ask a narrower question")
            else:
                return False
        finally:  # also what a stop for approval (or a failure) left
            save_usage(self.usage, self.context)
            self.context.tools.close()
        self.emit(turn_usage(self.context.usage))
        self.emit(final)
        return True

    def _final(self) -> AgentEvent:
        """The turn's last event: the approval it stopped for, or its answer."""
        end, start = self.end, self.start
        if end.interrupts:
            first = end.interrupts[0]
            return ApprovalRequested(
                session_id=start.session_id, interrupt_id=first.id, request=dict(first.value)
            )
        return Answer(
            text=end.last.text if end.last is not None else "",
            specialist=end.specialist if end.routed else start.specialist,
            session_id=start.session_id,
        )
