"""How the CLI talks: JSON or tables on stdout, one clear error line on stderr, exit codes.

Exit codes: 0 success, 1 operation error (the message says what to do), 2 usage error.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hexaops.platform.core import Platform, open_platform
from hexaops.platform.domain import Principal
from hexaops.platform.errors import PlatformError
from hexaops.platform.views import ActionView
from hexaops.settings import load_settings

JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
AsUser = Annotated[
    str,
    typer.Option(
        "--as", envvar="HEXAOPS_AS", help="Act as this platform user (email).", show_default=False
    ),
]
OrgOption = Annotated[
    str | None, typer.Option("--org", help="Organization (when a name is ambiguous).")
]
IdempotencyKey = Annotated[
    str | None,
    typer.Option(
        "--idempotency-key", help="Repeat-safe key: the same key returns the same action."
    ),
]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Show the plan; change nothing.")]
Workspace = Annotated[str, typer.Option("--workspace", "-w", help="Workspace name.")]
Project = Annotated[str, typer.Option("--project", "-p", help="Project name.")]
Name = Annotated[str, typer.Option("--name", "-n", help="Name (DNS-1123: lowercase, digits, '-').")]

console = Console()


def fail(message: str, code: int = 1) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(code)


@contextmanager
def platform_session() -> Iterator[Platform]:
    """Open the platform; turn platform errors into one stderr line and exit code 1."""
    try:
        with open_platform(load_settings()) as platform:
            yield platform
    except PlatformError as exc:
        fail(exc.message)


@contextmanager
def acting(email: str) -> Iterator[tuple[Platform, Principal]]:
    with platform_session() as platform:
        yield platform, platform.user(email)


def submit_action(
    email: str, kind: str, params: dict[str, Any], key: str | None, dry_run: bool, as_json: bool
) -> None:
    """Request an operation as `email` and show the resulting action."""
    with acting(email) as (platform, principal):
        view = platform.request(principal, kind, params, idempotency_key=key, dry_run=dry_run)
    emit_action(view, as_json)


def to_jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    return value


def emit_json(value: Any) -> None:
    print(json.dumps(to_jsonable(value), indent=2, default=str))


def emit_table(
    rows: Sequence[BaseModel], columns: Sequence[tuple[str, Callable[[Any], Any]]], title: str = ""
) -> None:
    if not rows:
        console.print(f"[dim]no {title or 'results'}[/dim]")
        return
    table = Table(title=title or None, title_justify="left")
    for header, _ in columns:
        table.add_column(header)
    for row in rows:
        table.add_row(*(_cell(get(row)) for _, get in columns))
    console.print(table)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return str(value)


def emit_action(view: ActionView, as_json: bool) -> None:
    """Show an action; a failed action also ends the command with exit code 1."""
    if as_json:
        emit_json(view)
    else:
        ident = "dry run" if view.id is None else f"action {view.id}"
        replay = " (replayed: this idempotency key was used before)" if view.replayed else ""
        console.print(
            f"[bold]{ident}[/bold] {view.operation} {view.target}: [bold]{view.status}[/bold]{replay}"
        )
        console.print(f"  {escape(view.summary)}")
        for change in view.plan.get("changes", []):
            after = _cell(change.get("after")) if change.get("after") else ""
            line = f"  {change['op']:>6} {change['kind']} {change['name']} {after}".rstrip()
            console.print(escape(line))
        for warning in view.plan.get("warnings", []):
            console.print(f"  [yellow]warning:[/yellow] {warning}")
        if view.status == "pending":
            console.print(
                f"  waits for an owner or admin: hexaops platform actions approve {view.id} --as EMAIL"
            )
    if view.status == "failed":
        fail(f"action {view.id} failed: {view.error}")
