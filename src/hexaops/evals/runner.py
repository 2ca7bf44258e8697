"""The runner: each scenario on a fresh sandbox, through the product's AgentService.

Per scenario: a new database from the seeded template → setup operations → warm-up clock →
faults → clock → planted text → the turns (as the scenario's user; approval requests decided as
scripted) → `after_minutes` of clock → deterministic checks. A scenario that cannot run (bad
setup, a provider failing mid-run, any crash) is *errored* with the reason; the run goes on.

Workers are processes (chDB allows one data path per process, and the sandbox and the offline
planner are CPU-bound Python): each has its own chDB and shares the run's PostgreSQL server.
"""

from __future__ import annotations

import multiprocessing
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Final

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, Field

from hexaops.agents.accounting import UsageStore
from hexaops.agents.events import (
    AgentEvent,
    Answer,
    ApprovalRequested,
    Error,
    Notice,
    Routed,
    ToolFinished,
    ToolStarted,
)
from hexaops.agents.service import AgentService
from hexaops.evals.checkers import CheckResult, SandboxOutcome, check_state, check_transcript
from hexaops.evals.sandbox import (
    TEMPLATE,
    ScenarioSandbox,
    WorkerResources,
    eval_server,
    org_of_workspace,
)
from hexaops.evals.scenario import Scenario, Turn
from hexaops.evals.transcript import ActionRecord, ApprovalStep, ToolCall, Transcript, TurnRecord
from hexaops.platform.core import Platform
from hexaops.platform.errors import InvalidInput, NotFound, PlatformError
from hexaops.settings import Settings

MAX_APPROVAL_ROUNDS: Final = 5  # approval requests one turn may raise before the runner stops
PROVIDERS: Final = ("offline", "anthropic", "openai", "openai-compatible")

Progress = Callable[[str], None]
ModelFactory = Callable[[], BaseChatModel]


class ModelSpec(BaseModel):
    """`offline`, `anthropic[:MODEL]`, `openai[:MODEL]` or `openai-compatible:MODEL` (its
    endpoint and key from HEXAOPS_MODEL_BASE_URL / HEXAOPS_MODEL_API_KEY as for the product)."""

    provider: str
    model: str | None = None

    @classmethod
    def parse(cls, text: str) -> ModelSpec:
        provider, _, model = text.strip().partition(":")
        if provider not in PROVIDERS:
            raise InvalidInput(
                f"unknown model {text!r}: use offline, anthropic[:MODEL], openai[:MODEL] or "
                "openai-compatible:MODEL"
            )
        return cls(provider=provider, model=model or None)

    def label(self) -> str:
        return f"{self.provider}:{self.model}" if self.model else self.provider

    def settings(self, base: Settings) -> Settings:
        update: dict[str, Any] = {"model_provider": self.provider, "model_fallback": "none"}
        if self.model:
            update["model"] = self.model
        return base.model_copy(update=update)


class Usage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
    model_calls: int = 0


class ScenarioResult(BaseModel):
    """One attempt at one scenario."""

    id: str
    attempt: int
    title: str
    level: str
    category: str
    difficulty: str
    labels: list[str] = Field(default_factory=list)
    source: str = ""
    status: str  # passed | failed | errored
    error: str | None = None
    checks: list[dict[str, Any]] = Field(default_factory=list)
    transcript: Transcript = Field(default_factory=Transcript)
    truth: list[dict[str, Any]] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    latency_ms: float = 0.0  # the agent's time (turns and resumes)
    total_ms: float = 0.0  # with the sandbox setup, clock and checks
    steps: int = 0  # model calls (tool-call rounds and answers)

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def failed_checks(self) -> list[dict[str, Any]]:
        return [c for c in self.checks if not c["passed"]]


# -- one scenario ------------------------------------------------------------------------


def prepare(sandbox: ScenarioSandbox, scenario: Scenario) -> list[int]:
    """Warm-up clock, setup operations (a release, an HPA: they happen on a running system),
    faults, clock, planted text; the injected fault ids."""
    platform = sandbox.platform
    sandbox.advance(scenario.setup.warmup_minutes)
    for op in scenario.setup.operations:
        view = platform.request(platform.user(op.as_), op.operation, dict(op.params))
        if view.status != op.status:
            raise InvalidInput(
                f"setup: {op.operation} on {view.target} ended {view.status}, not {op.status}: "
                f"{view.error or 'see the action'}"
            )
    ids = []
    for fault in scenario.faults:
        org = fault.org or org_of_workspace(fault.workspace)
        target = sandbox.resolve_target(org, fault.workspace, fault.target)
        ids.append(
            sandbox.simulation.inject(fault.kind, org, fault.workspace, target, fault.at_minutes)
        )
    sandbox.advance(scenario.advance_minutes)
    for plant in scenario.setup.plant:
        sandbox.plant(plant)
    return ids


def _consume(events: Iterator[AgentEvent], record: TurnRecord) -> AgentEvent | None:
    """Fold a turn's events into `record`; the last event (answer, approval or error)."""
    last: AgentEvent | None = None
    for event in events:
        if isinstance(event, Routed):
            record.specialist = event.specialist
        elif isinstance(event, ToolStarted):
            record.tool_calls.append(ToolCall(tool=event.tool, args=event.args))
        elif isinstance(event, ToolFinished):
            waiting = [
                c for c in record.tool_calls if c.tool == event.tool and c.status == "pending"
            ]
            call = waiting[0] if waiting else ToolCall(tool=event.tool)
            if not waiting:
                record.tool_calls.append(call)
            call.status, call.summary = event.status, event.summary
        elif isinstance(event, Notice):
            record.notices.append(f"{event.kind}: {event.message}")
        elif isinstance(event, Answer):
            record.answer, record.specialist, record.error = event.text, event.specialist, None
        elif isinstance(event, Error):
            record.error = event.message
        if event.type != "token":
            last = event
    return last


class Conversation:
    """The scenario's turns through one AgentService session, approvals as scripted."""

    def __init__(self, service: AgentService, platform: Platform, asker: str) -> None:
        self.service, self.platform = service, platform
        self.asker = platform.user(asker)
        self.session = uuid.uuid4().hex
        self.agent_seconds = 0.0

    def turn(self, turn: Turn) -> TurnRecord:
        record = TurnRecord(say=turn.say, by=self.asker.id)
        end = self._play(self.service.ask(self.asker, turn.say, self.session), record)
        for _ in range(MAX_APPROVAL_ROUNDS):
            if not isinstance(end, ApprovalRequested):
                break
            request = end.request
            step = ApprovalStep(
                action=str(request.get("action", "")),
                tool=str(request.get("tool", "")),
                target=str(request.get("target", "")),
                risk=str(request.get("risk", "")),
                action_id=request.get("action_id"),
            )
            record.approvals.append(step)
            if turn.approval is None:
                step.outcome = "left pending"
                break
            decider = self.platform.user(turn.approval.by or self.asker.id)
            step.decision, step.by = turn.approval.decision, decider.id
            decision = {"decision": turn.approval.decision, "note": turn.approval.note}
            try:
                end = self._play(self.service.resume(decider, self.session, decision), record)
            except PlatformError as exc:
                step.outcome = f"refused: {exc.message}"
                break
            done = [c for c in record.tool_calls if c.tool == step.tool and c.status != "pending"]
            step.outcome = done[-1].summary if done else str(getattr(end, "type", ""))
        return record

    def _play(self, events: Iterator[AgentEvent], record: TurnRecord) -> AgentEvent | None:
        """Consume a turn's (or a resume's) events, counting the time as the agent's."""
        start = time.perf_counter()
        try:
            return _consume(events, record)
        finally:
            self.agent_seconds += time.perf_counter() - start


def _usage(platform: Platform, asker: str, session: str) -> Usage:
    try:
        report = UsageStore.of(platform).report(platform.user(asker), session_id=session)
    except NotFound:
        return Usage()
    total = report.total
    return Usage(
        input_tokens=total.input_tokens,
        output_tokens=total.output_tokens,
        cost_usd=total.cost_usd,
        model_calls=total.calls,
    )


def _truth(sandbox: ScenarioSandbox, ids: Sequence[int]) -> list[dict[str, Any]]:
    keep = (
        "kind",
        "status",
        "target",
        "workspace",
        "root_cause",
        "objects_at_fault",
        "mitigations",
    )
    return [{k: sandbox.simulation.truth(i).get(k) for k in keep} for i in ids]


def run_scenario(
    scenario: Scenario,
    resources: WorkerResources,
    model: ModelSpec,
    attempt: int = 1,
    factory: ModelFactory | None = None,
    base: Settings | None = None,
) -> ScenarioResult:
    """Run one attempt of `scenario` on a fresh sandbox; never raises for the scenario's sake."""
    start = time.perf_counter()
    result = ScenarioResult(
        id=scenario.id,
        attempt=attempt,
        title=scenario.title,
        level=scenario.tags.level,
        category=scenario.tags.category,
        difficulty=scenario.tags.difficulty,
        labels=scenario.tags.labels,
        source=scenario.source,
        status="errored",
    )
    sandbox = resources.sandbox(scenario.setup.seed)
    service: AgentService | None = None
    conversation: Conversation | None = None
    try:
        ids = prepare(sandbox, scenario)
        settings = model.settings(
            (base or Settings()).model_copy(
                update={"home": sandbox.home, "database_url": sandbox.url}
            )
        )
        service = AgentService(
            settings,
            sandbox.platform,
            model=factory() if factory else None,
            resources={"telemetry": sandbox.store},
        )
        first_action = sandbox.last_action_id()
        conversation = Conversation(service, sandbox.platform, scenario.trigger.as_)
        transcript = Transcript()
        for turn in scenario.trigger.messages():
            transcript.turns.append(conversation.turn(turn))
        transcript.actions = [ActionRecord(**a) for a in sandbox.actions_after(first_action)]
        result.transcript = transcript
        sandbox.advance(scenario.after_minutes)
        checks: list[CheckResult] = [
            *check_transcript(scenario, transcript),
            *check_state(scenario, transcript, SandboxOutcome(sandbox, ids)),
        ]
        result.checks = [c.to_json() for c in checks]
        result.truth = _truth(sandbox, ids)
        result.usage = _usage(sandbox.platform, scenario.trigger.as_, conversation.session)
        result.steps = result.usage.model_calls
        errors = [t.error for t in transcript.turns if t.error]
        if errors and scenario.expect.answer:
            result.error = f"the agent ended a turn with an error: {errors[-1]}"
        else:
            result.status = "passed" if all(c.passed for c in checks) else "failed"
    except PlatformError as exc:
        result.error = exc.message
    except Exception as exc:  # a crash in a provider, a tool or the sandbox: this scenario only
        result.error = f"{type(exc).__name__}: {exc}"[:1000]
    finally:
        if conversation is not None:
            result.latency_ms = round(conversation.agent_seconds * 1000, 1)
        if service is not None:
            service.close()
        sandbox.close()
    result.total_ms = round((time.perf_counter() - start) * 1000, 1)
    return result


# -- a whole run ---------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _init_worker(server_url: str) -> None:
    import logging

    logging.disable(logging.WARNING)
    _WORKER["resources"] = WorkerResources(server_url)


def _run_in_worker(payload: tuple[dict[str, Any], int, dict[str, Any]]) -> dict[str, Any]:
    data, attempt, spec = payload
    data = dict(data)
    source = str(data.pop("source_", ""))
    scenario = Scenario.model_validate(data)
    scenario.source = source
    result = run_scenario(scenario, _WORKER["resources"], ModelSpec.model_validate(spec), attempt)
    return result.model_dump(mode="json")


def run_scenarios(
    scenarios: Sequence[Scenario],
    model: ModelSpec,
    repeat: int = 1,
    workers: int = 1,
    progress: Progress | None = None,
    factory: ModelFactory | None = None,
    server_url: str | None = None,
    template: str = TEMPLATE,
    home: Path | None = None,
) -> list[ScenarioResult]:
    """Every scenario `repeat` times; results sorted by id and attempt. `factory` (tests): a
    chat model built per scenario instead of the provider's, in this process only.
    `server_url`/`template`: an existing PostgreSQL with a template built by `build_template`
    (default: a throw-away server for this run); `home`: this process' chDB home when it
    already has one open (chDB allows one data path per process)."""
    say = progress or (lambda _: None)
    if repeat < 1 or workers < 1:
        raise InvalidInput("--repeat and --workers must be at least 1")
    if factory is not None and workers > 1:
        raise InvalidInput("a model factory runs in this process only: use workers=1")
    jobs = [(s, a) for a in range(1, repeat + 1) for s in scenarios]
    base = Settings()
    if server_url is None:
        with eval_server(base) as url:
            return run_scenarios(
                scenarios, model, repeat, workers, progress, factory, url, home=home
            )
    if workers > 1 and template != TEMPLATE:
        raise InvalidInput("worker processes use the run's own template: use workers=1")
    results: list[ScenarioResult] = []

    def done(result: ScenarioResult) -> None:
        results.append(result)
        mark = {"passed": "PASS", "failed": "FAIL"}.get(result.status, "ERROR")
        extra = f" — {result.error}" if result.error else ""
        if result.status == "failed":
            extra = " — " + "; ".join(c["name"] for c in result.failed_checks()[:3])
        say(
            f"[{len(results)}/{len(jobs)}] {mark} {result.id} #{result.attempt} "
            f"({result.total_ms / 1000:.1f} s){extra}"
        )

    if workers == 1:
        resources = WorkerResources(server_url, home, template)
        try:
            for scenario, attempt in jobs:
                done(run_scenario(scenario, resources, model, attempt, factory, base))
        finally:
            resources.close()
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            workers, mp_context=context, initializer=_init_worker, initargs=(server_url,)
        ) as pool:
            futures = [
                pool.submit(
                    _run_in_worker,
                    (
                        {**s.model_dump(mode="json", by_alias=True), "source_": s.source},
                        a,
                        model.model_dump(),
                    ),
                )
                for s, a in jobs
            ]
            for future in as_completed(futures):
                done(ScenarioResult.model_validate(future.result()))
    return sorted(results, key=lambda r: (r.id, r.attempt))
