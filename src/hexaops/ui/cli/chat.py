"""`hexaops chat`: a terminal conversation with the agent team.

    hexaops chat --as dev@acme.example [--session ID]

Each line is a turn: tool steps and the answer stream as they happen. A write that waits for
approval is shown with its plan; whoever may decide it is asked approve / reject / edit right
there (a developer is told it waits for an owner or admin, with the action id). Commands:
/new (a new session), /session [ID] (show or switch), /help, /quit (or Ctrl-D).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.prompt import Prompt

from hexaops.agents.events import AgentEvent, ApprovalRequested
from hexaops.agents.service import AgentService
from hexaops.platform.domain import Principal
from hexaops.platform.errors import PlatformError
from hexaops.settings import load_settings
from hexaops.ui.cli.ask import Renderer, Turn, show_approval
from hexaops.ui.cli.output import AsUser, console, platform_session

log = logging.getLogger(__name__)
HELP = "/new a new session · /session [ID] show or switch · /help · /quit (or Ctrl-D)"


def chat(
    email: AsUser,
    session: Annotated[
        str | None, typer.Option("--session", help="Continue this session (its id).")
    ] = None,
) -> None:
    """Chat with the assistant in the terminal; approve or reject its writes inline."""
    with platform_session() as platform:
        principal = platform.user(email)
        with AgentService(load_settings(), platform) as service:
            ChatLoop(service, principal).run(session)


class ChatLoop:
    """The prompt loop; every error is one red line, and the conversation goes on."""

    def __init__(self, service: AgentService, principal: Principal) -> None:
        self.service, self.principal = service, principal
        self.session: str | None = None

    def run(self, session: str | None) -> None:
        console.print(f"[bold]hexaops chat[/bold] as {self.principal.id} — {HELP}")
        if session is not None:
            self._switch(session)
        while True:
            try:
                line = console.input("[bold green]you>[/bold green] ")
            except (EOFError, KeyboardInterrupt):
                console.print()
                break
            text = line.strip()
            if text in ("/quit", "/exit"):
                break
            if not text:
                continue
            try:
                if text.startswith("/"):
                    self._command(text)
                else:
                    self._turn(line)
            except PlatformError as exc:
                console.print(f"[red]error: {escape(exc.message)}[/red]")
            except KeyboardInterrupt:
                console.print("\n[yellow]interrupted[/yellow]")
            except EOFError:  # Ctrl-D at a decision prompt
                console.print()
                break
            except Exception as exc:  # a bug or a lost database: one line, then go on
                log.exception("chat turn failed")
                console.print(f"[red]unexpected {type(exc).__name__}: {escape(str(exc))}[/red]")
        console.print("[dim]bye[/dim]")

    def _command(self, text: str) -> None:
        name, _, argument = text.partition(" ")
        if name == "/new":
            self.session = None
            console.print("[dim]new session: your next message starts it[/dim]")
        elif name == "/session":
            if argument.strip():
                self._switch(argument.strip())
            else:
                console.print(f"session: {self.session or 'none yet (ask something)'}")
        elif name == "/help":
            console.print(HELP)
        else:
            console.print(f"[yellow]unknown command {escape(name)}[/yellow] — {HELP}")

    def _switch(self, session: str) -> None:
        history = self.service.history(self.principal, session)  # NotFound: clear message
        self.session = session
        console.print(f"[dim]session {session}: {len(history)} message(s)[/dim]")
        waiting = self.service.pending(self.principal, session)
        if waiting is not None:
            self._decide(waiting)

    def _turn(self, text: str) -> None:
        turn = Turn(self.service, self.principal, self.session)
        events = turn.ask(text)
        self.session = turn.session_id
        self._show(events)

    def _show(self, events: Iterator[AgentEvent]) -> None:
        render = Renderer()
        waiting: ApprovalRequested | None = None
        for event in events:
            if isinstance(event, ApprovalRequested):
                waiting = event
            else:
                render(event)
        if waiting is not None:
            self._decide(waiting)

    def _decide(self, waiting: ApprovalRequested) -> None:
        """Show the plan; ask the person for a decision if they may make it."""
        show_approval(waiting)
        request = waiting.request
        action_id = request.get("action_id")
        org = str(request.get("org", ""))
        if action_id is not None and not self.service.may_approve(self.principal, org):
            approvers = ", ".join(request.get("approvers", [])) or "an owner or admin"
            console.print(
                f"[yellow]waits for an owner or admin of {escape(org)}[/yellow] "
                f"({escape(approvers)}): action #{action_id} — they run "
                f"[bold]hexaops platform actions approve {action_id}[/bold]; "
                "this session continues then"
            )
            return
        decision = self._ask_decision()
        if decision is None:
            console.print(f"[dim]left pending; /session {waiting.session_id} to decide later[/dim]")
            return
        turn = Turn(self.service, self.principal, waiting.session_id)
        self._show(turn.resume(decision))

    def _ask_decision(self) -> dict[str, Any] | None:
        choice = Prompt.ask(
            "approve, reject, edit or later?",
            choices=["approve", "reject", "edit", "later"],
            default="later",
            console=console,
        )
        if choice == "later":
            return None
        decision: dict[str, Any] = {"decision": choice}
        if choice == "edit":
            while True:
                raw = Prompt.ask('changed arguments as JSON, e.g. {"replicas": 4}', console=console)
                try:
                    args = json.loads(raw)
                except json.JSONDecodeError as exc:
                    console.print(f"[red]not JSON: {escape(str(exc))}[/red]")
                    continue
                if isinstance(args, dict):
                    decision["args"] = args
                    break
                console.print("[red]a JSON object, please[/red]")
        decision["note"] = Prompt.ask("note (optional)", default="", console=console)
        return decision
