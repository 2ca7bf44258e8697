"""`hexaops ask`: talk to the agent team from a shell, one turn per command.

    hexaops ask "why is checkout failing in acme-prod?" --as dev@acme.example
    hexaops ask --session ID --approve --as owner@acme.example   # decide a pending write

Steps (tool, arguments, result) and the answer stream as they happen. `--json` prints one
JSON document when the turn ends (see `turn_document`); `--stream-json` prints the events as
they happen, one per line (see hexaops.agents.events). Exit codes: 0 answered (or waiting for
approval), 1 the turn failed, 2 usage error.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from typing import Annotated, Any

import typer
from rich.markup import escape

from hexaops.agents.events import (
    AgentEvent,
    Answer,
    ApprovalRequested,
    Error,
    Notice,
    Routed,
    Token,
    ToolFinished,
    ToolStarted,
    Usage,
    to_json,
)
from hexaops.agents.service import AgentService
from hexaops.agents.streaming import Emit, pulled
from hexaops.platform.core import Platform
from hexaops.platform.domain import Principal
from hexaops.platform.errors import PlatformError
from hexaops.platform.views import ActionView
from hexaops.settings import load_settings
from hexaops.ui.cli.output import AsUser, JsonFlag, console, fail, platform_session

app = typer.Typer(help="Ask the assistant; approve or reject the writes it proposes.")


@app.callback(invoke_without_command=True, context_settings={"allow_interspersed_args": True})
def ask(
    email: AsUser,
    question: Annotated[str | None, typer.Argument(help="Your question or request.")] = None,
    session: Annotated[
        str | None, typer.Option("--session", help="Continue this session (its id).")
    ] = None,
    approve: Annotated[
        bool, typer.Option("--approve", help="Approve the session's pending write.")
    ] = False,
    reject: Annotated[
        bool, typer.Option("--reject", help="Reject the session's pending write.")
    ] = False,
    edit: Annotated[
        str | None,
        typer.Option("--edit", help="Approve with changed arguments (JSON object)."),
    ] = None,
    note: Annotated[str, typer.Option("--note", help="Why (kept with the decision).")] = "",
    as_json: JsonFlag = False,
    stream_json: Annotated[
        bool, typer.Option("--stream-json", help="Print the events as JSON lines as they come.")
    ] = False,
) -> None:
    """Ask a question (streams the steps and the answer), or decide a pending approval."""
    decision = _decision(approve, reject, edit, note)
    if decision is None and question is None:
        fail("ask a question, or decide a pending write with --session ID --approve/--reject", 2)
    if decision is not None and (session is None or question):
        fail("--approve/--reject/--edit need --session ID and no question", 2)
    if as_json and stream_json:
        fail("choose one of --json, --stream-json", 2)
    with platform_session() as platform:
        try:
            principal = platform.user(email)
            with AgentService(load_settings(), platform) as service:
                turn = Turn(service, principal, session)
                if decision is not None:
                    events = turn.resume(decision)
                else:
                    assert question is not None
                    events = turn.ask(question)
                if as_json:
                    for _ in events:
                        pass
                    print(json.dumps(turn.document(), ensure_ascii=False, indent=2))
                else:
                    render = Renderer()
                    for event in events:
                        if stream_json:
                            print(to_json(event), flush=True)
                        else:
                            render(event)
        except PlatformError as exc:
            fail(exc.message)
    if turn.failed:
        raise typer.Exit(1)


def _decision(approve: bool, reject: bool, edit: str | None, note: str) -> dict[str, Any] | None:
    if approve + reject + (edit is not None) > 1:
        fail("choose one of --approve, --reject, --edit", 2)
    if edit is not None:
        try:
            args = json.loads(edit)
        except json.JSONDecodeError as exc:
            fail(f"--edit must be a JSON object: {exc}", 2)
        if not isinstance(args, dict):
            fail("--edit must be a JSON object, e.g. '{\"replicas\": 4}'", 2)
        return {"decision": "edit", "args": args, "note": note}
    if approve or reject:
        return {"decision": "approve" if approve else "reject", "note": note}
    return None


# -- one turn, and what it tells the interfaces ----------------------------------------------


class Turn:
    """One agent turn of a session, recorded as it streams so it can be summed up as the
    `--json` document (also used by `hexaops chat` and `hexaops platform actions approve`)."""

    def __init__(self, service: AgentService, principal: Principal, session: str | None) -> None:
        self.service, self.principal = service, principal
        if session is not None:
            service.history(principal, session)  # NotFound: a clear message, nothing started
        self.new = session is None
        self.session_id = session or uuid.uuid4().hex
        self.turn_id = uuid.uuid4().hex
        self.events: list[AgentEvent] = []

    @property
    def failed(self) -> bool:
        return any(isinstance(e, Error) for e in self.events)

    def ask(self, text: str) -> Iterator[AgentEvent]:
        """The turn's events as it runs (on a thread of its own)."""
        return pulled(lambda emit: self.ask_into(emit, text))

    def resume(self, decision: dict[str, Any]) -> Iterator[AgentEvent]:
        return pulled(lambda emit: self.resume_into(emit, decision))

    def ask_into(self, emit: Emit, text: str) -> None:
        """Run the turn in this thread, handing each event to `emit` as it happens."""
        new, self.new = self.new, False  # a session id made up here names a new session once
        self.service.ask_into(
            self._recording(emit),
            self.principal,
            text,
            self.session_id,
            turn_id=self.turn_id,
            new_session=new,
        )

    def resume_into(self, emit: Emit, decision: dict[str, Any]) -> None:
        self.service.resume_into(
            self._recording(emit), self.principal, self.session_id, decision, turn_id=self.turn_id
        )

    async def aask_into(self, emit: Emit, text: str) -> None:
        """`ask_into` as a task on the running event loop (the API's)."""
        new, self.new = self.new, False
        await self.service.aask_into(
            self._recording(emit),
            self.principal,
            text,
            self.session_id,
            turn_id=self.turn_id,
            new_session=new,
        )

    async def aresume_into(self, emit: Emit, decision: dict[str, Any]) -> None:
        await self.service.aresume_into(
            self._recording(emit), self.principal, self.session_id, decision, turn_id=self.turn_id
        )

    def _recording(self, emit: Emit) -> Emit:
        def record(event: AgentEvent) -> None:
            self.events.append(event)
            emit(event)

        return record

    def document(self) -> dict[str, Any]:
        """The turn as one JSON document: answer, tool calls, pending approvals, citations,
        usage (and `error` when it failed)."""
        calls: list[dict[str, Any]] = []
        answer: Answer | None = None
        specialist: str | None = None
        pending: list[dict[str, Any]] = []
        error: str | None = None
        for event in self.events:
            if isinstance(event, Routed):
                specialist = event.specialist
            elif isinstance(event, ToolStarted):
                calls.append({"name": event.tool, "args": event.args, "status": "started"})
            elif isinstance(event, ToolFinished):
                open_call = next(
                    (c for c in calls if c["name"] == event.tool and c["status"] == "started"),
                    None,
                )
                if open_call is None:
                    open_call = {"name": event.tool, "args": {}}
                    calls.append(open_call)
                open_call |= {"status": event.status, "summary": event.summary}
            elif isinstance(event, ApprovalRequested):
                pending.append(pending_entry(event))
            elif isinstance(event, Answer):
                answer = event
                specialist = event.specialist or specialist
            elif isinstance(event, Error):
                error = event.message
        for call in calls:  # a write that stopped for approval has not finished
            if call["status"] == "started":
                call |= {"status": "pending" if pending else "unfinished", "summary": ""}
        return {
            "session_id": self.session_id,
            "turn_id": self.turn_id,
            "specialist": specialist,
            "answer": None if answer is None else answer.text,
            "tool_calls": calls,
            "pending": pending,
            "citations": self._citations(),
            "usage": self._usage(),
            "error": error,
        }

    def _citations(self) -> list[dict[str, Any]]:
        """Where the turn's answer comes from: each tool's sources, in the order it ran."""
        out: list[dict[str, Any]] = []
        for event in self.events:
            if isinstance(event, ToolFinished):
                for source in event.evidence:
                    entry = {"tool": event.tool} | source
                    if entry not in out:
                        out.append(entry)
        return out

    def _usage(self) -> dict[str, Any]:
        used = next((e for e in reversed(self.events) if isinstance(e, Usage)), None)
        if used is None:  # no model call ran (e.g. the turn was refused)
            return {"input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0, "calls": 0}
        return used.model_dump(exclude={"type"})


def resume_waiting_session(
    platform: Platform, principal: Principal, view: ActionView, as_json: bool
) -> dict[str, Any] | None:
    """After `principal` decided platform action `view`: resume the agent session waiting on
    it (found through the action's idempotency key), so the agent finishes its turn with the
    action's result. Prints the turn unless `as_json`; returns its document (None: no session
    waits on the action)."""
    if not (view.idempotency_key or "").startswith("tool:"):
        return None  # not requested by an agent: no session to look for
    decision = {"decision": "approve" if view.status != "rejected" else "reject"}
    try:
        with AgentService(load_settings(), platform) as service:
            session = service.waiting_on(principal, view)
            if session is None:
                return None
            turn = Turn(service, principal, session)
            events = turn.resume(decision | {"note": view.decision_note})
            if as_json:
                for _ in events:
                    pass
            else:
                console.print(f"[dim]resuming session {session}[/dim]")
                render = Renderer()
                for event in events:
                    render(event)
            return turn.document()
    except PlatformError as exc:  # the decision stands; only the agent's follow-up is missing
        session_hint = (view.idempotency_key or "").removeprefix("tool:").split("/", 1)[0]
        print(
            f"warning: action {view.id} is {view.status}, but its agent session could not "
            f"resume ({exc.message}): hexaops ask --session {session_hint} --approve "
            "--as EMAIL continues it",
            file=sys.stderr,
        )
        return None


def pending_entry(event: ApprovalRequested) -> dict[str, Any]:
    r = event.request
    return {
        "interrupt_id": event.interrupt_id,
        "action_id": r.get("action_id"),
        "action": r.get("action"),
        "target": r.get("target"),
        "plan": {"summary": r.get("summary"), "risk": r.get("risk"), "changes": r.get("changes")},
        "requested_by": r.get("requested_by"),
        "approvers": r.get("approvers", []),
    }


# -- rendering for people --------------------------------------------------------------------


class Renderer:
    """Prints events for a person (tool steps, tokens, approvals, the answer); remembers
    whether the answer's tokens were printed already, so the Answer is not repeated."""

    def __init__(self) -> None:
        self.streamed = False

    def __call__(self, event: AgentEvent) -> None:
        self.streamed = _render(event, self.streamed)


def _render(event: AgentEvent, streamed: bool) -> bool:
    if isinstance(event, Token):
        console.print(escape(event.text), end="", soft_wrap=True)
        return True
    elif isinstance(event, Routed):
        console.print(f"[dim]→ {event.specialist}[/dim]")
    elif isinstance(event, ToolStarted):
        args = json.dumps(event.args, ensure_ascii=False)
        console.print(f"[cyan]▶ {event.tool}[/cyan] [dim]{escape(args)}[/dim]")
    elif isinstance(event, ToolFinished):
        colour = "red" if event.status == "error" else "green"
        console.print(f"  [{colour}]{event.status}[/{colour}] {escape(event.summary)}")
    elif isinstance(event, Notice):
        console.print(f"[yellow]{event.kind}: {escape(event.message)}[/yellow]")
    elif isinstance(event, ApprovalRequested):
        show_approval(event)
        console.print(
            f"Decide (approvers: {', '.join(event.request.get('approvers', [])) or 'owner/admin'}):"
        )
        action_id = event.request.get("action_id")
        if action_id is not None:
            console.print(f"  hexaops platform actions approve|reject {action_id} --as EMAIL")
        console.print(
            f"  hexaops ask --session {event.session_id} --approve|--reject [--note ...] "
            "--as EMAIL\n"
            f"  hexaops ask --session {event.session_id} --edit '{{...}}' --as EMAIL"
        )
    elif isinstance(event, Answer):
        if streamed:
            console.print()
        else:
            console.print(escape(event.text))
        console.print(f"\n[dim]session {event.session_id}[/dim]")
    elif isinstance(event, Error):
        console.print(f"[red]error: {escape(event.message)}[/red]")
    return False


def show_approval(event: ApprovalRequested) -> None:
    """The plan of a write waiting for a decision."""
    r = event.request
    action_id = r.get("action_id")
    ident = f" (action #{action_id})" if action_id is not None else ""
    console.print(
        f"\n[bold yellow]Approval needed{ident}[/bold yellow]: {r.get('action')} on "
        f"{r.get('target')} (risk {r.get('risk')}), requested by {r.get('requested_by')}"
    )
    console.print(f"  plan: {escape(str(r.get('summary', '')))}")
    for change in r.get("changes", []):
        console.print(f"  [dim]{escape(json.dumps(change, ensure_ascii=False))}[/dim]")


if __name__ == "__main__":
    app()
