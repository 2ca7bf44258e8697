"""`hexaops serve`: the HTTP API (REST, SSE chat, WebSocket notifications, /metrics) with the
embedded components — or the configured servers — started and stopped with it."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from hexaops.platform.core import open_platform
from hexaops.platform.errors import PlatformError
from hexaops.platform.seed import seed
from hexaops.settings import load_settings
from hexaops.ui.auth import dev_login_enabled, oidc_issuer
from hexaops.ui.cli.output import console, fail


def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8000,
    log_level: Annotated[
        str, typer.Option("--log-level", help="uvicorn log level (info, warning, debug).")
    ] = "info",
    demo: Annotated[
        bool,
        typer.Option("--seed", help="Create the demo organizations first (idempotent)."),
    ] = False,
) -> None:
    """Serve the API (OpenAPI at /docs); Ctrl-C stops it and the embedded components."""
    from hexaops.ui.api import create_app  # here: the API imports the CLI's Turn, not back

    try:
        settings = load_settings()
        if demo:
            with open_platform(settings) as platform:
                seed(platform)
        app = create_app(settings)
    except PlatformError as exc:
        fail(exc.message)
    issuer = oidc_issuer(settings)
    console.print(f"hexaops API on http://{host}:{port} — OpenAPI at /docs, metrics at /metrics")
    if issuer:
        console.print(f"  sign-in: OIDC tokens of {issuer} (aud {settings.oidc_audience})")
    if dev_login_enabled(settings):
        console.print(
            "  [yellow]DEMO dev login is ON[/yellow]: POST /api/auth/dev-token "
            '{"email": "owner@acme.example"} gives a token without a password — never expose '
            "this server (HEXAOPS_DEV_LOGIN=false turns it off)",
            soft_wrap=True,
        )
    uvicorn.run(app, host=host, port=port, log_level=log_level)
