"""`hexaops serve`: the HTTP API (REST, SSE chat, WebSocket notifications, /metrics), the
browser chat at /chat, the Alertmanager webhook, the Slack bot when configured, and with
`--worker` the remediation worker — with the embedded components, or the configured servers,
started and stopped with it."""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Annotated

import typer
import uvicorn
from fastapi import FastAPI

from hexaops.platform.core import Platform, open_platform
from hexaops.platform.errors import PlatformError
from hexaops.platform.seed import seed
from hexaops.settings import Settings, load_settings
from hexaops.ui.auth import dev_login_enabled, oidc_issuer
from hexaops.ui.cli.output import console, fail


def build_app(
    settings: Settings,
    *,
    platform: Platform | None = None,
    worker: bool = False,
    worker_concurrency: int = 1,
) -> FastAPI:
    """The served app: API + webhook (+ worker) with the chat, and Slack when configured."""
    from hexaops.ui.api import create_app  # here: the API imports the CLI's Turn, not back
    from hexaops.ui.chat import mount_chat
    from hexaops.ui.worker import check_bus

    check_bus(settings)
    app = create_app(
        settings, platform, alerts=True, worker=worker, worker_concurrency=worker_concurrency
    )
    mount_chat(app, None, None, settings)
    if settings.slack_bot_token and settings.slack_signing_secret:
        from hexaops.ui.slack import mount_slack

        mount_slack(app, None, None, settings)
    return app


def announce(settings: Settings, host: str, port: int) -> None:
    """Where to go, and what sign-in is on."""
    from hexaops.ui.worker import uses_nats

    base = f"http://{host}:{port}"
    console.print(
        f"hexaops on {base} — chat at {base}/chat, OpenAPI at {base}/docs", soft_wrap=True
    )
    console.print(
        f"  alerts: POST {base}/webhooks/alertmanager → "
        + ("NATS JetStream" if uses_nats(settings) else "in-process event bus"),
        soft_wrap=True,
    )
    issuer = oidc_issuer(settings)
    if issuer:
        console.print(f"  sign-in: OIDC tokens of {issuer} (aud {settings.oidc_audience})")
    if dev_login_enabled(settings):
        console.print(
            "  [yellow]DEMO dev login is ON[/yellow]: POST /api/auth/dev-token "
            '{"email": "owner@acme.example"} gives a token without a password — never expose '
            "this server (HEXAOPS_DEV_LOGIN=false turns it off)",
            soft_wrap=True,
        )


def run_until_stopped(run: Callable[[], None]) -> None:
    """Run the server; Ctrl-C or SIGTERM end it (uvicorn re-raises the signal once it has
    shut down: both become KeyboardInterrupt here, so the components close cleanly)."""

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        run()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


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
    worker: Annotated[
        bool | None,
        typer.Option(
            "--worker/--no-worker",
            help="Run the remediation worker in this process (default: on without NATS, "
            "where no other process can take the alerts).",
        ),
    ] = None,
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, max=64, help="Alerts worked on at once.")
    ] = 1,
) -> None:
    """Serve the API, chat and alert webhook (OpenAPI at /docs); Ctrl-C stops it all."""
    from hexaops.ui.worker import uses_nats

    try:
        settings = load_settings()
        if demo:
            with open_platform(settings) as platform:
                seed(platform)
        run_worker = (not uses_nats(settings)) if worker is None else worker
        app = build_app(settings, worker=run_worker, worker_concurrency=concurrency)
    except PlatformError as exc:
        fail(exc.message)
    announce(settings, host, port)
    run_until_stopped(lambda: uvicorn.run(app, host=host, port=port, log_level=log_level))
