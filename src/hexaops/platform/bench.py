"""`hexaops bench platform`: throughput of the action pipeline on the sandbox driver.

Creates N workspaces, each with one project, through the full pipeline (validate, authorize,
plan, reserve, approve by policy, execute on the sandbox driver, verify, record, audit) on a
fresh embedded PostgreSQL, from C client processes — as C stateless API replicas would. The
baseline, measured in the same run on the same database with the same clients, writes the same
rows (workspace or project, action, audit event) with plain ORM inserts, one transaction each:
the floor any pipeline over this database pays.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from hexaops.platform.core import Platform
from hexaops.platform.db.engine import migrate, scratch_postgres, sqlalchemy_url
from hexaops.platform.db.models import (
    Action,
    AuditEvent,
    Membership,
    Organization,
    Project,
    User,
    Workspace,
)
from hexaops.platform.domain import Role
from hexaops.platform.drivers.sandbox import SandboxDriver

GOAL_SECONDS_PER_1000 = 10.0
CHUNK = 25  # workspaces per task handed to a client process

Kind = Literal["pipeline", "baseline"]
# One benchmark step: create workspace number i and its project; the two actions' latencies.
Step = Callable[[int], tuple[float, float]]


class BenchFigures(BaseModel):
    name: str
    actions: int
    seconds: float
    actions_per_second: float
    p50_ms: float
    p95_ms: float


class PlatformBench(BaseModel):
    workspaces: int
    clients: int
    pipeline: BenchFigures
    baseline: BenchFigures
    pipeline_vs_baseline: float  # pipeline seconds / baseline seconds
    goal_seconds: float
    goal_met: bool


# -- client processes ------------------------------------------------------------------
# Each client process builds its own engine and step once (the pool initializer), then runs
# chunks of workspace numbers. This is per-process worker state, as a pool needs.
_client_step: Step | None = None


def _start_client(kind: Kind, url: str, org_id: int, email: str) -> None:
    global _client_step
    engine = create_engine(url, pool_size=2)
    _client_step = (_pipeline_step if kind == "pipeline" else _baseline_step)(engine, org_id, email)


def _client_ready() -> int:
    time.sleep(0.2)  # keeps each process busy so the pool starts all of them before timing
    return os.getpid()


def _client_run(indexes: list[int]) -> list[float]:
    assert _client_step is not None
    return [latency for i in indexes for latency in _client_step(i)]


def _run(
    kind: Kind, url: str, count: int, clients: int, progress: Callable[[int], None]
) -> BenchFigures:
    org_id, email = _bootstrap(url, kind)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        clients, mp_context=context, initializer=_start_client, initargs=(kind, url, org_id, email)
    ) as pool:
        for ready in [pool.submit(_client_ready) for _ in range(clients)]:
            ready.result()
        latencies: list[float] = []
        started = time.perf_counter()
        chunks = [list(range(i, min(i + CHUNK, count))) for i in range(0, count, CHUNK)]
        for future in as_completed([pool.submit(_client_run, chunk) for chunk in chunks]):
            latencies.extend(future.result())
            progress(len(latencies) // 2)
        seconds = time.perf_counter() - started
    ordered = sorted(latencies)
    return BenchFigures(
        name=kind,
        actions=len(ordered),
        seconds=round(seconds, 3),
        actions_per_second=round(len(ordered) / seconds, 1),
        p50_ms=round(statistics.median(ordered) * 1000, 2),
        p95_ms=round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 2),
    )


def _timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _bootstrap(url: str, slug: str) -> tuple[int, str]:
    """An organization with its owner for one benchmark phase."""
    engine = create_engine(url)
    try:
        with sessionmaker(engine).begin() as session:
            org = Organization(slug=slug, display_name=slug)
            user = User(email=f"owner@{slug}.example", display_name="owner")
            session.add_all([org, user])
            session.flush()
            session.add(Membership(org_id=org.id, user_id=user.id, role=Role.OWNER))
            return org.id, user.email
    finally:
        engine.dispose()


def _pipeline_step(engine: Engine, org_id: int, email: str) -> Step:
    platform = Platform(engine, SandboxDriver(engine))
    owner = platform.user(email)

    def request(kind: str, params: dict[str, str]) -> None:
        view = platform.request(owner, kind, params)
        if view.status != "succeeded":
            raise RuntimeError(
                f"bench action {kind} {view.target} ended {view.status}: {view.error}"
            )

    def step(i: int) -> tuple[float, float]:
        ws = {"org": "pipeline", "name": f"ws-{i:05d}"}
        project = {"workspace": ws["name"], "name": "app", "cpu": "1", "memory": "1Gi"}
        return (
            _timed(lambda: request("workspace.create", ws)),
            _timed(lambda: request("project.create", project)),
        )

    return step


def _baseline_step(engine: Engine, org_id: int, email: str) -> Step:
    sessions = sessionmaker(engine)

    def record(session: Session, operation: str, target: str) -> None:
        action = Action(
            org_id=org_id,
            operation=operation,
            params={},
            target=target,
            plan={},
            risk="low",
            status="succeeded",
            requested_by=email,
            principal={"id": email},
        )
        session.add(action)
        session.flush()
        session.add(
            AuditEvent(
                org_id=org_id,
                action_id=action.id,
                actor=email,
                event="action.succeeded",
                operation=operation,
                target=target,
            )
        )

    def step(i: int) -> tuple[float, float]:
        name = f"ws-{i:05d}"
        ids: list[int] = []

        def workspace() -> None:
            with sessions.begin() as s:
                ws = Workspace(
                    org_id=org_id,
                    name=name,
                    plan="shared",
                    status="ready",
                    kubernetes_version="1.34",
                )
                s.add(ws)
                record(s, "workspace.create", name)
                ids.append(ws.id)

        def project() -> None:
            with sessions.begin() as s:
                s.add(
                    Project(
                        workspace_id=ids[0],
                        name="app",
                        status="active",
                        cpu_millis=1000,
                        memory_bytes=2**30,
                        pods=20,
                    )
                )
                record(s, "project.create", name)

        return _timed(workspace), _timed(project)

    return step


def bench_platform(
    count: int = 1000,
    clients: int | None = None,
    progress: Callable[[int], None] = lambda _: None,
) -> PlatformBench:
    """Run the benchmark on a throw-away embedded PostgreSQL (clients default to usable CPUs)."""
    clients = clients or len(os.sched_getaffinity(0))
    with scratch_postgres("hexaops-bench-") as (_, server_url):
        url = sqlalchemy_url(server_url)
        engine = create_engine(url)
        try:
            migrate(engine)
        finally:
            engine.dispose()
        baseline = _run("baseline", url, count, clients, lambda _: None)
        pipeline = _run("pipeline", url, count, clients, progress)
    goal = GOAL_SECONDS_PER_1000 * count / 1000
    return PlatformBench(
        workspaces=count,
        clients=clients,
        pipeline=pipeline,
        baseline=baseline,
        pipeline_vs_baseline=round(pipeline.seconds / baseline.seconds, 2),
        goal_seconds=goal,
        goal_met=pipeline.seconds < goal,
    )
