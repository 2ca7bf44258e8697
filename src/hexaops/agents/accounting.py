"""Usage accounting of the agent runs: every model call's tokens and cost, and who may see them.

`UsageRecorder` (middleware) records one row per model call; `UsageStore` answers the budget
checks (turn, session, organization per UTC day) and the usage reports. A principal sees the
usage of its own sessions; owners and admins see their organization's; another organization's
usage is "not found", like everything else of another organization.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Final

from langchain.agents.middleware import AgentMiddleware, ModelRequest, ModelResponse
from langchain.agents.middleware.types import AgentState
from langchain_core.messages import AIMessage
from pydantic import BaseModel
from sqlalchemy import ColumnElement, Engine, false, func, insert, or_, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from hexaops.agents.context import AgentContext, TurnUsage
from hexaops.agents.events import Usage
from hexaops.agents.models import AgentUsage
from hexaops.agents.pricing import OFFLINE_MODEL, Price, cost_usd, usage_of
from hexaops.platform.access import memberships, require_org
from hexaops.platform.core import Platform
from hexaops.platform.domain import Principal, Role
from hexaops.platform.errors import InvalidInput, NotFound

log = logging.getLogger(__name__)

# Who sees every session of an organization (the others see their own sessions only).
_ORG_USAGE_ROLES = frozenset({Role.OWNER, Role.ADMIN})
WRITE_DELAY_SECONDS: Final = 0.2  # queued usage rows are written in one insert this often
TOTALS_SECONDS: Final = 2.0  # how long a read session or organization total is trusted
_MAX_TALLIES: Final = 50_000  # sessions and organization-days whose totals are kept
_MAX_QUEUED: Final = 100_000  # rows kept for a retry while the database is unreachable
_RETRY_PAUSE_SECONDS = 1.0  # after a failed write


def utc_day_start(at: datetime) -> datetime:
    """Midnight UTC of the day `at` falls on: organization budgets are per UTC day."""
    at = at.astimezone(UTC)
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class BudgetTotals:
    """What a turn, its session and its organization (today) have used so far."""

    turn_calls: int = 0
    turn_tokens: int = 0
    session_tokens: int = 0
    org_day_tokens: int = 0


def usage_row(
    *,
    at: datetime,
    org: str | None,
    principal_id: str,
    session_id: str,
    turn_id: str,
    provider: str,
    model: str,
    input_tokens: int,
    output_tokens: int,
    cache_read_tokens: int = 0,
    cost_usd: float | None,
    note: str | None = None,
) -> dict[str, Any]:
    """One `agent_usage` row as `UsageStore.record_many` writes it (long texts cut to fit)."""
    return {
        "at": at,
        "org": org,
        "principal_id": principal_id,
        "session_id": session_id,
        "turn_id": turn_id,
        "provider": provider,
        "model": model[:200],
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_read_tokens": cache_read_tokens,
        "cost_usd": cost_usd,
        "note": None if note is None else note[:300],
    }


class UsageLine(BaseModel):
    """Usage of one model (or the total): `cost_usd` sums the priced calls only."""

    provider: str
    model: str
    calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: float | None
    unpriced_calls: int = 0


class UsageReport(BaseModel):
    """A usage summary as one principal may see it; `notes` say what the cost leaves out."""

    principal: str
    org: str | None
    session_id: str | None
    turn_id: str | None
    since: datetime | None
    by_model: list[UsageLine]
    total: UsageLine
    notes: list[str]


def _write_rows(sessions: sessionmaker[Session], rows: list[dict[str, Any]]) -> None:
    """Insert usage rows in one statement, with asynchronous commit: nobody waits for the WAL
    flush. A crash of PostgreSQL itself may lose the last fraction of a second of usage rows,
    never corrupt them; platform state is never written this way."""
    with sessions.begin() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SET LOCAL synchronous_commit TO OFF"))
        session.execute(insert(AgentUsage), rows)


class UsageWriter:
    """Writes the usage rows of finished turns in the background, many turns in one insert.

    A turn only queues its rows (no database round trip on its path); a thread writes what is
    queued every WRITE_DELAY_SECONDS. One writer per database engine, so every `UsageStore` of a
    process flushes the same queue before it reads (`flush`), and the process writes what is
    left when it exits. What a killed process loses is its last fraction of a second of usage
    rows; rows that fail to write are kept and retried (up to _MAX_QUEUED rows)."""

    _of: ClassVar[weakref.WeakKeyDictionary[Engine, UsageWriter]] = weakref.WeakKeyDictionary()
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self._queue: list[dict[str, Any]] = []
        self._ready = threading.Condition()
        self._writing = threading.Lock()  # held while rows are on their way to the database
        self._thread: threading.Thread | None = None

    @classmethod
    def of(cls, engine: Engine) -> UsageWriter:
        with cls._lock:
            writer = cls._of.get(engine)
            if writer is None:
                writer = cls._of[engine] = cls(sessionmaker(engine, expire_on_commit=False))
            return writer

    def put(self, rows: list[dict[str, Any]]) -> None:
        with self._ready:
            self._queue.extend(rows)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="hexaops-usage-writer", daemon=True
                )
                self._thread.start()
            self._ready.notify()

    def flush(self) -> None:
        """Write everything queued so far (and wait for rows already on their way)."""
        self._write()

    def _run(self) -> None:
        while True:
            with self._ready:
                self._ready.wait_for(lambda: bool(self._queue))
            time.sleep(WRITE_DELAY_SECONDS)  # let more turns' rows join this insert
            self._write()

    def _write(self, *, last: bool = False) -> None:
        with self._writing:
            with self._ready:
                rows, self._queue = self._queue, []
            if not rows:
                return
            try:
                _write_rows(self.sessions, rows)
            except SQLAlchemyError as exc:
                if last:
                    log.warning("could not record %d model usage rows: %s", len(rows), exc)
                    return
                log.warning("could not record %d model usage rows (will retry): %s", len(rows), exc)
                with self._ready:
                    self._queue[:0] = rows[-_MAX_QUEUED:]
                time.sleep(_RETRY_PAUSE_SECONDS)

    @classmethod
    def flush_all(cls) -> None:
        """At exit: one last try to write what every writer of the process still holds."""
        for writer in list(cls._of.values()):
            writer._write(last=True)


atexit.register(UsageWriter.flush_all)


@dataclass
class _Tally:
    tokens: int
    read_at: float  # time.monotonic() of the database read it starts from


class UsageStore:
    """The `agent_usage` table: records, budget totals and authorized reports.

    The budgets' totals (a session's tokens, an organization's today) are read from the table
    and then kept for TOTALS_SECONDS, counting on top what this process records meanwhile: the
    limits hold to within what other processes spent in the last seconds, and a turn costs no
    aggregate query over a day of usage rows. A new session's total is known to be zero."""

    def __init__(
        self,
        engine: Engine,
        clock: Callable[[], datetime] | None = None,
        *,
        totals_seconds: float = TOTALS_SECONDS,
    ) -> None:
        self.sessions: sessionmaker[Session] = sessionmaker(engine, expire_on_commit=False)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.writer = UsageWriter.of(engine)
        self.totals_seconds = totals_seconds
        self._tallies: OrderedDict[Hashable, _Tally] = OrderedDict()
        self._tally_lock = threading.Lock()

    @classmethod
    def of(cls, platform: Platform) -> UsageStore:
        return cls(platform.engine)

    # -- writes --------------------------------------------------------------------------

    def record(self, **fields: Any) -> None:
        """Write one usage row now, stamped with this store's clock (`usage_row`'s fields but
        `at`)."""
        self.record_many([usage_row(at=self.clock(), **fields)])

    def record_many(self, rows: list[dict[str, Any]]) -> None:
        """Write usage rows (from `usage_row`) now, in one statement."""
        if rows:
            _write_rows(self.sessions, rows)
            self._count(rows)

    def enqueue(self, rows: list[dict[str, Any]]) -> None:
        """Queue usage rows for the background writer (what a turn does when it ends)."""
        if rows:
            self.writer.put(rows)
            self._count(rows)

    def flush(self) -> None:
        """Write the rows queued in this process (reads of the table do this first)."""
        self.writer.flush()

    # -- budgets (no authorization: the run's own turn, session and organization) -------

    def started(self, session_id: str) -> None:
        """A new session: its total is zero, no need to read it."""
        self._keep(("session", session_id), _Tally(0, time.monotonic()))

    def usage_before_turn(self, *, org: str | None, session_id: str) -> tuple[int, int]:
        """Tokens the session has used, and the organization today: read once per turn, from
        the kept totals while they are fresh."""
        now = time.monotonic()
        session_key = ("session", session_id)
        org_key = ("org", org, utc_day_start(self.clock())) if org is not None else None
        with self._tally_lock:
            session = self._fresh(session_key, now)
            org_day = self._fresh(org_key, now) if org_key is not None else 0
        if session is not None and org_day is not None:
            return session, org_day
        totals = self.budget_totals(org=org, session_id=session_id, turn_id="")
        self._keep(session_key, _Tally(totals.session_tokens, now))
        if org_key is not None:
            self._keep(org_key, _Tally(totals.org_day_tokens, now))
        return totals.session_tokens, totals.org_day_tokens

    def _fresh(self, key: Hashable, now: float) -> int | None:
        tally = self._tallies.get(key)
        if tally is None or now - tally.read_at > self.totals_seconds:
            return None
        return tally.tokens

    def _keep(self, key: Hashable, tally: _Tally) -> None:
        with self._tally_lock:
            self._tallies[key] = tally
            self._tallies.move_to_end(key)
            while len(self._tallies) > _MAX_TALLIES:
                self._tallies.popitem(last=False)

    def _count(self, rows: list[dict[str, Any]]) -> None:
        """Add recorded rows to the kept totals they belong to."""
        with self._tally_lock:
            for row in rows:
                tokens = int(row["input_tokens"]) + int(row["output_tokens"])
                keys: list[Hashable] = [("session", row["session_id"])]
                if row["org"] is not None:
                    keys.append(("org", row["org"], utc_day_start(row["at"])))
                for key in keys:
                    tally = self._tallies.get(key)
                    if tally is not None:
                        tally.tokens += tokens

    def budget_totals(self, *, org: str | None, session_id: str, turn_id: str) -> BudgetTotals:
        """Calls and tokens of the turn, tokens of the session and of the organization today,
        as stored (after this process's queued rows are written)."""
        self.flush()
        tokens = AgentUsage.input_tokens + AgentUsage.output_tokens
        in_turn = AgentUsage.turn_id == turn_id
        in_session = AgentUsage.session_id == session_id
        today = utc_day_start(self.clock())
        in_org_day = (
            (AgentUsage.org == org) & (AgentUsage.at >= today) if org is not None else false()
        )
        query = select(
            func.count().filter(in_turn),
            func.coalesce(func.sum(tokens).filter(in_turn), 0),
            func.coalesce(func.sum(tokens).filter(in_session), 0),
            func.coalesce(func.sum(tokens).filter(in_org_day), 0),
        ).where(or_(in_turn, in_session, in_org_day))
        with self.sessions() as session:
            row = session.execute(query).one()
        return BudgetTotals(int(row[0]), int(row[1]), int(row[2]), int(row[3]))

    # -- reports -------------------------------------------------------------------------

    def report(
        self,
        principal: Principal,
        *,
        org: str | None = None,
        session_id: str | None = None,
        turn_id: str | None = None,
        since: datetime | None = None,
    ) -> UsageReport:
        """Usage by model of what `principal` may see, narrowed by org, session, turn, time.

        Raises NotFound for an organization the principal is not in, and for a session or turn
        with no usage it may see (another principal's, another organization's, or unknown).
        """
        self.flush()
        with self.sessions() as session:
            conditions = [_visible(session, principal, org)]
            if session_id is not None:
                conditions.append(AgentUsage.session_id == session_id)
            if turn_id is not None:
                conditions.append(AgentUsage.turn_id == turn_id)
            if since is not None:
                conditions.append(AgentUsage.at >= since)
            rows = session.execute(
                select(
                    AgentUsage.provider,
                    AgentUsage.model,
                    func.count(),
                    func.sum(AgentUsage.input_tokens),
                    func.sum(AgentUsage.output_tokens),
                    func.sum(AgentUsage.cost_usd),
                    func.count().filter(AgentUsage.cost_usd.is_(None)),
                )
                .where(*conditions)
                .group_by(AgentUsage.provider, AgentUsage.model)
            ).all()
        if not rows and (session_id is not None or turn_id is not None):
            what = f"session {session_id!r}" if turn_id is None else f"turn {turn_id!r}"
            raise NotFound(f"no usage of {what} that {principal.id} may see")
        lines = [
            UsageLine(
                provider=provider,
                model=model,
                calls=calls,
                input_tokens=int(tokens_in or 0),
                output_tokens=int(tokens_out or 0),
                cost_usd=None if cost is None else round(float(cost), 6),
                unpriced_calls=unpriced,
            )
            for provider, model, calls, tokens_in, tokens_out, cost, unpriced in rows
        ]
        lines.sort(key=lambda line: (-(line.cost_usd or 0.0), -line.calls, line.model))
        priced = [line.cost_usd for line in lines if line.cost_usd is not None]
        total = UsageLine(
            provider="all",
            model="all",
            calls=sum(line.calls for line in lines),
            input_tokens=sum(line.input_tokens for line in lines),
            output_tokens=sum(line.output_tokens for line in lines),
            cost_usd=round(sum(priced), 6) if priced else None,
            unpriced_calls=sum(line.unpriced_calls for line in lines),
        )
        notes = [
            f"{line.unpriced_calls} call(s) of {line.model} have no known price and are not in "
            "the cost; add the model to HEXAOPS_MODEL_PRICES"
            for line in lines
            if line.unpriced_calls
        ]
        return UsageReport(
            principal=principal.id,
            org=org,
            session_id=session_id,
            turn_id=turn_id,
            since=since,
            by_model=lines,
            total=total,
            notes=notes,
        )


def _visible(session: Session, principal: Principal, org: str | None) -> ColumnElement[bool]:
    """Rows `principal` may see: its own, and every row of organizations it owns or administers
    (narrowed to `org`, which must be one of its organizations)."""
    scopes = [require_org(session, principal, org)] if org else memberships(session, principal)
    admin_of = [s.org.slug for s in scopes if s.role in _ORG_USAGE_ROLES]
    own = AgentUsage.principal_id == principal.id
    if org is not None:
        own = own & (AgentUsage.org == org)
    return or_(own, AgentUsage.org.in_(admin_of)) if admin_of else own


def org_of(context: AgentContext) -> str | None:
    """The organization a run's usage is charged to: the session's, else the principal's only
    (or, for a member of several, first by slug) organization — an automation's is its own."""
    if context.org is None:  # looked up once per turn
        with context.platform.sessions() as session:
            scopes = memberships(session, context.principal)
        context.org = scopes[0].org.slug if scopes else None
    return context.org


def model_of(message: AIMessage, context: AgentContext) -> tuple[str, str]:
    """(provider, model) that actually answered: a fallback answer names the offline planner."""
    metadata = message.response_metadata or {}
    model = str(metadata.get("model_name") or metadata.get("model") or context.model)
    provider = "offline" if model == OFFLINE_MODEL else context.provider
    return provider, model


class UsageRecorder(AgentMiddleware[AgentState[Any], AgentContext, Any]):
    """Records the usage and cost of every model call of a run in `store`.

    It wraps the model call rather than reading state afterwards, so it counts exactly what each
    call returned even when another middleware ends the turn right after it. The turn's
    `TurnUsage` counts them (the budgets read it); the rows go to the store's background writer
    at once, or, when the turn's owner saves them (`saved_by_owner`: the agent service), when
    the turn ends. A failure to write is logged and retried, and does not fail the turn.
    """

    def __init__(self, store: UsageStore, prices: Mapping[str, Price]) -> None:
        super().__init__()
        self.store = store
        self.prices = prices

    def wrap_model_call(
        self,
        request: ModelRequest[AgentContext],
        handler: Callable[[ModelRequest[AgentContext]], ModelResponse[Any]],
    ) -> ModelResponse[Any]:
        response = handler(request)
        self._count(request.runtime.context, response)
        self._save_unless_owned(request.runtime.context)
        return response

    async def awrap_model_call(
        self,
        request: ModelRequest[AgentContext],
        handler: Callable[[ModelRequest[AgentContext]], Awaitable[ModelResponse[Any]]],
    ) -> ModelResponse[Any]:
        response = await handler(request)
        self._count(request.runtime.context, response)
        self._save_unless_owned(request.runtime.context)  # queues: no I/O
        return response

    def _save_unless_owned(self, context: AgentContext) -> None:
        if not context.usage.saved_by_owner:
            save_usage(self.store, context)

    def _count(self, context: AgentContext, response: ModelResponse[Any]) -> None:
        for message in response.result:
            if not isinstance(message, AIMessage):
                continue
            provider, model = model_of(message, context)
            usage = usage_of(message)
            cost = cost_usd(model, usage, self.prices)
            context.usage.add(
                usage_row(
                    at=self.store.clock(),
                    org=org_of(context),
                    principal_id=context.principal.id,
                    session_id=context.session_id,
                    turn_id=context.turn_id,
                    provider=provider,
                    model=model,
                    input_tokens=usage.input_tokens,
                    output_tokens=usage.output_tokens,
                    cache_read_tokens=usage.cache_read_tokens,
                    cost_usd=cost.usd,
                    note=cost.note,
                )
            )


def turn_usage(usage: TurnUsage) -> Usage:
    """The turn's usage event: its calls, tokens and the cost of the priced ones."""
    with usage.lock:
        rows = list(usage.rows)
    priced = [row["cost_usd"] for row in rows if row["cost_usd"] is not None]
    return Usage(
        calls=len(rows),
        input_tokens=sum(int(row["input_tokens"]) for row in rows),
        output_tokens=sum(int(row["output_tokens"]) for row in rows),
        cost_usd=round(sum(priced), 6) if priced else (0.0 if not rows else None),
    )


def save_usage(store: UsageStore, context: AgentContext) -> None:
    """Hand the rows the turn has not saved yet to the background writer."""
    store.enqueue(context.usage.take_unsaved())


def parse_since(text: str, now: datetime) -> datetime:
    """`24h`, `7d`, `90m` before `now`, or an ISO timestamp (UTC when it names no zone)."""
    units = {"m": "minutes", "h": "hours", "d": "days"}
    value = text.strip()
    if value[-1:] in units and value[:-1].isdigit():
        return now - timedelta(**{units[value[-1]]: int(value[:-1])})
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"since {text!r}: give a duration like 24h, 7d, 90m or an ISO time"
        ) from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)
