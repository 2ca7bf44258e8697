"""`hexaops worker`: a remediation worker process on NATS JetStream — alerts the API's
webhook queued are investigated and remediated here; run as many as the load needs."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Annotated

import typer

from hexaops.platform.core import Platform, open_platform
from hexaops.platform.errors import PlatformError
from hexaops.settings import Settings, load_settings
from hexaops.ui.cli.output import console, fail


def worker(
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, max=64, help="Alerts worked on at once.")
    ] = 1,
) -> None:
    """Take alerts from NATS (HEXAOPS_NATS_URL) until Ctrl-C or SIGTERM."""
    from hexaops.ui.worker import uses_nats

    try:
        settings = load_settings()
        if not uses_nats(settings):
            fail(
                "hexaops worker needs HEXAOPS_NATS_URL: without NATS the event bus lives inside "
                "one process — run `hexaops serve` (its worker is on by default) instead",
                2,
            )
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("hexaops").setLevel(logging.INFO)  # one line per alert taken
        with open_platform(settings) as platform:
            console.print(
                f"remediation worker on {settings.nats_url} "
                f"({concurrency} at once); Ctrl-C stops it"
            )
            asyncio.run(_run(platform, settings, concurrency))
    except PlatformError as exc:
        fail(exc.message)
    console.print("worker stopped")


async def _run(platform: Platform, settings: Settings, concurrency: int) -> None:
    from hexaops.ui.worker import RemediationWorker, open_event_bus

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with await open_event_bus(settings) as bus:
        remediation = RemediationWorker(platform, settings, bus, concurrency=concurrency)
        await remediation.start()
        try:
            await stop.wait()
        finally:
            await remediation.stop()
