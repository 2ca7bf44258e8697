"""`hexaops tool`: list the agents' tools and run one exactly as an agent would — as a
principal, with the same validation, authorization, budget and structured result."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.json import JSON
from rich.markup import escape

from hexaops.settings import load_settings
from hexaops.tools.catalog import all_tools
from hexaops.tools.context import ToolContext
from hexaops.tools.contract import TOOLSETS, ToolResult, run_tool
from hexaops.ui.cli.output import AsUser, JsonFlag, acting, console, emit_json, fail

app = typer.Typer(help="The assistant's tools: list them, run one as a user.", no_args_is_help=True)


@app.command("list")
def list_tools(
    toolset: Annotated[
        str | None, typer.Option("--toolset", help=f"Only one toolset: {', '.join(TOOLSETS)}.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """List the tools with their toolset, whether they write, and what they do."""
    if toolset is not None and toolset not in TOOLSETS:
        fail(f"unknown toolset {toolset!r}: choose one of {', '.join(TOOLSETS)}", 2)
    tools = [t for t in all_tools().values() if toolset in (None, t.toolset)]
    if as_json:
        emit_json([t.describe() for t in tools])
        return
    for t in tools:
        first = " ".join(t.description.split("\n\n")[0].split())
        mark = " [yellow](requests an action)[/yellow]" if t.writes else ""
        console.print(f"[bold]{t.name}[/bold] [dim]{t.toolset}[/dim]{mark}\n  {first}")


@app.command("show")
def show_tool(name: Annotated[str, typer.Argument(help="Tool name.")]) -> None:
    """Show a tool's description and input schema (JSON)."""
    found = all_tools().get(name)
    if found is None:
        fail(f"unknown tool {name!r}: `hexaops tool list` shows the tools there are")
    emit_json(found.describe())


def _arguments(raw: str) -> dict[str, Any]:
    """--args as JSON text, @file.json, or - for stdin."""
    text = raw
    if raw == "-":
        text = sys.stdin.read()
    elif raw.startswith("@"):
        try:
            text = Path(raw[1:]).read_text()
        except OSError as exc:
            fail(f"cannot read {raw[1:]}: {exc.strerror}", 2)
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError as exc:
        fail(
            f'--args is not valid JSON ({exc.msg} at column {exc.colno}): e.g. \'{{"workspace": "prod"}}\'',
            2,
        )
    if not isinstance(value, dict):
        fail('--args must be a JSON object, e.g. \'{"workspace": "prod"}\'', 2)
    return value


@app.command("run")
def run(
    name: Annotated[str, typer.Argument(help="Tool name (see `hexaops tool list`).")],
    email: AsUser,
    args: Annotated[
        str, typer.Option("--args", help="Arguments: JSON object, @file.json, or - for stdin.")
    ] = "{}",
    budget: Annotated[
        int | None,
        typer.Option("--budget", min=200, help="Token budget of the result (default: setting)."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Run a tool as a user. Exit code 1 when the tool answers with an error."""
    arguments = _arguments(args)
    settings = load_settings()
    all_tools()  # import every toolset before the call is timed
    with acting(email) as (platform, principal):
        ctx = ToolContext.for_settings(platform, principal, settings)
        if budget is not None:
            ctx.budget_tokens = budget
        with ctx:
            result = run_tool(ctx, name, arguments)
    if as_json:
        emit_json(result)
    else:
        _print(result)
    if result.status == "error":
        if as_json:
            raise typer.Exit(1)
        fail(result.summary)


def _print(result: ToolResult) -> None:
    if result.status == "error":
        return  # the error line says it
    # Tool output is data: brackets in it are text, never console markup.
    console.print(
        f"[bold]{result.tool}[/bold]: {escape(result.summary)}", soft_wrap=True, highlight=False
    )
    if result.data is not None:
        console.print(JSON.from_data(result.data, default=str))
    for ev in result.evidence:
        where = " ".join(
            p
            for p in (
                ev.backend,
                ev.query,
                f"{ev.start:%Y-%m-%d %H:%M}…{ev.end:%H:%M}" if ev.start and ev.end else "",
                ", ".join(ev.objects[:8]) + (" …" if len(ev.objects) > 8 else ""),
            )
            if p
        )
        console.print(
            f"[dim]evidence ({ev.kind}): {escape(where)}[/dim]", soft_wrap=True, highlight=False
        )
    note = " — shortened to fit the budget" if result.truncated else ""
    console.print(f"[dim]{result.tokens} tokens, {result.elapsed_ms:.0f} ms{note}[/dim]")
