"""`hexaops usage`: tokens and cost of the agent runs, by model, as one principal may see them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from hexaops.agents.accounting import UsageLine, UsageReport, UsageStore, parse_since
from hexaops.platform.errors import PlatformError
from hexaops.ui.cli.output import (
    AsUser,
    JsonFlag,
    console,
    emit_json,
    fail,
    platform_session,
)

app = typer.Typer()  # one command: its docstring is the help of `hexaops usage`


@app.callback(invoke_without_command=True)
def usage(
    email: AsUser,
    org: Annotated[
        str | None,
        typer.Option("--org", help="Only this organization (yours; owners and admins see all)."),
    ] = None,
    session_id: Annotated[
        str | None, typer.Option("--session", help="Only this agent session (thread id).")
    ] = None,
    turn_id: Annotated[str | None, typer.Option("--turn", help="Only this turn.")] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since", help="Only calls since: 24h, 7d, 90m or an ISO time (default: all)."
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Model usage and cost of the agent runs.

    Calls, tokens in/out and USD by model, of your own sessions and of every session of the
    organizations you own or administer."""
    try:
        start = None if since is None else parse_since(since, datetime.now(UTC))
    except PlatformError as exc:
        fail(exc.message, 2)
    with platform_session() as platform:
        report = UsageStore.of(platform).report(
            platform.user(email), org=org, session_id=session_id, turn_id=turn_id, since=start
        )
    if as_json:
        emit_json(report)
        return
    _print(report)


def _print(report: UsageReport) -> None:
    scope = [f"org {report.org}" if report.org else "all your organizations"]
    if report.session_id:
        scope.append(f"session {report.session_id}")
    if report.turn_id:
        scope.append(f"turn {report.turn_id}")
    if report.since:
        scope.append(f"since {report.since:%Y-%m-%d %H:%M} UTC")
    title = f"usage as {report.principal}: {', '.join(scope)}"
    if not report.by_model:
        console.print(f"[dim]no model calls recorded ({title})[/dim]", highlight=False)
        return
    table = Table(title=title, title_justify="left")
    for header in ("provider", "model", "calls", "tokens in", "tokens out", "cost USD"):
        table.add_column(header, justify="left" if header in ("provider", "model") else "right")
    for line in report.by_model:
        table.add_row(*_cells(line))
    table.add_section()
    table.add_row("total", "", *_cells(report.total)[2:], style="bold")
    console.print(table)
    for note in report.notes:
        console.print(f"[yellow]note:[/yellow] {note}", highlight=False)


def _cells(line: UsageLine) -> list[str]:
    cost = "-" if line.cost_usd is None else f"{line.cost_usd:.4f}"
    if line.unpriced_calls and line.cost_usd is not None:
        cost += "+"  # some calls have no price: the cost is a lower bound
    return [
        line.provider,
        line.model,
        str(line.calls),
        f"{line.input_tokens:,}",
        f"{line.output_tokens:,}",
        cost,
    ]
