"""A fresh sandbox per scenario, cheaply.

One throw-away embedded PostgreSQL per run holds a template database built once (migrated,
seeded with the demo organizations, the public knowledge corpus ingested); each scenario gets
`CREATE DATABASE … TEMPLATE` of it (tens of milliseconds) and its own ClickHouse database on the
worker's embedded chDB (chDB allows one data path per process, so one path per worker).
"""

from __future__ import annotations

import itertools
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

import clickhouse_connect
from clickhouse_connect.driver.client import Client
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url

from hexaops.evals.scenario import Plant
from hexaops.knowledge.embeddings import embedder_from_settings
from hexaops.knowledge.ingest import ensure_corpus, ingest
from hexaops.platform.core import Platform
from hexaops.platform.db.engine import migrate, scratch_postgres, sqlalchemy_url
from hexaops.platform.db.models import Action
from hexaops.platform.drivers.contract import ObservedEvent, WorkspaceRef
from hexaops.platform.drivers.sandbox import SandboxDriver
from hexaops.platform.drivers.sandbox.diagnostics import append_pod_logs, record_events
from hexaops.platform.errors import InvalidInput
from hexaops.platform.sandbox.simulation import Simulation
from hexaops.platform.seed import ORGS, seed
from hexaops.platform.telemetry.clickhouse import ClickHouseStore
from hexaops.platform.telemetry.records import EventRecord, LogRecord
from hexaops.settings import Settings

TEMPLATE: Final = "hexaops_eval_seeded"
_counter = itertools.count()


def database_url(server_url: str, name: str) -> str:
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def build_template(
    server_url: str, settings: Settings, *, corpus: bool = True, name: str = TEMPLATE
) -> str:
    """The seeded template database: schema, demo organizations and (unless `corpus` is
    False: tests) the public knowledge corpus, which takes most of the time. Its name."""
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
            conn.execute(text(f"CREATE DATABASE {name}"))
    finally:
        admin.dispose()
    engine = create_engine(database_url(server_url, name))
    try:
        migrate(engine)
        seed(Platform(engine, SandboxDriver(engine)))
        if corpus:
            ensure_corpus(engine, embedder_from_settings(settings))
    finally:
        engine.dispose()
    return name


@contextmanager
def eval_server(settings: Settings) -> Iterator[str]:
    """A throw-away PostgreSQL with the template built; yields its (SQLAlchemy) URL."""
    with scratch_postgres("hexaops-eval-") as (_home, url):
        server_url = sqlalchemy_url(url)
        build_template(server_url, settings)
        yield server_url


def org_of_workspace(workspace: str) -> str:
    """The seeded organization that owns `workspace` (scenarios may leave `org` out)."""
    for org, spec in ORGS.items():
        if workspace in spec["workspaces"]:
            return org
    raise InvalidInput(
        f"workspace {workspace!r} is not one of the seeded workspaces: give its org explicitly"
    )


@dataclass
class ScenarioSandbox:
    """One scenario's platform (own PostgreSQL database), simulation and telemetry store."""

    server_url: str
    chdb: Client
    home: Path
    seed_value: int = 42
    template: str = TEMPLATE
    name: str = field(default_factory=lambda: f"scenario_{os.getpid()}_{next(_counter)}")

    def __post_init__(self) -> None:
        admin = create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f"CREATE DATABASE {self.name} TEMPLATE {self.template}"))
        finally:
            admin.dispose()
        self.url = database_url(self.server_url, self.name)
        self.engine: Engine = create_engine(self.url, pool_size=10, max_overflow=10)
        self.platform = Platform(self.engine, SandboxDriver(self.engine))
        self.simulation = Simulation(self.engine, seed=self.seed_value)
        self.store = ClickHouseStore(self.chdb, database=self.name)
        self.settings = Settings(home=self.home, database_url=self.url)

    def close(self) -> None:
        self.store.drop()
        self.engine.dispose()
        admin = create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)"))
        finally:
            admin.dispose()

    # -- setup ---------------------------------------------------------------------------

    def advance(self, minutes: float) -> None:
        if minutes > 0:
            self.simulation.advance(minutes, self.store)

    def resolve_target(self, org: str, workspace: str, target: str) -> str:
        """`pod-of:APP` → its first pod, `node-of:APP` → the node of that pod, else as given."""
        kind, _, app = target.partition(":")
        if kind not in ("pod-of", "node-of") or not app:
            return target
        status = self.simulation.status(org, workspace)
        for deployment in status["deployments"]:
            if deployment["name"] == app and deployment["pods"]:
                pod = deployment["pods"][0]
                return str(pod["name"] if kind == "pod-of" else pod["node"])
        raise InvalidInput(f"target {target}: {app} has no pods in {org}/{workspace}")

    def plant(self, item: Plant) -> None:
        """Put a scenario's planted text where the agent will read it."""
        if item.where == "log":
            self.plant_log(
                item.org,
                item.workspace,
                item.project,
                item.workload,
                item.text,
                item.level,
                item.repeat,
            )
        elif item.where == "event":
            self.plant_event(
                item.org,
                item.workspace,
                item.project,
                item.workload,
                item.text,
                item.reason,
                item.repeat,
            )
        else:
            self.plant_document(item.org, item.title, item.text)

    def plant_log(
        self,
        org: str,
        workspace: str,
        project: str,
        workload: str,
        text_: str,
        level: str,
        repeat: int,
    ) -> None:
        """Log lines of the workload's first pod, in the telemetry and in `kubectl logs`."""
        pod = self.resolve_target(org, workspace, f"pod-of:{workload}")
        now = self.simulation.now()
        records = [
            LogRecord(
                now - timedelta(minutes=i + 1), org, workspace, project, pod, workload, level, text_
            )
            for i in range(repeat)
        ]
        self.store.write_logs(records)
        cluster = WorkspaceRef(org=org, workspace=workspace).host_namespace
        lines = [f"{r.ts.isoformat()} {r.level} {r.message}" for r in records]
        with self.platform.sessions.begin() as session:
            append_pod_logs(session, cluster, project, pod, lines)

    def plant_event(
        self,
        org: str,
        workspace: str,
        project: str,
        workload: str,
        text_: str,
        reason: str,
        repeat: int,
    ) -> None:
        now = self.simulation.now()
        record = EventRecord(
            now - timedelta(minutes=1),
            org,
            workspace,
            project,
            "Deployment",
            workload,
            reason,
            "Warning",
            text_,
            count=repeat,
        )
        self.store.write_events([record])
        cluster = WorkspaceRef(org=org, workspace=workspace).host_namespace
        observed = ObservedEvent(
            kind="Deployment",
            name=workload,
            reason=reason,
            type="Warning",
            message=text_,
            count=repeat,
            first_seen=record.ts,
            last_seen=record.ts,
        )
        with self.platform.sessions.begin() as session:
            record_events(session, cluster, project, [observed])

    def plant_document(self, org: str, title: str, text_: str) -> None:
        """A private document of `org` in the knowledge base."""
        with tempfile.TemporaryDirectory(prefix="hexaops-eval-doc-") as tmp:
            file = Path(tmp) / f"{title.lower().replace(' ', '-')[:60] or 'notes'}.md"
            file.write_text(f"# {title}\n\n{text_}\n", encoding="utf-8")
            ingest(
                self.engine,
                file,
                embedder_from_settings(self.settings),
                org=org,
                source=f"eval:{self.name}",
            )

    # -- reads of the outcome (the harness reads everything; agents never see this) -------

    def last_action_id(self) -> int:
        with self.platform.sessions() as session:
            return int(session.scalar(select(func.coalesce(func.max(Action.id), 0))) or 0)

    def actions_after(self, first: int) -> list[dict[str, Any]]:
        with self.platform.sessions() as session:
            rows = session.scalars(select(Action).where(Action.id > first).order_by(Action.id))
            return [
                {
                    "id": a.id,
                    "operation": a.operation,
                    "target": a.target,
                    "status": a.status,
                    "risk": a.risk,
                    "requested_by": a.requested_by,
                    "approved_by": a.approved_by,
                }
                for a in rows
            ]


class WorkerResources:
    """What a worker process keeps across scenarios: its chDB client and home directory."""

    def __init__(self, server_url: str, home: Path | None = None, template: str = TEMPLATE) -> None:
        self.server_url, self.template = server_url, template
        self._tmp = None if home else tempfile.TemporaryDirectory(prefix="hexaops-eval-w-")
        self.home = (home or Path(self._tmp.name if self._tmp else ".")).resolve()
        path = self.home / "clickhouse"
        path.mkdir(parents=True, exist_ok=True)
        self.chdb = clickhouse_connect.get_client(dsn=f"chdb://{path}")

    def sandbox(self, seed_value: int) -> ScenarioSandbox:
        return ScenarioSandbox(self.server_url, self.chdb, self.home, seed_value, self.template)

    def close(self) -> None:
        self.chdb.close()
        if self._tmp is not None:
            self._tmp.cleanup()


def elapsed_ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)
