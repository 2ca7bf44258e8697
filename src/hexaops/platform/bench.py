"""`hexaops bench platform`: throughput of the action pipeline on the sandbox driver.

Creates N workspaces, each with one project, through the full pipeline (validate, authorize,
plan, reserve, approve by policy, execute on the sandbox driver, verify, record, audit) on a
fresh embedded PostgreSQL. The baseline, measured in the same run on the same database, writes
the same rows (workspace, project, action, audit events) with plain inserts, one transaction per
object: the floor any pipeline over this database pays.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import sessionmaker

from hexaops.platform.core import Platform
from hexaops.platform.db.engine import embedded_database_url, migrate, sqlalchemy_url
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


class BenchFigures(BaseModel):
    name: str
    operations: int
    seconds: float
    ops_per_second: float
    p50_ms: float
    p95_ms: float


class PlatformBench(BaseModel):
    workspaces: int
    pipeline: BenchFigures
    baseline: BenchFigures
    overhead_ratio: float  # pipeline seconds / baseline seconds
    goal_seconds: float
    goal_met: bool


def _figures(name: str, latencies: list[float], seconds: float) -> BenchFigures:
    ordered = sorted(latencies)
    return BenchFigures(
        name=name,
        operations=len(latencies),
        seconds=round(seconds, 3),
        ops_per_second=round(len(latencies) / seconds, 1),
        p50_ms=round(statistics.median(ordered) * 1000, 2),
        p95_ms=round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 2),
    )


def _bootstrap(engine: Engine, slug: str) -> tuple[int, str]:
    with sessionmaker(engine).begin() as session:
        org = Organization(slug=slug, display_name=slug)
        user = User(email=f"owner@{slug}.example", display_name="owner")
        session.add_all([org, user])
        session.flush()
        session.add(Membership(org_id=org.id, user_id=user.id, role=Role.OWNER))
        return org.id, user.email


def _run_pipeline(engine: Engine, count: int, progress: Callable[[int], None]) -> BenchFigures:
    _, email = _bootstrap(engine, "bench")
    platform = Platform(engine, SandboxDriver(engine))
    owner = platform.user(email)
    latencies = []
    started = time.perf_counter()
    for i in range(count):
        t0 = time.perf_counter()
        platform.request(owner, "workspace.create", {"org": "bench", "name": f"ws-{i:05d}"})
        platform.request(
            owner,
            "project.create",
            {"workspace": f"ws-{i:05d}", "name": "app", "cpu": "1", "memory": "1Gi"},
        )
        latencies.append((time.perf_counter() - t0) / 2)
        progress(i + 1)
    elapsed = time.perf_counter() - started
    return _figures("pipeline", latencies, elapsed / 2 * 2).model_copy(
        update={"operations": 2 * count, "ops_per_second": round(2 * count / elapsed, 1)}
    )


def _run_baseline(engine: Engine, count: int) -> BenchFigures:
    org_id, email = _bootstrap(engine, "baseline")
    sessions = sessionmaker(engine)
    latencies = []
    started = time.perf_counter()
    for i in range(count):
        t0 = time.perf_counter()
        name = f"ws-{i:05d}"
        with sessions.begin() as s:
            ws = Workspace(
                org_id=org_id,
                name=name,
                plan="shared",
                status="ready",
                kubernetes_version="1.34",
            )
            s.add(ws)
            s.flush()
            workspace_id = ws.id
            action = Action(
                org_id=org_id,
                operation="workspace.create",
                params={},
                target=name,
                plan={},
                risk="low",
                status="succeeded",
                requested_by=email,
            )
            s.add(action)
            s.flush()
            s.add(
                AuditEvent(
                    org_id=org_id,
                    action_id=action.id,
                    actor=email,
                    event="action.succeeded",
                    operation="workspace.create",
                    target=name,
                )
            )
        with sessions.begin() as s:
            s.add(
                Project(
                    workspace_id=workspace_id,
                    name="app",
                    status="active",
                    cpu_millis=1000,
                    memory_bytes=2**30,
                    pods=20,
                )
            )
            action = Action(
                org_id=org_id,
                operation="project.create",
                params={},
                target=name,
                plan={},
                risk="low",
                status="succeeded",
                requested_by=email,
            )
            s.add(action)
            s.flush()
            s.add(
                AuditEvent(
                    org_id=org_id,
                    action_id=action.id,
                    actor=email,
                    event="action.succeeded",
                    operation="project.create",
                    target=name,
                )
            )
        latencies.append((time.perf_counter() - t0) / 2)
    elapsed = time.perf_counter() - started
    return _figures("baseline", latencies, elapsed).model_copy(
        update={"operations": 2 * count, "ops_per_second": round(2 * count / elapsed, 1)}
    )


def bench_platform(
    count: int = 1000, progress: Callable[[int], None] = lambda _: None
) -> PlatformBench:
    """Run the benchmark on a throw-away embedded PostgreSQL."""
    with tempfile.TemporaryDirectory(prefix="hexaops-bench-") as home:
        url = sqlalchemy_url(embedded_database_url(Path(home)))
        engine = create_engine(url, pool_size=5)
        try:
            migrate(engine)
            baseline = _run_baseline(engine, count)
            pipeline = _run_pipeline(engine, count, progress)
        finally:
            engine.dispose()
    return PlatformBench(
        workspaces=count,
        pipeline=pipeline,
        baseline=baseline,
        overhead_ratio=round(pipeline.seconds / baseline.seconds, 2),
        goal_seconds=10.0,
        goal_met=pipeline.seconds < 10.0 * count / 1000,
    )
