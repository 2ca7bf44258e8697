"""`hexaops ask`: talk to the agent team from a shell, one turn per command.

    hexaops ask "why is checkout failing in acme-prod?" --as dev@acme.example
    hexaops ask --session ID --approve --as owner@acme.example   # decide a pending write

Steps (tool, arguments, result) and the answer stream as they happen; `--json` prints one
event per line (see hexaops.agents.events). Exit codes: 0 answered (or waiting for approval),
1 the turn failed, 2 usage error.
"""

from __future__ import annotations

import json
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
    to_json,
)
from hexaops.agents.service import AgentService
from hexaops.platform.errors import PlatformError
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
) -> None:
    """Ask a question (streams the steps and the answer), or decide a pending approval."""
    decision = _decision(approve, reject, edit, note)
    if decision is None and not question:
        fail("ask a question, or decide a pending write with --session ID --approve/--reject", 2)
    if decision is not None and (session is None or question):
        fail("--approve/--reject/--edit need --session ID and no question", 2)
    with platform_session() as platform:
        try:
            principal = platform.user(email)
            with AgentService(load_settings(), platform) as service:
                if decision is not None:
                    assert session is not None
                    events = service.resume(principal, session, decision)
                else:
                    assert question is not None
                    events = service.ask(principal, question, session)
                failed = _show(events, as_json)
        except PlatformError as exc:
            fail(exc.message)
    if failed:
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


def _show(events: Iterator[AgentEvent], as_json: bool) -> bool:
    """Print the events; True when the turn ended in an error."""
    failed = False
    streamed = False
    for event in events:
        if as_json:
            print(to_json(event), flush=True)
            failed = failed or isinstance(event, Error)
            continue
        if isinstance(event, Token):
            streamed = True
            console.print(escape(event.text), end="", soft_wrap=True)
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
            _show_approval(event)
        elif isinstance(event, Answer):
            if not streamed:
                console.print(escape(event.text))
            console.print(f"\n[dim]session {event.session_id}[/dim]")
        elif isinstance(event, Error):
            failed = True
            console.print(f"[red]error: {escape(event.message)}[/red]")
    return failed


def _show_approval(event: ApprovalRequested) -> None:
    r = event.request
    console.print(
        f"\n[bold yellow]Approval needed[/bold yellow]: {r.get('action')} on {r.get('target')} "
        f"(risk {r.get('risk')}), requested by {r.get('requested_by')}"
    )
    console.print(f"  plan: {escape(str(r.get('summary', '')))}")
    for change in r.get("changes", []):
        console.print(f"  [dim]{escape(json.dumps(change, ensure_ascii=False))}[/dim]")
    approvers = ", ".join(r.get("approvers", [])) or "an owner or admin"
    console.print(
        f"Decide (approvers: {approvers}):\n"
        f"  hexaops ask --session {event.session_id} --approve [--note ...] --as EMAIL\n"
        f"  hexaops ask --session {event.session_id} --reject [--note ...] --as EMAIL\n"
        f"  hexaops ask --session {event.session_id} --edit '{{...}}' --as EMAIL"
    )


if __name__ == "__main__":
    app()
