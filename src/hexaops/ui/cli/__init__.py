"""The `hexaops` command line."""

from __future__ import annotations

import typer

from hexaops.ui.cli import (
    ask,
    bench,
    incidents,
    knowledge,
    platform,
    policies,
    sandbox,
    tools,
    usage,
)
from hexaops.ui.cli import eval as evaluation
from hexaops.ui.cli.chat import chat
from hexaops.ui.cli.demo import demo
from hexaops.ui.cli.mcp import mcp
from hexaops.ui.cli.serve import serve
from hexaops.ui.cli.worker import worker

app = typer.Typer(
    name="hexaops",
    help="hexaops — AI-ops assistant for a multi-tenant Kubernetes platform.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(platform.app, name="platform")
app.add_typer(sandbox.app, name="sandbox")
app.add_typer(ask.app, name="ask")
app.add_typer(tools.app, name="tool")
app.add_typer(knowledge.app, name="knowledge")
app.add_typer(incidents.app, name="incidents")
app.add_typer(policies.app, name="policies")
app.add_typer(usage.app, name="usage")
app.add_typer(evaluation.app, name="eval")
app.add_typer(bench.app, name="bench")
app.command("demo")(demo)
app.command("serve")(serve)
app.command("worker")(worker)
app.command("chat")(chat)
app.command("mcp")(mcp)


def main() -> None:
    app()
