"""The remediation graph of one incident (LangGraph, checkpointed in PostgreSQL):

    investigate → plan (+ policy check) → [approve: interrupt for a person] → execute
                → verify (→ undo what is reversible) → record (incident memory)

The thread id is the incident, every checkpoint is written before the next node starts
(durability "sync") and every action carries the key `incident:<id>:step:<n>`, so a worker
killed mid-remediation resumes at the node that was running and gets the already executed
action back from the platform instead of running it again. Timeline entries carry step keys
too: a replayed node does not write them twice. A finished run is never started again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal, TypedDict

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt

from hexaops.agents.checkpoints import open_checkpointer
from hexaops.incidents import remediation, store
from hexaops.incidents.alerts import AlertTarget
from hexaops.incidents.automation import automation
from hexaops.incidents.hypotheses import Hypothesis
from hexaops.incidents.investigation import investigate
from hexaops.incidents.policies import stored_policy
from hexaops.incidents.remediation import Step
from hexaops.incidents.verification import SandboxWatch, Verdict, Watch, verify
from hexaops.knowledge.embeddings import embedder_from_settings
from hexaops.knowledge.incidents import Outcome, record_incident
from hexaops.platform.core import Platform
from hexaops.platform.domain import Principal
from hexaops.platform.errors import Conflict, Forbidden, PlatformError
from hexaops.settings import Settings
from hexaops.tools.context import ToolContext

SCHEMA: Final = "incident_runs"
APPROVERS: Final = ("owner", "admin")


class SimulatedCrash(RuntimeError):
    """Raised by the test hook `crash_after_step`: a worker dying right after an action ran."""


class RunState(TypedDict, total=False):
    incident_id: int
    hypotheses: list[dict[str, Any]]
    seconds_to_root_cause: float
    steps: list[dict[str, Any]]
    checks: list[dict[str, Any]]
    decision: dict[str, Any] | None
    actions: list[dict[str, Any]]
    verdict: dict[str, Any]
    undone: list[dict[str, Any]]
    status: str


@dataclass
class RunResult:
    incident_id: int
    status: str
    waiting: bool  # stopped for a person's approval

    def to_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


class RealTimeWatch:
    """Against a real cluster, recovery takes wall-clock time."""

    def wait(self, minutes: float) -> None:
        time.sleep(minutes * 60)


def _target(row: Any) -> AlertTarget:
    kind, _, name = (row.workload or f"Workspace/{row.workspace}").partition("/")
    return AlertTarget(row.org, row.workspace, row.project, kind, name)


class Remediator:
    """Runs incidents through the remediation graph; `resources` are shared tool clients
    (e.g. the telemetry store), `watch` lets platform time pass during verification."""

    def __init__(
        self,
        platform: Platform,
        settings: Settings,
        *,
        resources: dict[str, Any] | None = None,
        watch: Callable[[ToolContext], Watch] | None = None,
        model: BaseChatModel | None = None,
        memory: bool = True,
    ) -> None:
        self.platform, self.settings, self.model, self.memory = platform, settings, model, memory
        self._resources = resources or {}
        sandbox = platform.driver.name == "sandbox"
        self._watch = watch or (SandboxWatch if sandbox else (lambda _ctx: RealTimeWatch()))
        self._contexts: dict[str, ToolContext] = {}
        self._conn, self.checkpointer = open_checkpointer(platform, SCHEMA)
        self.graph = self._build().compile(checkpointer=self.checkpointer)

    def close(self) -> None:
        for ctx in self._contexts.values():
            ctx.close()
        self._conn.close()

    def __enter__(self) -> Remediator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public ------------------------------------------------------------------------

    def run(
        self,
        incident_id: int,
        *,
        forced_plan: list[Step] | None = None,
        crash_after_step: int | None = None,
    ) -> RunResult:
        """Start, resume (after a crash) or report the remediation of an incident."""
        store.row(self.platform, incident_id)  # NotFound for an unknown id
        config = self._config(incident_id, forced_plan, crash_after_step)
        snapshot = self.graph.get_state(config)
        if snapshot.next:
            if not any(task.interrupts for task in snapshot.tasks):
                self.graph.invoke(None, config, durability="sync")
        elif not snapshot.values:
            self.graph.invoke({"incident_id": incident_id}, config, durability="sync")
        return self.result(incident_id)

    def decide(
        self,
        incident_id: int,
        principal: Principal,
        decision: Literal["approve", "reject"],
        note: str = "",
    ) -> RunResult:
        """A person approves or rejects the plan of an incident waiting for approval."""
        row = store.visible(self.platform, principal, incident_id)
        role = next(o.role for o in self.platform.organizations(principal) if o.slug == row.org)
        if role not in APPROVERS:
            raise Forbidden(
                f"your role in {row.org} is {role}; approving a remediation needs owner or admin"
            )
        config = self._config(incident_id, None, None)
        snapshot = self.graph.get_state(config)
        if not any(task.interrupts for task in snapshot.tasks):
            raise Conflict(
                f"incident {incident_id} is {row.status}, not waiting for approval: "
                f"see hexaops incidents show {incident_id}"
            )
        resume = {"decision": decision, "by": principal.id, "note": note}
        self.graph.invoke(Command(resume=resume), config, durability="sync")
        return self.result(incident_id)

    def result(self, incident_id: int) -> RunResult:
        row = store.row(self.platform, incident_id)
        return RunResult(incident_id, row.status, row.status == "awaiting_approval")

    # -- the graph ----------------------------------------------------------------------

    @staticmethod
    def _config(
        incident_id: int, forced: list[Step] | None, crash_after_step: int | None
    ) -> RunnableConfig:
        return {
            "configurable": {
                "thread_id": f"incident-{incident_id}",
                "forced_plan": [s.to_json() for s in forced] if forced else None,
                "crash_after_step": crash_after_step,
            }
        }

    def _ctx(self, org: str) -> ToolContext:
        if org not in self._contexts:
            principal = automation(self.platform.engine, org)
            self._contexts[org] = ToolContext.for_settings(
                self.platform, principal, self.settings, resources=dict(self._resources)
            )
        return self._contexts[org]

    def _event(
        self, incident_id: int, kind: str, summary: str, data: dict[str, Any], key: str
    ) -> None:
        row = store.row(self.platform, incident_id)
        now = self._ctx(row.org).now()
        store.event(self.platform, incident_id, now, kind, summary, data, f"{incident_id}:{key}")

    def _build(self) -> StateGraph[RunState]:
        graph = StateGraph(RunState)
        graph.add_node("investigate", self._investigate)
        graph.add_node("plan", self._plan)
        graph.add_node("approve", self._approve)
        graph.add_node("execute", self._execute)
        graph.add_node("verify", self._verify)
        graph.add_node("record", self._record)
        graph.add_edge(START, "investigate")
        graph.add_edge("investigate", "plan")
        graph.add_conditional_edges("plan", self._after_plan, ["approve", "execute", "record"])
        graph.add_conditional_edges("approve", self._after_approve, ["execute", "record"])
        graph.add_edge("execute", "verify")
        graph.add_edge("verify", "record")
        graph.add_edge("record", END)
        return graph

    def _investigate(self, state: RunState) -> RunState:
        incident_id = state["incident_id"]
        row = store.row(self.platform, incident_id)
        store.update(self.platform, incident_id, status="investigating")
        target = _target(row)
        found = investigate(self._ctx(row.org), target, self.model, memory=self.memory)
        ranked = [h.to_json() for h in found.get("hypotheses", [])][:5]
        top = ranked[0] if ranked else None
        store.update(
            self.platform,
            incident_id,
            hypotheses=ranked,
            root_cause=top["title"] if top else "",
            objects=[{"object": o} for o in top["objects"]] if top else [],
            narrative=found.get("narrative", ""),
        )
        ev = found.get("evidence")
        calls = ev.calls if ev is not None else []
        self._event(
            incident_id,
            "findings",
            f"{len(calls)} tool calls: "
            + "; ".join(f"{c['tool']}: {c['summary'][:120]}" for c in calls[:4]),
            {"calls": calls},
            "investigate:findings",
        )
        self._event(
            incident_id,
            "hypotheses",
            "; ".join(f"{h['cause']} on {h['workload']} ({h['score']:.2f})" for h in ranked[:3])
            or "no hypothesis: nothing found explains the alert",
            {"hypotheses": ranked, "seconds_to_root_cause": found.get("seconds_to_root_cause")},
            "investigate:hypotheses",
        )
        return {
            "hypotheses": ranked,
            "seconds_to_root_cause": found.get("seconds_to_root_cause", 0.0),
        }

    def _plan(self, state: RunState, config: RunnableConfig) -> RunState:
        incident_id = state["incident_id"]
        row = store.row(self.platform, incident_id)
        forced = (config.get("configurable") or {}).get("forced_plan")
        steps: list[Step] = []
        if forced:
            steps = [Step.of(s) for s in forced]
        elif state.get("hypotheses"):
            top = Hypothesis(**state["hypotheses"][0])
            try:
                steps = remediation.plan(self.platform, top, row.org, row.workspace)
            except PlatformError as exc:
                self._event(incident_id, "plan", f"no plan: {exc.message}", {}, "plan:error")
        policy = stored_policy(self.platform.engine, row.org)
        now = self._ctx(row.org).now()
        checks = [remediation.check(self.platform, row.org, s, policy, now) for s in steps]
        store.update(
            self.platform,
            incident_id,
            plan=[
                {**s.to_json(), "policy": c.__dict__} for s, c in zip(steps, checks, strict=True)
            ],
            mitigation="; ".join(s.describe() for s in steps),
        )
        self._event(
            incident_id,
            "plan",
            ("forced plan: " if forced else "plan: ")
            + (
                "; ".join(f"{s.describe()} ({c.why})" for s, c in zip(steps, checks, strict=True))
                or "nothing to do"
            ),
            {"steps": [s.to_json() for s in steps], "checks": [c.__dict__ for c in checks]},
            "plan",
        )
        return {"steps": [s.to_json() for s in steps], "checks": [c.__dict__ for c in checks]}

    @staticmethod
    def _after_plan(state: RunState) -> str:
        steps, checks = state.get("steps") or [], state.get("checks") or []
        if not steps or any(c.get("error") for c in checks):
            return "record"
        return "execute" if all(c["covered"] for c in checks) else "approve"

    def _approve(self, state: RunState) -> RunState:
        incident_id = state["incident_id"]
        row = store.row(self.platform, incident_id)
        store.update(self.platform, incident_id, status="awaiting_approval")
        why = "; ".join(c["why"] for c in state.get("checks") or [] if not c["covered"])
        self._event(
            incident_id, "approval", f"waits for an owner or admin: {why}", {}, "approval:requested"
        )
        decision = interrupt(
            {
                "kind": "incident_approval",
                "incident": incident_id,
                "org": row.org,
                "steps": state.get("steps"),
                "checks": state.get("checks"),
                "hypotheses": state.get("hypotheses"),
                "narrative": row.narrative,
            }
        )
        self._event(
            incident_id,
            "approval",
            f"{decision['by']} {decision['decision']}d the plan"
            + (f": {decision['note']}" if decision.get("note") else ""),
            dict(decision),
            "approval:decided",
        )
        return {"decision": dict(decision)}

    @staticmethod
    def _after_approve(state: RunState) -> str:
        return "execute" if (state.get("decision") or {}).get("decision") == "approve" else "record"

    def _execute(self, state: RunState, config: RunnableConfig) -> RunState:
        incident_id = state["incident_id"]
        row = store.row(self.platform, incident_id)
        store.update(self.platform, incident_id, status="remediating")
        decision = state.get("decision")
        approver = self.platform.user(decision["by"]) if decision else None
        note = f"incident {incident_id}: " + (
            f"approved by {decision['by']}" if decision else "covered by the automation policy"
        )
        crash_after = (config.get("configurable") or {}).get("crash_after_step")
        actions: list[dict[str, Any]] = []
        for i, data in enumerate(state.get("steps") or []):
            step = Step.of(data)
            key = f"incident:{incident_id}:step:{i}"
            try:
                view = remediation.execute(self.platform, row.org, step, key, approver, note)
                outcome = {
                    "step": i,
                    "action_id": view.id,
                    "status": view.status,
                    "error": view.error,
                }
            except PlatformError as exc:
                outcome = {"step": i, "action_id": None, "status": "failed", "error": exc.message}
            actions.append(outcome)
            self._event(
                incident_id,
                "action",
                f"#{outcome['action_id']} {step.describe()}: {outcome['status']}"
                + (f" ({outcome['error']})" if outcome["error"] else ""),
                outcome,
                f"action:{i}",
            )
            if crash_after == i:
                raise SimulatedCrash(f"simulated crash after step {i} of incident {incident_id}")
            if outcome["status"] != "succeeded":
                break
        return {"actions": actions}

    def _verify(self, state: RunState) -> RunState:
        incident_id = state["incident_id"]
        row = store.row(self.platform, incident_id)
        ctx = self._ctx(row.org)
        actions = state.get("actions") or []
        if not actions or any(a["status"] != "succeeded" for a in actions):
            verdict = Verdict(False, 0.0, [{"remaining": ["an action did not succeed"]}])
        else:
            verdict = verify(ctx, _target(row), self._watch(ctx))
        last = verdict.checks[-1]["remaining"] if verdict.checks else []
        self._event(
            incident_id,
            "verification",
            f"recovered after {verdict.minutes:g} min"
            if verdict.recovered
            else f"not recovered after {verdict.minutes:g} min: {'; '.join(last)}",
            verdict.to_json(),
            "verification",
        )
        undone = [] if verdict.recovered else self._undo(incident_id, row.org, state, actions)
        return {"verdict": verdict.to_json(), "undone": undone}

    def _undo(
        self, incident_id: int, org: str, state: RunState, actions: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Revert the executed steps that can be reverted, newest first."""
        undone = []
        steps = state.get("steps") or []
        for done in reversed([a for a in actions if a["status"] == "succeeded"]):
            undo = steps[done["step"]].get("undo")
            if not undo:
                continue
            step = Step(undo["operation"], undo["params"], "revert an ineffective fix")
            key = f"incident:{incident_id}:undo:{done['step']}"
            try:
                view = remediation.execute(
                    self.platform, org, step, key, None, f"incident {incident_id}: revert"
                )
                result = {"step": done["step"], "action_id": view.id, "status": view.status}
            except PlatformError as exc:
                result = {
                    "step": done["step"],
                    "action_id": None,
                    "status": "failed",
                    "error": exc.message,
                }
            undone.append(result)
            self._event(
                incident_id,
                "rollback",
                f"reverted {step.describe()}: {result['status']}",
                result,
                f"undo:{done['step']}",
            )
        return undone

    def _record(self, state: RunState) -> RunState:
        incident_id = state["incident_id"]
        row = store.row(self.platform, incident_id)
        ctx = self._ctx(row.org)
        now = ctx.now()
        verdict = state.get("verdict") or {}
        decision = state.get("decision") or {}
        outcome: Outcome
        if verdict.get("recovered"):
            status, outcome = "resolved", "resolved"
        elif decision.get("decision") == "reject":
            status, outcome = "rejected", "unknown"
        else:
            status, outcome = "escalated", "failed" if state.get("actions") else "unknown"
        fields: dict[str, Any] = {"status": status, "outcome": outcome}
        if status == "resolved":
            fields |= {"resolved_at": now, "closed_at": now}
        store.update(self.platform, incident_id, **fields)
        if status == "escalated":
            self._event(
                incident_id,
                "escalation",
                "escalated to the organization's owners and admins: "
                + (
                    "the fix did not restore service"
                    if state.get("actions")
                    else "no safe automatic fix"
                ),
                {},
                "escalation",
            )
        if row.memory_id is None:
            memory = self._remember(incident_id, now, outcome)
            if memory is not None:
                store.update(self.platform, incident_id, memory_id=memory)
        return {"status": status}

    def _remember(self, incident_id: int, now: datetime, outcome: Outcome) -> int | None:
        """Write the closed incident into incident memory (what later investigations find)."""
        row = store.row(self.platform, incident_id)
        ctx = self._ctx(row.org)
        embedder = ctx.resource(
            "embedder", lambda: embedder_from_settings(self.settings), owned=False
        )
        view = record_incident(
            self.platform.engine,
            embedder,
            org=row.org,
            workspace=row.workspace,
            title=row.title,
            symptoms="; ".join(h["title"] for h in row.hypotheses[:1]) or row.title,
            findings="; ".join(
                f"{h['cause']} on {h['workload']}: {'; '.join(h['evidence'][:2])}"
                for h in row.hypotheses[:3]
            ),
            root_cause=row.root_cause,
            mitigation=row.mitigation,
            outcome=outcome,
            created_at=row.opened_at,
            resolved_at=now if outcome == "resolved" and now >= row.opened_at else None,
            source=f"incident:{incident_id}",
        )
        self._event(
            incident_id,
            "record",
            f"recorded in incident memory as #{view.id}",
            {"memory_id": view.id},
            "record",
        )
        return view.id
