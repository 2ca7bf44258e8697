"""`hexaops bench agents`: what the agent team costs on top of a bare tool-calling loop.

Runs on a throw-away embedded PostgreSQL with the seeded platform and the sandbox driver. Both
contenders get the same scripted model and the same read tool (`platform_workspaces`):

- **baseline**: a bare `create_agent(model, tools=[platform_workspaces])` loop — no supervisor,
  no middleware, no checkpointer (model → tool → model → answer: 2 model calls);
- **ours**: `AgentService.aask_into` as the API serves it (a task on the event loop, each
  event handed over as it happens) — the team graph (supervisor routing
  to a specialist), guardrail middleware (budgets, usage recording, redaction), approvals,
  PostgreSQL checkpointer, the event stream with tokens (supervisor → specialist → tool →
  answer: 3 model calls).

Three measurements (the issue's goals in parentheses):

1. per-turn overhead with a zero-latency model, one turn at a time (round robin between the
   contenders), beside variants of our graph that add one part at a time (ratio ≤ 1.5×);
2. open-loop load: Poisson arrivals at `rate` turns/s for `seconds` against a model that takes
   `model_seconds` per call; overhead = turn latency (from its scheduled arrival) minus the
   model time (p95 ≤ 200 ms) and lost turns — errors or timeouts (0). The documented full run
   is 100 turns/s for 60 s with a 1 s model;
3. a burst of `burst` sessions released at once (all complete; p95 overhead beside the
   baseline's).

Both contenders run as the API runs a turn: as a task on an event loop (`ainvoke`; for ours
`aask_into`), the model's waits awaited, the sync tools and database calls on the loop's worker
threads. The loads are served by one process per usable CPU (the GIL makes one process one
core); arrivals are spread round robin. (Served on threads instead, a sync LangGraph run makes
a thread pool per run and per tool step: at 100 turns/s the thread starts queue behind one
another and the GIL, which cost seconds of p95.)
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import os
import queue
import random
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any, Final

from langchain.agents import create_agent
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from sqlalchemy import create_engine

from hexaops.agents.accounting import UsageStore
from hexaops.agents.checkpoints import PooledSaver
from hexaops.agents.context import AgentContext
from hexaops.agents.events import AgentEvent, Answer
from hexaops.agents.graph import HANDOFF_PREFIX, build_agent_graph
from hexaops.agents.guardrails import guardrail_middleware
from hexaops.agents.quoting import unquote_tool_result
from hexaops.agents.service import AgentService
from hexaops.agents.toolkit import agent_tools
from hexaops.platform.core import Platform
from hexaops.platform.db.engine import migrate, scratch_postgres, sqlalchemy_url
from hexaops.platform.domain import Principal
from hexaops.platform.drivers.sandbox import SandboxDriver
from hexaops.platform.seed import seed
from hexaops.settings import Settings
from hexaops.tools.context import ToolContext

GOAL_RATIO: Final = 1.5  # ours / baseline, median ms per turn with a zero-latency model
GOAL_P95_OVERHEAD_MS: Final = 200.0  # under open-loop load, beyond the model's time
TOOL: Final = "platform_workspaces"
SPECIALIST: Final = "provisioning"  # has the platform reads
QUESTION: Final = "which workspaces do we have?"
ASKER: Final = "owner@acme.example"
DB_POOL: Final = 20  # database connections per serving process (plus half as many overflow)

Progress = Callable[[str], None]


# -- the scripted model ----------------------------------------------------------------


class BenchModel(BaseChatModel):
    """Deterministic and cheap: as a supervisor (bound to `route_to_*` tools) it routes to the
    provisioning specialist; as an agent it calls `platform_workspaces` once, then answers with
    the tool's status. Each call waits `latency` seconds first (a provider's response time).
    Tools are bound as providers bind them: call arguments on the same model."""

    latency: float = 0.0

    @property
    def _llm_type(self) -> str:
        return "hexaops-bench"

    def bind_tools(
        self, tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool], **_: Any
    ) -> Runnable[LanguageModelInput, AIMessage]:
        names = tuple(t.name for t in tools if isinstance(t, BaseTool))
        return self.bind(bound=names)

    def _generate(
        self, messages: list[BaseMessage], *_: Any, bound: Sequence[str] = (), **__: Any
    ) -> ChatResult:
        if self.latency:
            time.sleep(self.latency)
        return ChatResult(generations=[ChatGeneration(message=_reply(messages, bound))])

    async def _agenerate(
        self, messages: list[BaseMessage], *_: Any, bound: Sequence[str] = (), **__: Any
    ) -> ChatResult:
        if self.latency:
            await asyncio.sleep(self.latency)
        return ChatResult(generations=[ChatGeneration(message=_reply(messages, bound))])


def _reply(messages: list[BaseMessage], bound: Sequence[str]) -> AIMessage:
    usage = {"input_tokens": 40, "output_tokens": 8, "total_tokens": 48}
    if any(n.startswith(HANDOFF_PREFIX) for n in bound):
        return _calling(HANDOFF_PREFIX + SPECIALIST, usage)
    last_human = max(i for i, m in enumerate(messages) if isinstance(m, HumanMessage))
    results = [m for m in messages[last_human:] if isinstance(m, ToolMessage)]
    if not results:
        return _calling(TOOL, usage)
    fields = unquote_tool_result(str(results[-1].content)) or {}
    return AIMessage(
        f"{fields.get('status')}: {fields.get('summary')}",
        id=f"bench-{uuid.uuid4().hex}",
        usage_metadata=usage,
    )


def _calling(name: str, usage: dict[str, int]) -> AIMessage:
    call = uuid.uuid4().hex
    return AIMessage(
        "",
        id=f"bench-{call}",
        tool_calls=[{"name": name, "args": {}, "id": f"call-{call}"}],
        usage_metadata=usage,
    )


# -- contenders: one turn in a new session each ---------------------------------------


@dataclass(frozen=True)
class Contender:
    name: str
    model_calls: int  # per turn, by the script
    turn: Callable[[], Awaitable[None]]  # raises unless the turn ends with the expected answer


def _expect(text: str) -> None:
    if not text.startswith("ok:"):
        raise RuntimeError(f"unexpected answer: {text[:200]!r}")


class _Bench:
    """The seeded platform and the contenders built on it for one model latency."""

    def __init__(self, platform: Platform, settings: Settings) -> None:
        self.platform, self.settings = platform, settings
        self.asker: Principal = platform.user(ASKER)
        self.org = platform.organizations(self.asker)[0].slug
        self.usage = UsageStore.of(platform)
        self._services: list[AgentService] = []

    def close(self) -> None:
        for service in self._services:
            service.close()

    def _context(self, session: str) -> AgentContext:
        """A new session's turn as the service sets it up (its organization known, nothing
        stored to read back)."""
        self.usage.started(session)
        return AgentContext(
            tools=ToolContext.for_settings(self.platform, self.asker, self.settings),
            session_id=session,
            turn_id=uuid.uuid4().hex,
            provider="bench",
            model="bench",
            org=self.org,
        )

    def _invoker(
        self, graph: Any, saver: PooledSaver | None = None
    ) -> Callable[[], Awaitable[None]]:
        checkpointed = saver is not None

        async def turn() -> None:
            session = uuid.uuid4().hex
            context = self._context(session)
            config: dict[str, Any] = {"recursion_limit": 50}
            if saver is not None:
                saver.new_thread(session)
                config["configurable"] = {"thread_id": session}
            try:
                out = await graph.ainvoke(
                    {"messages": [HumanMessage(QUESTION)]},
                    config,
                    context=context,
                    durability="exit" if checkpointed else None,  # as AgentService runs
                )
            finally:
                context.tools.close()
            _expect(out["messages"][-1].text)

        return turn

    def baseline(self, model: BaseChatModel) -> Contender:
        agent = create_agent(model, agent_tools([TOOL]), context_schema=AgentContext)
        return Contender("baseline", 2, self._invoker(agent))

    def service(self, model: BaseChatModel) -> AgentService:
        service = AgentService(self.settings, self.platform, model=model)
        self._services.append(service)
        return service

    def ours(self, model: BaseChatModel) -> Contender:
        service = self.service(model)

        async def turn() -> None:  # as the API's turn runner runs it
            events: list[AgentEvent] = []
            await service.aask_into(events.append, self.asker, QUESTION)
            last = events[-1] if events else None
            if not isinstance(last, Answer):
                raise RuntimeError(f"turn ended with {last!r}")
            _expect(last.text)

        return Contender("ours", 3, turn)

    def variants(self, model: BaseChatModel) -> list[Contender]:
        """Our graph one part at a time, to see what costs what."""
        guardrails = guardrail_middleware(self.platform, self.settings, self.usage)
        saver = self.service(model).checkpointer
        return [
            Contender("graph", 3, self._invoker(build_agent_graph(model))),
            Contender(
                "graph+guardrails",
                3,
                self._invoker(build_agent_graph(model, middleware=guardrails)),
            ),
            Contender(
                "graph+checkpointer",
                3,
                self._invoker(build_agent_graph(model, checkpointer=saver), saver),
            ),
            Contender(
                "graph+guardrails+checkpointer",
                3,
                self._invoker(
                    build_agent_graph(model, middleware=guardrails, checkpointer=saver), saver
                ),
            ),
        ]


# -- figures ---------------------------------------------------------------------------


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def _p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[int(0.95 * (len(ordered) - 1))]


def _sequential(contenders: Sequence[Contender], turns: int) -> list[dict[str, Any]]:
    """`turns` turns of each contender, one at a time, taking turns (round robin) so that a
    shared machine's load changes hit all of them alike; on one event loop, as served."""
    return asyncio.run(_one_at_a_time(contenders, turns))


async def _one_at_a_time(contenders: Sequence[Contender], turns: int) -> list[dict[str, Any]]:
    for contender in contenders:
        await contender.turn()  # warm up (imports, prepared statements, first checkpoints)
    gc.collect()  # as a server once started: collections skip what startup made
    gc.freeze()
    wall: dict[str, list[float]] = {c.name: [] for c in contenders}
    cpu: dict[str, float] = dict.fromkeys(wall, 0.0)
    for _ in range(turns):
        for contender in contenders:
            c0, t0 = time.process_time(), time.perf_counter()
            await contender.turn()
            wall[contender.name].append(time.perf_counter() - t0)
            cpu[contender.name] += time.process_time() - c0
    return [
        {
            "name": name,
            "turns": turns,
            "median_ms": _ms(statistics.median(latencies)),
            "p95_ms": _ms(_p95(latencies)),
            "cpu_ms_per_turn": _ms(cpu[name] / turns),  # this process (not PostgreSQL's)
        }
        for name, latencies in wall.items()
    ]


def _arrivals(rate: float, seconds: float, seed: int) -> list[float]:
    """Poisson arrival times (exponential gaps) in [0, seconds)."""
    rng, at, out = random.Random(seed), 0.0, list[float]()
    while True:
        at += rng.expovariate(rate)
        if at >= seconds:
            return out
        out.append(at)


@dataclass(frozen=True)
class _Served:
    """Where and how the serving processes of the load measurements run."""

    url: str
    home: str
    processes: int
    model_seconds: float
    timeout: float


_Result = tuple[int, int, str, float | str | None]  # (run, turn, ok|error|timeout|ready, detail)


def _serve(
    kind: str,
    served: _Served,
    inbox: Queue[tuple[int, int, float] | None],
    outbox: Queue[_Result],
) -> None:
    """A serving process: one contender (`baseline` or `ours`) on its own engine, running each
    turn it is handed as a task on its event loop."""
    # A bounded pool, as a server runs (PostgreSQL allows 100 connections by default): turns
    # beyond it wait for a connection, which shows as overhead.
    engine = create_engine(served.url, pool_size=DB_POOL, max_overflow=DB_POOL // 2)
    platform = Platform(engine, SandboxDriver(engine))
    bench = _Bench(platform, Settings(home=Path(served.home), database_url=served.url))
    try:
        asyncio.run(_serving(kind, served, bench, inbox, outbox))
    finally:
        bench.close()
        engine.dispose()


async def _serving(
    kind: str,
    served: _Served,
    bench: _Bench,
    inbox: Queue[tuple[int, int, float] | None],
    outbox: Queue[_Result],
) -> None:
    try:
        model = BenchModel(latency=served.model_seconds)
        contender = bench.ours(model) if kind == "ours" else bench.baseline(model)
        model_time = contender.model_calls * served.model_seconds
        await contender.turn()  # warm up before saying ready
    except Exception as exc:
        outbox.put((-1, -1, "failed", f"{type(exc).__name__}: {exc}"[:500]))
        raise
    gc.collect()  # as the API does once started (see ui/api/app.py)
    gc.freeze()
    outbox.put((-1, -1, "ready", None))

    async def run(run_id: int, index: int, arrival: float) -> None:
        try:
            await contender.turn()
        except Exception as exc:  # a lost turn, whatever broke
            outbox.put((run_id, index, "error", f"{type(exc).__name__}: {exc}"[:300]))
            return
        overhead = time.perf_counter() - arrival - model_time
        status = "timeout" if overhead > served.timeout else "ok"
        outbox.put((run_id, index, status, overhead))

    running: set[asyncio.Task[None]] = set()
    while (item := await asyncio.to_thread(inbox.get)) is not None:
        task = asyncio.create_task(run(*item))
        running.add(task)
        task.add_done_callback(running.discard)
    await asyncio.gather(*running)


class _ServingPool:
    """`served.processes` serving processes of one contender, reused by the load runs."""

    def __init__(self, kind: str, model_calls: int, served: _Served) -> None:
        self.kind, self.model_calls, self.served = kind, model_calls, served
        ctx = multiprocessing.get_context("spawn")  # no forked threads or database connections
        self.outbox: Queue[_Result] = ctx.Queue()
        self.inboxes: list[Queue[tuple[int, int, float] | None]] = [
            ctx.Queue() for _ in range(served.processes)
        ]
        self.procs = [
            ctx.Process(target=_serve, args=(kind, served, inbox, self.outbox))
            for inbox in self.inboxes
        ]
        self.runs = 0
        for proc in self.procs:
            proc.daemon = True
            proc.start()
        try:
            for _ in self.procs:
                *_, status, detail = self.outbox.get(timeout=300)
                if status != "ready":
                    raise RuntimeError(f"a serving process failed to start: {detail}")
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        for inbox in self.inboxes:
            inbox.put(None)
        for proc in self.procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.terminate()

    def open_loop(self, arrivals: list[float], say: Progress) -> dict[str, Any]:
        """Start each turn at its arrival time whatever the others do, round robin over the
        processes. Latency counts from the arrival, so a backlog (event loop, CPU, database)
        shows as overhead; a turn not finished within `timeout` seconds beyond its model time
        is lost. `perf_counter` is the system's monotonic clock in every process."""
        self.runs += 1
        run_id, served = self.runs, self.served
        overheads: list[float] = []
        errors: list[str] = []
        timed_out = 0
        start = heartbeat = time.perf_counter()
        for n, offset in enumerate(arrivals):
            delay = start + offset - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            self.inboxes[n % len(self.inboxes)].put((run_id, n, start + offset))
            if time.perf_counter() - heartbeat >= 10:
                heartbeat = time.perf_counter()
                say(f"  {self.kind} at {heartbeat - start:.0f} s: {n + 1} started")
        submitted = time.perf_counter() - start
        model_time = self.model_calls * served.model_seconds
        deadline = time.perf_counter() + model_time + served.timeout + 30
        pending = set(range(len(arrivals)))
        while pending and time.perf_counter() < deadline:
            try:
                got_run, index, status, detail = self.outbox.get(timeout=1)
            except queue.Empty:
                continue
            if got_run != run_id:  # a straggler of an earlier run, already counted lost
                continue
            pending.discard(index)
            if status == "ok":
                overheads.append(float(detail or 0.0))
            elif status == "error":
                errors.append(str(detail))
            else:
                timed_out += 1
        timed_out += len(pending)  # never answered
        return {
            "name": self.kind,
            "processes": served.processes,
            "turns": len(arrivals),
            "completed": len(overheads),
            "lost": len(errors) + timed_out,
            "errors": len(errors),
            "timed_out": timed_out,
            "first_errors": sorted(set(errors))[:3],
            "model_seconds_per_turn": round(model_time, 3),
            "p50_overhead_ms": _ms(statistics.median(overheads)) if overheads else None,
            "p95_overhead_ms": _ms(_p95(overheads)) if overheads else None,
            "max_overhead_ms": _ms(max(overheads)) if overheads else None,
            "scheduling_seconds": round(submitted, 3),
            "seconds": round(time.perf_counter() - start, 3),
        }


# -- the benchmark ---------------------------------------------------------------------


def bench_agents(
    turns: int = 200,
    rate: float = 100.0,
    seconds: float = 60.0,
    burst: int = 500,
    model_seconds: float = 1.0,
    turn_timeout: float = 30.0,
    variants: bool = True,
    seed_value: int = 7,
    processes: int | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Run the three measurements on a throw-away embedded PostgreSQL; a JSON-able report.

    The full run (the issue's) is the default: 200 sequential turns, 100 turns/s for 60 s,
    a burst of 500, a 1 s model. Set `turns`, `rate` or `burst` to 0 to skip a part. A loaded
    turn taking `turn_timeout` seconds beyond its model time is lost. Loads are served by
    `processes` processes (default: one per usable CPU), each contender alike."""
    say = progress or (lambda _: None)
    with scratch_postgres("hexaops-bench-agents-") as (home, server_url):
        url = sqlalchemy_url(server_url)
        engine = create_engine(url, pool_pre_ping=True, pool_size=10)  # as the product's
        try:
            migrate(engine)
            platform = Platform(engine, SandboxDriver(engine))
            seed(platform)
            settings = Settings(home=Path(home), database_url=url)
            bench = _Bench(platform, settings)
            served = _Served(
                url,
                str(home),
                processes or len(os.sched_getaffinity(0)),
                model_seconds,
                turn_timeout,
            )
            try:
                return _measure(
                    bench, served, turns, rate, seconds, burst, variants, seed_value, say
                )
            finally:
                bench.close()
        finally:
            engine.dispose()


def _measure(
    bench: _Bench,
    served: _Served,
    turns: int,
    rate: float,
    seconds: float,
    burst: int,
    variants: bool,
    seed_value: int,
    say: Progress,
) -> dict[str, Any]:
    report: dict[str, Any] = {
        "tool": TOOL,
        "goals": {
            "overhead_ratio": GOAL_RATIO,
            "p95_overhead_ms_under_load": GOAL_P95_OVERHEAD_MS,
            "lost_turns": 0,
        },
    }
    verdicts: dict[str, bool | None] = {}

    instant = BenchModel()
    if turns:
        say(f"per-turn overhead: {turns} sequential turns each, zero-latency model")
        contenders = [bench.baseline(instant), bench.ours(instant)]
        if variants:
            contenders += bench.variants(instant)
        rows = _sequential(contenders, turns)
        for row in rows:
            say(f"  {row['name']}: median {row['median_ms']} ms, CPU {row['cpu_ms_per_turn']} ms")
        base, ours = rows[0], rows[1]
        ratio = round(ours["median_ms"] / base["median_ms"], 2)
        report["per_turn"] = {
            "baseline": base,
            "ours": ours,
            "variants": rows[2:],
            "ratio_median": ratio,
            "ratio_p95": round(ours["p95_ms"] / base["p95_ms"], 2),
            "ratio_cpu": round(ours["cpu_ms_per_turn"] / base["cpu_ms_per_turn"], 2),
        }
        verdicts["overhead_ratio"] = ratio <= GOAL_RATIO

    load: dict[str, dict[str, Any]] = {}
    spike: dict[str, dict[str, Any]] = {}
    arrivals = _arrivals(rate, seconds, seed_value) if rate and seconds else []
    for kind, model_calls in (("baseline", 2), ("ours", 3)):  # model calls per turn, by script
        if not arrivals and not burst:
            break
        say(f"starting {served.processes} serving process(es) for {kind}")
        pool = _ServingPool(kind, model_calls, served)
        try:
            if arrivals:
                say(f"open loop, {kind}: {len(arrivals)} Poisson arrivals at {rate}/s, {seconds} s")
                load[kind] = pool.open_loop(arrivals, say)
            if burst:
                say(f"burst, {kind}: {burst} sessions at once")
                spike[kind] = pool.open_loop([0.0] * burst, say)
        finally:
            pool.close()
    if load:
        report["open_loop"] = {"rate": rate, "seconds": seconds, **load}
        ours_load = load["ours"]
        verdicts["p95_overhead_under_load"] = (
            ours_load["p95_overhead_ms"] is not None
            and ours_load["p95_overhead_ms"] <= GOAL_P95_OVERHEAD_MS
        )
        verdicts["no_lost_turns_under_load"] = ours_load["lost"] == 0
        for name, row in load.items():
            say(f"  {name}: p95 overhead {row['p95_overhead_ms']} ms, lost {row['lost']}")
    if spike:
        report["burst"] = {"sessions": burst, **spike}
        verdicts["burst_all_complete"] = spike["ours"]["completed"] == burst
        for name, row in spike.items():
            say(f"  {name}: completed {row['completed']}, p95 {row['p95_overhead_ms']} ms")
    report["model_seconds"] = served.model_seconds
    report["turn_timeout_seconds"] = served.timeout
    report["processes"] = served.processes
    report["verdicts"] = verdicts
    report["goals_met"] = all(verdicts.values()) if verdicts else None
    return report
