"""Schema migrations on a database that was never migrated (not cloned from a template)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect, text

import hexaops.platform.db.engine as db_engine
from hexaops.platform.core import Platform
from hexaops.platform.db.engine import migrate
from hexaops.platform.db.models import Base
from hexaops.platform.drivers.sandbox import SandboxDriver
from hexaops.platform.seed import seed
from pg_support import fresh_database

TABLES = {
    "organizations",
    "users",
    "memberships",
    "workspaces",
    "projects",
    "applications",
    "functions",
    "scaling_policies",
    "actions",
    "audit_events",
    "sandbox_objects",
    "sandbox_clock",
    "sandbox_faults",
    "sandbox_workload_states",
    "knowledge_documents",
    "knowledge_chunks",
    "knowledge_incidents",
    "agent_usage",
    "incidents",
    "incident_alerts",
    "incident_events",
    "automation_policies",
}


def _head() -> str:
    config = Config()
    config.set_main_option("script_location", str(Path(db_engine.__file__).parent / "migrations"))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


@pytest.fixture
def blank(pg_server: str) -> Iterator[Engine]:
    """An engine on a brand-new, empty database."""
    engine = create_engine(fresh_database(pg_server, None))
    yield engine
    engine.dispose()


def _version(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())


def _schema(engine: Engine) -> dict[str, list[str]]:
    inspector = inspect(engine)
    return {
        table: sorted(
            [c["name"] for c in inspector.get_columns(table)]
            + [str(i["name"]) for i in inspector.get_indexes(table)]
        )
        for table in inspector.get_table_names()
    }


def test_migrate_creates_every_table_at_head(blank: Engine) -> None:
    assert inspect(blank).get_table_names() == []
    migrate(blank)
    assert set(inspect(blank).get_table_names()) == TABLES | {"alembic_version"}
    assert _version(blank) == [_head()]
    # The migrated schema is the one the models describe.
    assert set(Base.metadata.tables) == TABLES
    for name, table in Base.metadata.tables.items():
        columns = {c["name"] for c in inspect(blank).get_columns(name)}
        assert columns == set(table.columns.keys()), name


def test_migrate_creates_the_live_name_indexes(blank: Engine) -> None:
    migrate(blank)
    indexes = {
        i["name"]
        for table in ("workspaces", "projects", "applications", "functions", "actions")
        for i in inspect(blank).get_indexes(table)
        if i["unique"]
    }
    assert {
        "uq_workspaces_live_name",
        "uq_projects_live_name",
        "uq_applications_live_name",
        "uq_functions_live_name",
        "uq_actions_idempotency",
    } <= indexes


def test_migrate_twice_is_a_no_op(blank: Engine) -> None:
    migrate(blank)
    seed(Platform(blank, SandboxDriver(blank)))
    schema = _schema(blank)
    with blank.connect() as conn:
        actions = conn.execute(text("SELECT count(*) FROM actions")).scalar_one()
    migrate(blank)
    assert _schema(blank) == schema
    assert _version(blank) == [_head()]
    with blank.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM actions")).scalar_one() == actions


def test_concurrent_migrations_of_a_fresh_database_both_succeed(pg_server: str) -> None:
    url = fresh_database(pg_server, None)
    engines = [create_engine(url) for _ in range(2)]
    barrier = threading.Barrier(2)

    def run(engine: Engine) -> None:
        barrier.wait(timeout=10)
        migrate(engine)

    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            for future in [pool.submit(run, e) for e in engines]:
                future.result(timeout=60)
        assert set(inspect(engines[0]).get_table_names()) == TABLES | {"alembic_version"}
        assert _version(engines[0]) == [_head()]
    finally:
        for engine in engines:
            engine.dispose()


def test_a_migrated_database_works_with_the_platform(blank: Engine) -> None:
    migrate(blank)
    platform = Platform(blank, SandboxDriver(blank))
    seed(platform)
    owner = platform.user("owner@acme.example")
    assert [w.name for w in platform.workspaces(owner)] == ["acme-prod", "acme-staging"]
    # Seeding again (idempotency keys) changes nothing.
    report = seed(platform)
    assert report.created == []
