"""`hexaops demo`: the whole product on 127.0.0.1 — API, browser chat, alert webhook and
remediation worker on the embedded platform (seeded, a live incident in the sandbox whose clock
keeps moving, a couple of actions waiting for an owner). Works without an API key (the offline
planner) or with one. `--no-serve` prepares the same platform, prints it and exits.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any, Final

import httpx
import typer

from hexaops.incidents import store as incidents
from hexaops.incidents.faults import alert_for_fault
from hexaops.knowledge.embeddings import embedder_from_settings
from hexaops.knowledge.ingest import IngestReport, ensure_corpus
from hexaops.platform.core import Platform, open_platform
from hexaops.platform.domain import Role
from hexaops.platform.errors import PlatformError
from hexaops.platform.sandbox import Simulation
from hexaops.platform.sandbox.demo import DEMO_INCIDENT, ensure_demo_incident
from hexaops.platform.seed import ORGS, SeedReport, seed
from hexaops.platform.telemetry.clickhouse import ClickHouseStore
from hexaops.settings import Settings, load_settings
from hexaops.ui.cli.output import JsonFlag, console, emit_json, fail
from hexaops.ui.cli.platform import print_overview

log = logging.getLogger(__name__)

DEMO_MINUTES: Final = 30  # simulated minutes per preparation: the leak has OOMKilled by then
PACE_SECONDS: Final = 2.0  # the sandbox moves every 2 s of wall time …
PACE_MINUTES: Final = 0.5  # … by 30 simulated seconds: one 15 s tick per second
OWNER: Final = "owner@acme.example"
SETTLED: Final = ("awaiting_approval", "resolved", "escalated", "rejected")

# High-risk requests of a developer: they wait for an owner or admin (idempotent by key).
PENDING: Final = (
    (
        "dev@acme.example",
        "application.scale",
        {"org": "acme", "workspace": "acme-staging", "project": "shop", "name": "checkout"}
        | {"replicas": 0},
        "demo:staging-checkout-to-zero",
    ),
    (
        "dev@acme.example",
        "application.delete",
        {"org": "acme", "workspace": "acme-staging", "project": "shop", "name": "catalog"},
        "demo:staging-delete-catalog",
    ),
)

QUESTIONS: Final = (
    "what is wrong with checkout in acme-prod?",
    "show me the memory of checkout over the last 30 minutes",
    "which actions are waiting for approval?",
    "how do I fix pods that keep getting OOMKilled?",
    "scale frontend in acme-staging to 3 replicas",
)


@dataclass
class Prepared:
    """The demo platform as it was set up."""

    seeded: SeedReport
    fault_id: int
    corpus: IngestReport
    sandbox: dict[str, Any]
    pending: list[dict[str, Any]] = field(default_factory=list)


def prepare(platform: Platform, settings: Settings) -> Prepared:
    """Seed (idempotent), keep the live incident going for DEMO_MINUTES, ingest the knowledge
    base, and leave the developer's high-risk requests pending."""
    seeded = seed(platform)
    simulation = Simulation(platform.engine)
    fault_id = ensure_demo_incident(simulation)
    corpus = ensure_corpus(platform.engine, embedder_from_settings(settings))
    with ClickHouseStore.from_settings(settings) as telemetry:
        advanced = simulation.advance(DEMO_MINUTES, telemetry)
    pending = []
    for email, kind, params, key in PENDING:
        view = platform.request(platform.user(email), kind, params, idempotency_key=key)
        pending.append({"id": view.id, "operation": kind, "by": email, "status": view.status})
    return Prepared(seeded, fault_id, corpus, advanced.to_json(), pending)


def demo_alert(platform: Platform, fault_id: int) -> dict[str, Any]:
    """The Alertmanager alert the live incident raises now (what Prometheus would send)."""
    simulation = Simulation(platform.engine)
    owner = platform.user(OWNER)
    org, workspace = DEMO_INCIDENT["org"], DEMO_INCIDENT["workspace"]
    apps = [
        (p.name, a.name)
        for p in platform.projects(owner, workspace, org)
        for a in platform.applications(owner, workspace, p.name, org)
    ]
    return alert_for_fault(simulation.truth(fault_id), simulation.now(), apps).to_json()


def demo(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8000,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Prepare the platform, print it and exit.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """The embedded demo: API, chat, alert webhook and worker on a seeded platform with a live
    incident (Ctrl-C stops it all). --no-serve (or --json) only prepares and prints it."""
    settings = _settings()
    if no_serve or as_json:
        _one_shot(settings, as_json)
    else:
        _serve(settings, host, port)


def _settings() -> Settings:
    try:
        return load_settings()
    except PlatformError as exc:
        fail(exc.message)


# -- one shot ------------------------------------------------------------------------------


def _one_shot(settings: Settings, as_json: bool) -> None:
    try:
        with open_platform(settings) as platform:
            prepared = prepare(platform, settings)
            owners = [
                next(e for e, r in o["members"].items() if r is Role.OWNER) for o in ORGS.values()
            ]
            views = {email: platform.overview(platform.user(email)) for email in owners}
            status = Simulation(platform.engine).status(
                DEMO_INCIDENT["org"], DEMO_INCIDENT["workspace"]
            )
    except PlatformError as exc:
        fail(exc.message)
    if as_json:
        emit_json(
            {
                "created": prepared.seeded.created,
                "existing": prepared.seeded.existing,
                "platform": views,
                "incident": {"fault_id": prepared.fault_id, **DEMO_INCIDENT},
                "sandbox": prepared.sandbox,
                "knowledge": prepared.corpus.as_dict(),
                "pending": prepared.pending,
            }
        )
        return
    _print_platform(settings, prepared, views)
    _print_incident(prepared, status)
    for hint in (
        'hexaops ask "what is wrong with checkout in acme-prod?" --as dev@acme.example',
        "hexaops chat --as dev@acme.example",
        'hexaops tool run diagnose --as dev@acme.example --args \'{"workspace": "acme-prod"}\'',
        'hexaops knowledge search "pods keep getting OOMKilled" --as dev@acme.example',
        "hexaops sandbox status -w acme-prod --as owner@acme.example",
        "hexaops platform actions list --status pending --as owner@acme.example",
        "hexaops demo   (serves all of it at http://127.0.0.1:8000/chat)",
    ):
        console.print(f"  try: {hint}", soft_wrap=True, highlight=False)


def _print_platform(settings: Settings, prepared: Prepared, views: dict[str, Any]) -> None:
    where = (settings.database_url and "DATABASE_URL") or f"embedded PostgreSQL in {settings.home}"
    console.print(f"[bold]hexaops demo[/bold] — {settings.driver} driver, {where}")
    console.print(
        f"seed: {len(prepared.seeded.created)} created, {len(prepared.seeded.existing)} "
        "already present"
    )
    console.print(f"knowledge base: {prepared.corpus.summary()}\n", highlight=False)
    for email, tree in views.items():
        console.print(f"[dim]as {email}:[/dim]")
        print_overview(tree)
        console.print()


def _print_incident(prepared: Prepared, status: dict[str, Any]) -> None:
    checkout = next(d for d in status["deployments"] if d["name"] == DEMO_INCIDENT["target"])
    restarts = sum(p["restarts"] for p in checkout["pods"])
    console.print(
        f"[bold red]live incident[/bold red] (sandbox fault {prepared.fault_id}): "
        f"{DEMO_INCIDENT['workspace']}/shop/checkout — {checkout['ready_replicas']}/"
        f"{checkout['replicas']} ready, {restarts} restarts so far; simulated time "
        f"{prepared.sandbox['now']}, {prepared.sandbox['samples']:,} samples written to ClickHouse",
        soft_wrap=True,
        highlight=False,
    )
    for action in prepared.pending:
        console.print(
            f"  action #{action['id']} {action['operation']} by {action['by']}: {action['status']}",
            soft_wrap=True,
            highlight=False,
        )
    console.print()


# -- serving -------------------------------------------------------------------------------


def _serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from hexaops.ui.cli.serve import build_app, run_until_stopped

    local = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    base = f"http://{local}:{port}"
    try:
        with open_platform(settings) as platform:
            console.print("[bold]hexaops demo[/bold] — preparing the embedded platform …")
            prepared = prepare(platform, settings)
            app = build_app(settings, platform=platform, worker=True)
            _banner(settings, prepared, base)
            with _sandbox_pace(platform, settings), _alert_after_start(platform, prepared, base):
                run_until_stopped(
                    lambda: uvicorn.run(app, host=host, port=port, log_level="warning")
                )
    except PlatformError as exc:
        fail(exc.message)
    console.print("hexaops demo stopped")


def _banner(settings: Settings, prepared: Prepared, base: str) -> None:
    from hexaops.agents.providers import build_chat_model

    model = build_chat_model(settings).description
    users = [e for o in ORGS.values() for e in o["members"]]
    console.print(
        f"\n[bold]hexaops demo[/bold] on [bold]{base}/chat[/bold]  (API {base}/docs, alerts "
        f"POST {base}/webhooks/alertmanager) — model: {model}",
        soft_wrap=True,
        highlight=False,
    )
    console.print(
        f"  sign in as {', '.join(users)} — password [bold]dev[/bold] (demo dev login: "
        "never expose this server)",
        soft_wrap=True,
        highlight=False,
    )
    console.print(
        f"  live incident: {DEMO_INCIDENT['workspace']}/shop/checkout leaks memory (sandbox "
        f"fault {prepared.fault_id}); its alert goes to the worker now; the sandbox clock moves "
        "15 s per second",
        soft_wrap=True,
        highlight=False,
    )
    for action in prepared.pending:
        console.print(
            f"  waiting for an owner: action #{action['id']} {action['operation']} "
            f"requested by {action['by']} ({action['status']})",
            soft_wrap=True,
            highlight=False,
        )
    console.print("  ask, e.g.:")
    for question in QUESTIONS:
        console.print(f"    {question}", highlight=False)
    console.print("  Ctrl-C stops everything\n")


@contextmanager
def _sandbox_pace(platform: Platform, settings: Settings) -> Iterator[None]:
    """Keep the sandbox clock moving (and its telemetry flowing) while the demo runs."""
    stop = threading.Event()

    def run() -> None:
        simulation = Simulation(platform.engine)
        with ClickHouseStore.from_settings(settings) as telemetry:
            while not stop.wait(PACE_SECONDS):
                try:
                    simulation.advance(PACE_MINUTES, telemetry)
                except Exception:  # a demo that stops ticking must not stop serving
                    log.exception("the sandbox clock did not advance")

    thread = threading.Thread(target=run, name="sandbox-pace", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)


@contextmanager
def _alert_after_start(platform: Platform, prepared: Prepared, base: str) -> Iterator[None]:
    """Once the server answers, raise the live incident's alert through the webhook (as
    Alertmanager would) and report where the worker took it."""
    stop = threading.Event()

    def run() -> None:
        try:
            if not _wait_healthy(base, stop):
                return
            body = {"version": "4", "alerts": [demo_alert(platform, prepared.fault_id)]}
            sent = httpx.post(f"{base}/webhooks/alertmanager", json=body, timeout=10)
            sent.raise_for_status()
            _report_incident(platform, stop)
        except (httpx.HTTPError, PlatformError) as exc:
            console.print(f"[yellow]could not raise the demo alert: {exc}[/yellow]")

    thread = threading.Thread(target=run, name="demo-alert", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def _wait_healthy(base: str, stop: threading.Event, timeout: float = 120.0) -> bool:
    deadline = time.monotonic() + timeout
    while not stop.wait(0.2):
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            return False
    return False


def _report_incident(platform: Platform, stop: threading.Event, timeout: float = 300.0) -> None:
    """Print the demo incident once the worker has settled it (or say it still works on it)."""
    owner = platform.user(OWNER)
    deadline = time.monotonic() + timeout
    while not stop.wait(1.0):
        found = incidents.listing(platform, owner, org=DEMO_INCIDENT["org"], limit=5)
        mine = [i for i in found if i["workspace"] == DEMO_INCIDENT["workspace"]]
        if mine and mine[0]["status"] in SETTLED:
            i = mine[0]
            hint = (
                f" — approve it as {OWNER}: POST /api/incidents/{i['id']}/decision "
                '{"decision": "approve"} (try it in /docs)'
                if i["status"] == "awaiting_approval"
                else ""
            )
            console.print(
                f"[bold red]incident #{i['id']}[/bold red] {i['title']}: [bold]{i['status']}"
                f"[/bold] — root cause: {i['root_cause'] or 'unknown'}{hint}",
                soft_wrap=True,
                highlight=False,
            )
            return
        if time.monotonic() > deadline:
            console.print("[yellow]the worker is still investigating the demo incident[/yellow]")
            return
