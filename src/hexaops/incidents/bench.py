"""`hexaops bench incidents`: alert intake throughput, time to root cause, recovery time.

On a throw-away embedded PostgreSQL (migrated, seeded) and chDB:

1. intake: N synthetic Alertmanager alerts (new, duplicates, related alerts of the same
   workloads, resolves) from W threads through dedupe and grouping — alerts/min and lost
   alerts (every alert must be counted in its fingerprint's row), against a baseline from the
   same run: the same number of plain alert-row inserts, one transaction each;
2. every sandbox fault kind, each in a fresh database: inject it, raise its alert, run the
   remediation graph under an allowing policy — time from alert to ranked root cause (tools
   and rules; no LLM: the narrative is the template), whether the top hypothesis names the
   object at fault, whether the fault is resolved, and the recovery time in simulated minutes
   (from the alert to verified recovery).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Engine, create_engine, func, insert, select, text

from hexaops.incidents.alerts import Alert
from hexaops.incidents.faults import alert_for_fault
from hexaops.incidents.intake import ingest
from hexaops.incidents.models import IncidentAlert
from hexaops.incidents.policies import parse, set_policy
from hexaops.incidents.store import detail
from hexaops.incidents.workflow import Remediator
from hexaops.knowledge.embeddings import embedder_from_settings
from hexaops.platform.core import Platform
from hexaops.platform.db.engine import migrate, scratch_postgres, sqlalchemy_url
from hexaops.platform.drivers.contract import WorkloadRef
from hexaops.platform.drivers.sandbox import SandboxDriver
from hexaops.platform.sandbox import CATALOG, Simulation
from hexaops.platform.seed import APPS, seed
from hexaops.platform.telemetry.clickhouse import ClickHouseStore
from hexaops.settings import Settings

ORG, WS, NS, OWNER = "acme", "acme-prod", "shop", "owner@acme.example"
GOAL_ALERTS_PER_MINUTE: Final = 1000
GOAL_P95_SECONDS: Final = 1.0
FIXES: Final = (
    "application.rollback",
    "application.restart",
    "application.scale",
    "application.deploy",
    "application.set_hpa",
    "project.update_quota",
    "node.drain",
    "certificate.renew",
    "pod.delete",
    "workspace.restart_dns",
)  # network_policy.delete is never pre-approved: the bench's owner approves it
# fault kind → (target: "app" | "POD:app" | "NODE" | "WORKSPACE", minutes to let it show, setup)
SCENARIOS: Final[dict[str, tuple[str, float, str | None]]] = {
    "oom_memory_leak": ("frontend", 12, "rollout:frontend"),
    "crashloop_bad_config": ("checkout", 3, "rollout:checkout"),
    "image_pull_backoff": ("checkout", 3, "rollout:checkout"),
    "cpu_saturation": ("catalog", 5, None),
    "quota_exhausted": ("checkout", 3, None),
    "node_memory_pressure": ("NODE", 3, None),
    "node_disk_pressure": ("NODE", 3, None),
    "noisy_neighbour": ("catalog", 5, None),
    "hpa_at_max": ("checkout", 3, "hpa"),
    "bad_deploy_error_spike": ("checkout", 5, "rollout:checkout"),
    "slow_dependency": ("payments", 5, None),
    "certificate_expiry": ("frontend", 3, None),
    "vulnerable_image": ("payments", 3, None),
    "network_policy_blocking": ("payments", 3, None),
    "disk_full": ("POD:catalog", 3, None),
    "dns_failure": ("WORKSPACE", 3, None),
    "liveness_probe_misconfigured": ("checkout", 3, "rollout:checkout"),
}
Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


# -- 1. intake -----------------------------------------------------------------------------


def synthetic_alerts(count: int) -> list[Alert]:
    """`count` alerts over 10 workloads of two organizations: new ones, repeats, resolves."""
    places = [
        ("acme", ws, "shop", app)
        for ws in ("acme-prod", "acme-staging")
        for app in ("frontend", "checkout", "payments", "catalog")
    ] + [("globex", "globex-prod", "web", a) for a in ("api", "worker")]
    start = datetime(2026, 1, 5, tzinfo=UTC)
    alerts = []
    for i in range(count):
        resolve = i % 10 == 9  # every tenth resolves one that fired nine alerts before
        j = i - 9 if resolve else i
        org, ws, project, app = places[j % len(places)]
        labels = {
            "alertname": f"Alert{j % 5}",
            "org": org,
            "workspace": ws,
            "project": project,
            "application": app,
            "instance": str((j // 50) % 40),
        }
        alerts.append(
            Alert.model_validate(
                {
                    "status": "resolved" if resolve else "firing",
                    "labels": labels,
                    "startsAt": (start + timedelta(seconds=i)).isoformat(),
                    "endsAt": (start + timedelta(seconds=i + 1)).isoformat() if resolve else None,
                }
            )
        )
    return alerts


def _chunks(items: list[Any], n: int) -> list[list[Any]]:
    return [items[i::n] for i in range(n)]


def bench_intake(engine: Engine, count: int, workers: int) -> dict[str, Any]:
    platform = Platform(engine, SandboxDriver(engine))
    alerts = synthetic_alerts(count)
    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        reports = list(pool.map(lambda chunk: ingest(platform, chunk), _chunks(alerts, workers)))
    seconds = time.perf_counter() - started
    outcomes: dict[str, int] = {}
    for report in reports:
        for name, n in report.counts().items():
            outcomes[name] = outcomes.get(name, 0) + n
    with platform.sessions() as session:
        counted = int(
            session.scalar(select(func.coalesce(func.sum(IncidentAlert.received), 0))) or 0
        )
        session.execute(text("DELETE FROM incident_alerts"))
        session.commit()
    baseline = _baseline(engine, alerts, workers)
    return {
        "alerts": count,
        "workers": workers,
        "seconds": round(seconds, 3),
        "alerts_per_minute": round(count / seconds * 60),
        "outcomes": outcomes,
        "lost": count - counted,
        "baseline_alerts_per_minute": round(count / baseline * 60),
        "goal_met": count / seconds * 60 >= GOAL_ALERTS_PER_MINUTE and counted == count,
    }


def _baseline(engine: Engine, alerts: list[Alert], workers: int) -> float:
    """The same number of alert rows written by plain inserts, one transaction each."""

    def write(chunk: list[Alert]) -> None:
        for i, a in enumerate(chunk):
            with engine.begin() as conn:
                conn.execute(
                    insert(IncidentAlert).values(
                        fingerprint=f"{a.fingerprint}-{id(chunk)}-{i}",
                        alertname=a.name,
                        status=a.status,
                        state="accepted",
                        note="",
                        labels=a.labels,
                        annotations={},
                        starts_at=a.starts_at,
                        received=1,
                        flaps=0,
                        updated_at=datetime.now(UTC),
                    )
                )

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(write, _chunks(alerts, workers)))
    return time.perf_counter() - started


# -- 2. faults -----------------------------------------------------------------------------


def _change(platform: Platform, kind: str, **params: Any) -> None:
    owner = platform.user(OWNER)
    view = platform.request(owner, kind, {"org": ORG, "workspace": WS, "project": NS, **params})
    if view.status == "pending" and view.id is not None:
        platform.approve(owner, view.id)


def _setup(platform: Platform, setup: str | None) -> None:
    if setup == "hpa":
        _change(platform, "application.set_hpa", name="checkout", min_replicas=2, max_replicas=4)
    elif setup:
        app = setup.partition(":")[2]
        image, _, cpu, memory, limit = APPS[app]
        _change(
            platform,
            "application.deploy",
            name=app,
            image=image.rpartition(":")[0] + ":9.9.9",
            cpu_request=cpu,
            memory_request=memory,
            memory_limit=limit,
        )


def _target(platform: Platform, where: str) -> str:
    ref = WorkloadRef(org=ORG, workspace=WS, namespace=NS, name="checkout")
    if where == "WORKSPACE":
        return WS
    if where == "NODE":
        app = platform.driver.get_application(ref)
        return str(app.pods[0].node) if app else ""
    if where.startswith("POD:"):
        app = platform.driver.get_application(ref.model_copy(update={"name": where[4:]}))
        return f"{NS}/{app.pods[0].name}" if app else ""
    return f"{NS}/{where}"


def run_fault(
    platform: Platform,
    store: ClickHouseStore,
    settings: Settings,
    kind: str,
    resources: dict[str, Any],
) -> dict[str, Any]:
    where, minutes, setup = SCENARIOS[kind]
    owner = platform.user(OWNER)
    set_policy(
        platform,
        owner,
        ORG,
        parse(ORG, {"name": "bench", "rules": [{"operation": o} for o in FIXES]}),
    )
    _setup(platform, setup)
    sim = Simulation(platform.engine)
    fault = sim.inject(kind, ORG, WS, _target(platform, where))
    sim.advance(minutes, store)
    apps = [(NS, a.name) for a in platform.applications(owner, WS, NS, ORG)]
    report = ingest(platform, [alert_for_fault(sim.truth(fault), sim.now(), apps)])
    incident = report.opened[0]
    with Remediator(platform, settings, resources={"telemetry": store, **resources}) as worker:
        result = worker.run(incident)
        if result.waiting:  # deletes are never pre-approved: the owner approves at once
            result = worker.decide(incident, owner, "approve")
    record = detail(platform, owner, incident)
    truth = sim.truth(fault)
    hypotheses = next(e["data"] for e in record["timeline"] if e["kind"] == "hypotheses")
    calls = next(e["data"] for e in record["timeline"] if e["kind"] == "findings")["calls"]
    top = (record["hypotheses"] or [{}])[0]
    named = {o.rsplit("/", 1)[-1] for o in top.get("objects", [])} | {str(top.get("workload", ""))}
    at_fault = {o["name"] for o in truth["objects_at_fault"]} | {truth["target"]}
    return {
        "fault": kind,
        "root_cause": top.get("cause"),
        "on": top.get("workload"),
        "names_object_at_fault": bool(named & at_fault),
        "seconds_to_root_cause": hypotheses.get("seconds_to_root_cause"),
        "tool_seconds": {c["tool"]: c["seconds"] for c in calls},
        "status": result.status,
        "fault_resolved": truth["status"] == "resolved",
        "recovery_minutes": (record["time_to_resolve_seconds"] or 0) / 60
        if record["time_to_resolve_seconds"]
        else None,
    }


def bench_incidents(
    alerts: int = 2000,
    workers: int = 2,
    faults: list[str] | None = None,
    progress: Progress = _quiet,
) -> dict[str, Any]:
    kinds = faults or list(CATALOG)
    with scratch_postgres("hexaops-bench-incidents-") as (home, server_url):
        admin = create_engine(sqlalchemy_url(server_url), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE bench_template"))
        template_url = _url(server_url, "bench_template")
        engine = create_engine(template_url)
        migrate(engine)
        seed(Platform(engine, SandboxDriver(engine)))
        engine.dispose()

        def clone(name: str) -> Engine:
            with admin.connect() as conn:
                conn.execute(text(f"CREATE DATABASE {name} TEMPLATE bench_template"))
            return create_engine(_url(server_url, name), pool_size=workers + 4)

        progress(f"intake: {alerts} alerts from {workers} threads")
        intake_engine = clone("bench_intake")
        intake = bench_intake(intake_engine, alerts, workers)
        intake_engine.dispose()

        settings = Settings(home=Path(home))
        embedder = embedder_from_settings(settings)
        embedder.embed(["warm up"])  # model load is start-up cost, not per-alert time
        results = []
        with ClickHouseStore.connect(home=Path(home)) as base:
            for i, kind in enumerate(kinds):
                progress(f"fault {i + 1}/{len(kinds)}: {kind}")
                engine = clone(f"bench_fault_{i}")
                store = ClickHouseStore(base.client, database=f"bench_fault_{i}")
                try:
                    platform = Platform(engine, SandboxDriver(engine))
                    results.append(
                        run_fault(platform, store, settings, kind, {"embedder": embedder})
                    )
                finally:
                    store.drop()
                    engine.dispose()
        admin.dispose()
    return _summary(intake, results)


def _url(server_url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return (
        make_url(sqlalchemy_url(server_url))
        .set(database=name)
        .render_as_string(hide_password=False)
    )


def _summary(intake: dict[str, Any], faults: list[dict[str, Any]]) -> dict[str, Any]:
    seconds = sorted(float(f["seconds_to_root_cause"] or 0) for f in faults)
    p95 = seconds[min(len(seconds) - 1, round(0.95 * (len(seconds) - 1)))] if seconds else 0.0
    recovered = [
        f["recovery_minutes"] for f in faults if f["fault_resolved"] and f["recovery_minutes"]
    ]
    return {
        "intake": intake,
        "faults": faults,
        "root_cause_seconds_p50": round(statistics.median(seconds), 3) if seconds else 0.0,
        "root_cause_seconds_p95": round(p95, 3),
        "root_cause_goal_met": p95 <= GOAL_P95_SECONDS,
        "named_object_at_fault": sum(1 for f in faults if f["names_object_at_fault"]),
        "resolved": sum(1 for f in faults if f["fault_resolved"]),
        "mean_recovery_minutes": round(statistics.mean(recovered), 2) if recovered else None,
    }
