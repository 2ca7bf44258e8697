"""`hexaops bench api`: chat over HTTP + SSE under open-loop load, against a scripted model.

A throw-away embedded PostgreSQL with the seeded platform; `processes` API servers (uvicorn,
one per usable CPU by default: the GIL makes one process one core), each the real app —
dev-login auth, the turn runner's thread pool, SSE — with the agents bench's scripted model
(`BenchModel`: supervisor → specialist → one read tool → answer, 3 calls of `model_seconds`).
The client, in this process, starts each turn at its Poisson arrival time whatever the others
do (open loop), round robin over the servers, and reads the stream to its `end` event.

Overhead = time from the turn's scheduled arrival to its `end` event, minus the model's time.
A turn is lost on any HTTP error, an `error` event, a missing `end`, or `timeout` seconds
beyond its model time. Goals: `rate` (50) turns/s sustained, p95 overhead <= 300 ms, 0 lost.

Then Alertmanager webhooks: `alerts` distinct alerts in webhooks of `alerts_per_webhook`, a
share of the webhooks sent twice (Alertmanager re-sends a group), to one server process with the
alert pipeline on (webhook → event bus with dedupe; the worker off, so the figure is the intake
path's). Lost = a non-202 answer, or alerts not queued exactly once by the server's own count
(`queued` for new alerts, `duplicates` for the re-sent). Goal: >= 1,000 alerts/min, 0 lost.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import random
import socket
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import httpx

from hexaops.platform.db.engine import scratch_postgres, sqlalchemy_url

GOAL_RATE: Final = 50.0
GOAL_P95_OVERHEAD_MS: Final = 300.0
GOAL_ALERTS_PER_MINUTE: Final = 1000.0
MODEL_CALLS_PER_TURN: Final = 3  # BenchModel: route, tool call, answer
ASKER: Final = "owner@acme.example"
QUESTION: Final = "which workspaces do we have?"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class _Server:
    home: str
    database_url: str
    port: int
    model_seconds: float
    workers: int
    alerts: bool = False  # the alert pipeline (webhook → bus), no worker


def _serve(server: _Server) -> None:
    """One API server process: the real app on the shared database, the scripted model."""
    import uvicorn
    from sqlalchemy import create_engine

    from hexaops.agents.bench import BenchModel
    from hexaops.agents.service import AgentService
    from hexaops.platform.core import Platform
    from hexaops.platform.drivers.sandbox import SandboxDriver
    from hexaops.settings import Settings
    from hexaops.ui.api import create_app

    settings = Settings(
        home=Path(server.home),
        database_url=server.database_url,
        dev_login=True,  # the bench's own throw-away platform
        api_turn_workers=server.workers,
    )
    engine = create_engine(server.database_url, pool_size=server.workers, max_overflow=16)
    platform = Platform(engine, SandboxDriver(engine))
    with AgentService(settings, platform, model=BenchModel(latency=server.model_seconds)) as agents:
        app = create_app(settings, platform, agents, alerts=server.alerts)
        uvicorn.run(app, host="127.0.0.1", port=server.port, log_level="warning")
    engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _arrivals(rate: float, seconds: float, seed: int) -> list[float]:
    rng, at, out = random.Random(seed), 0.0, list[float]()
    while (at := at + rng.expovariate(rate)) < seconds:
        out.append(at)
    return out


async def _turn(
    client: httpx.AsyncClient, url: str, token: str, arrival: float, timeout: float
) -> tuple[str, float | str]:
    """One chat turn from its scheduled arrival to its `end` event: ("ok", seconds) or
    ("lost", why)."""
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with asyncio.timeout(timeout):
            async with client.stream(
                "POST", f"{url}/api/chat", json={"message": QUESTION}, headers=headers
            ) as response:
                if response.status_code != 200:
                    return "lost", f"HTTP {response.status_code}"
                async for line in response.aiter_lines():
                    if line.startswith("event: error"):
                        return "lost", "error event"
                    if line.startswith("event: end"):
                        return "ok", time.perf_counter() - arrival
        return "lost", "stream ended without `end`"
    except TimeoutError:
        return "lost", "timeout"
    except httpx.HTTPError as exc:
        return "lost", f"{type(exc).__name__}"


async def _open_loop(
    urls: list[str], token: str, arrivals: list[float], timeout: float, say: Progress
) -> tuple[list[float], list[str], float]:
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=1000)
    async with httpx.AsyncClient(limits=limits, timeout=None) as client:
        start = time.perf_counter()
        tasks = []
        for n, offset in enumerate(arrivals):
            await asyncio.sleep(max(0.0, start + offset - time.perf_counter()))
            url = urls[n % len(urls)]
            tasks.append(asyncio.create_task(_turn(client, url, token, start + offset, timeout)))
            if n and n % 500 == 0:
                say(f"  {n} turns started at {time.perf_counter() - start:.0f} s")
        results = await asyncio.gather(*tasks)
    done = [
        (offset, float(v))
        for offset, (status, v) in zip(arrivals, results, strict=True)
        if status == "ok"
    ]
    lost = [str(v) for status, v in results if status != "ok"]
    ends = sorted(offset + latency for offset, latency in done)
    # Throughput between the first and the last answer (the model's time is not idle time).
    span = ends[-1] - ends[0] if len(ends) > 1 else 0.0
    return [latency for _, latency in done], lost, span


def _alert(n: int, at: str) -> dict[str, Any]:
    """A distinct firing alert (one pod of a known workload each)."""
    return {
        "status": "firing",
        "labels": {
            "alertname": "KubePodCrashLooping",
            "severity": "warning",
            "org": "acme",
            "workspace": "acme-prod",
            "namespace": "shop",
            "pod": f"checkout-{n:06d}",
        },
        "annotations": {"summary": "pod keeps restarting"},
        "startsAt": at,
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus/graph",
        "fingerprint": f"{n:016x}",
    }


async def _webhooks(
    url: str, alerts: int, per_webhook: int, resend_every: int, concurrency: int
) -> dict[str, Any]:
    """Send every alert once (and every `resend_every`-th webhook twice), `concurrency` requests
    in flight; count what the server says it queued and deduplicated."""
    at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    bodies = [
        {
            "version": "4",
            "status": "firing",
            "receiver": "hexaops",
            "groupKey": f"bench-{first}",
            "alerts": [_alert(n, at) for n in range(first, min(first + per_webhook, alerts))],
        }
        for first in range(0, alerts, per_webhook)
    ]
    sends = [*bodies, *bodies[::resend_every]]
    queued = duplicates = failed = 0
    gate = asyncio.Semaphore(concurrency)

    async def send(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
        nonlocal queued, duplicates, failed
        async with gate:
            try:
                answer = await client.post(f"{url}/webhooks/alertmanager", json=body)
            except httpx.HTTPError:
                failed += len(body["alerts"])
                return
        if answer.status_code != 202:
            failed += len(body["alerts"])
            return
        counts = answer.json()
        queued += counts["queued"]
        duplicates += counts["duplicates"]

    async with httpx.AsyncClient(timeout=30) as client:
        start = time.perf_counter()
        await asyncio.gather(*(send(client, body) for body in sends))
        elapsed = time.perf_counter() - start
    resent = sum(len(b["alerts"]) for b in bodies[::resend_every])
    return {
        "alerts": alerts,
        "webhooks": len(sends),
        "resent_alerts": resent,
        "queued": queued,
        "duplicates": duplicates,
        "failed": failed,
        "lost": failed + abs(alerts - queued) + abs(resent - duplicates),
        "seconds": round(elapsed, 3),
        "alerts_per_minute": round((alerts + resent) / elapsed * 60, 1),
    }


def _wait_ready(urls: list[str], procs: list[Any], seconds: float = 180.0) -> None:
    deadline = time.monotonic() + seconds
    for url, proc in zip(urls, procs, strict=True):
        while True:
            if not proc.is_alive():
                raise RuntimeError(f"the API server for {url} exited (code {proc.exitcode})")
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the API server at {url} did not start")
            time.sleep(0.2)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def bench_api(
    rate: float = GOAL_RATE,
    seconds: float = 30.0,
    model_seconds: float = 1.0,
    processes: int | None = None,
    timeout: float = 30.0,
    seed_value: int = 7,
    alerts: int = 5000,
    alerts_per_webhook: int = 10,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Run the chat load, then the webhook load; a JSON-able report with the verdicts."""
    from sqlalchemy import create_engine

    from hexaops.agents.bench import BenchModel
    from hexaops.agents.service import AgentService
    from hexaops.platform.core import Platform
    from hexaops.platform.db.engine import migrate
    from hexaops.platform.drivers.sandbox import SandboxDriver
    from hexaops.platform.seed import seed
    from hexaops.settings import Settings
    from hexaops.ui.auth import dev_token

    say = progress or (lambda _: None)
    processes = processes or len(os.sched_getaffinity(0))
    arrivals = _arrivals(rate, seconds, seed_value)
    workers = max(16, int(rate * (MODEL_CALLS_PER_TURN * model_seconds + 2) / processes) + 8)
    with scratch_postgres("hexaops-bench-api-") as (home, server_url):
        url = sqlalchemy_url(server_url)
        engine = create_engine(url)
        migrate(engine)
        platform = Platform(engine, SandboxDriver(engine))
        seed(platform)
        settings = Settings(home=home, database_url=url, dev_login=True)
        # Create the checkpointer's tables once, before the servers race to do it.
        AgentService(settings, platform, model=BenchModel()).close()
        engine.dispose()
        token = dev_token(settings, ASKER, 3600)
        servers = [
            _Server(str(home), url, _free_port(), model_seconds, workers) for _ in range(processes)
        ]
        ctx = multiprocessing.get_context("spawn")
        procs = [ctx.Process(target=_serve, args=(s,), daemon=True) for s in servers]
        for proc in procs:
            proc.start()
        urls = [f"http://127.0.0.1:{s.port}" for s in servers]
        try:
            say(f"starting {processes} API server(s)")
            _wait_ready(urls, procs)
            asyncio.run(_open_loop(urls, token, [0.0] * processes, timeout, lambda _: None))
            say(f"open loop: {len(arrivals)} turns at {rate:g}/s for {seconds:g} s")
            latencies, lost, span = asyncio.run(_open_loop(urls, token, arrivals, timeout, say))
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.join(timeout=30)
        webhook = _webhook_run(home, url, alerts, alerts_per_webhook, say) if alerts else None
    model_time = MODEL_CALLS_PER_TURN * model_seconds
    overheads = sorted(max(0.0, v - model_time) for v in latencies)
    p95 = overheads[int(0.95 * (len(overheads) - 1))] if overheads else None
    sustained = (len(latencies) - 1) / span if span else 0.0
    return {
        "rate": rate,
        "seconds": seconds,
        "processes": processes,
        "workers_per_process": workers,
        "model_seconds_per_call": model_seconds,
        "model_seconds_per_turn": model_time,
        "turns": len(arrivals),
        "completed": len(latencies),
        "lost": len(lost),
        "first_lost": sorted(set(lost))[:3],
        "sustained_turns_per_second": round(sustained, 2),
        "p50_overhead_ms": _ms(statistics.median(overheads)) if overheads else None,
        "p95_overhead_ms": None if p95 is None else _ms(p95),
        "max_overhead_ms": _ms(overheads[-1]) if overheads else None,
        "webhook": webhook,
        "goals": {
            "turns_per_second": GOAL_RATE,
            "p95_overhead_ms": GOAL_P95_OVERHEAD_MS,
            "lost": 0,
            "alerts_per_minute": GOAL_ALERTS_PER_MINUTE,
        },
        "verdicts": {
            "rate": sustained >= 0.95 * GOAL_RATE and not lost,
            "p95_overhead": p95 is not None and _ms(p95) <= GOAL_P95_OVERHEAD_MS,
            "lost": not lost,
            **(
                {
                    "alerts_per_minute": webhook["alerts_per_minute"] >= GOAL_ALERTS_PER_MINUTE
                    and not webhook["lost"]
                }
                if webhook
                else {}
            ),
        },
    }


def _webhook_run(
    home: str | Path, url: str, alerts: int, per_webhook: int, say: Progress
) -> dict[str, Any]:
    """One API server process with the alert pipeline on, and the webhooks against it."""
    server = _Server(str(home), url, _free_port(), 0.0, 16, alerts=True)
    proc = multiprocessing.get_context("spawn").Process(target=_serve, args=(server,), daemon=True)
    proc.start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        _wait_ready([base], [proc])
        say(f"webhook: {alerts} alerts, {per_webhook} per webhook, every 5th webhook re-sent")
        return asyncio.run(_webhooks(base, alerts, per_webhook, resend_every=5, concurrency=8))
    finally:
        proc.terminate()
        proc.join(timeout=30)
