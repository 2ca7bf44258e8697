"""`hexaops demo`: the embedded demo platform — seeded, with a live incident in the sandbox and the
knowledge base ingested — and its state printed per organization."""

from __future__ import annotations

from hexaops.knowledge.embeddings import embedder_from_settings
from hexaops.knowledge.ingest import ensure_corpus
from hexaops.platform.domain import Role
from hexaops.platform.sandbox import Simulation
from hexaops.platform.sandbox.demo import DEMO_INCIDENT, ensure_demo_incident
from hexaops.platform.seed import ORGS, seed
from hexaops.platform.telemetry.clickhouse import ClickHouseStore
from hexaops.settings import load_settings
from hexaops.ui.cli.output import JsonFlag, console, emit_json, platform_session
from hexaops.ui.cli.platform import print_overview

DEMO_MINUTES = 30


def demo(as_json: JsonFlag = False) -> None:
    """Seed the embedded platform (idempotent), keep its live incident running for another 30
    simulated minutes, and print what each organization's owner sees."""
    settings = load_settings()
    with platform_session() as platform:
        report = seed(platform)
        simulation = Simulation(platform.engine)
        incident = ensure_demo_incident(simulation)
        corpus = ensure_corpus(platform.engine, embedder_from_settings(settings))
        with ClickHouseStore.from_settings(settings) as store:
            advanced = simulation.advance(DEMO_MINUTES, store)
        incident_status = simulation.status(DEMO_INCIDENT["org"], DEMO_INCIDENT["workspace"])
        owners = [
            next(e for e, r in o["members"].items() if r is Role.OWNER) for o in ORGS.values()
        ]
        views = {email: platform.overview(platform.user(email)) for email in owners}
    if as_json:
        emit_json(
            {
                "created": report.created,
                "existing": report.existing,
                "platform": views,
                "incident": {"fault_id": incident, **DEMO_INCIDENT},
                "sandbox": advanced.to_json(),
                "knowledge": corpus.as_dict(),
            }
        )
        return
    where = (settings.database_url and "DATABASE_URL") or f"embedded PostgreSQL in {settings.home}"
    console.print(f"[bold]hexaops demo[/bold] — {settings.driver} driver, {where}")
    console.print(f"seed: {len(report.created)} created, {len(report.existing)} already present")
    console.print(f"knowledge base: {corpus.summary()}\n", highlight=False)
    for email, tree in views.items():
        console.print(f"[dim]as {email}:[/dim]")
        print_overview(tree)
        console.print()
    checkout = next(
        d for d in incident_status["deployments"] if d["name"] == DEMO_INCIDENT["target"]
    )
    restarts = sum(p["restarts"] for p in checkout["pods"])
    console.print(
        f"[bold red]live incident[/bold red] (sandbox fault {incident}): "
        f"{DEMO_INCIDENT['workspace']}/shop/checkout — {checkout['ready_replicas']}/"
        f"{checkout['replicas']} ready, {restarts} restarts so far; simulated time {advanced.now}, "
        f"{advanced.samples:,} samples written to ClickHouse",
        soft_wrap=True,
        highlight=False,
    )
    console.print()
    for hint in (
        'hexaops ask "what is wrong with checkout in acme-prod?" --as dev@acme.example',
        "hexaops chat --as dev@acme.example",
        'hexaops tool run diagnose --as dev@acme.example --args \'{"workspace": "acme-prod"}\'',
        "hexaops tool run logs_summary --as dev@acme.example --args "
        '\'{"workspace": "acme-prod", "project": "shop", "workload": "checkout"}\'',
        'hexaops knowledge search "pods keep getting OOMKilled" --as dev@acme.example',
        "hexaops sandbox status -w acme-prod --as owner@acme.example",
        "hexaops platform workspace list --as dev@acme.example",
        "hexaops platform app scale -w acme-staging -p shop -n checkout --replicas 3 --as dev@acme.example",
        "hexaops platform workspace delete -n acme-staging --as owner@acme.example  (waits for approval)",
        "hexaops platform actions list --status pending --as owner@acme.example",
    ):
        console.print(f"  try: {hint}", soft_wrap=True, highlight=False)
