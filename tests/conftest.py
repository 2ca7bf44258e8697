"""Shared fixtures: a real embedded PostgreSQL per test session, a fresh database per test.

Databases are cloned from migrated (and seeded) templates, so each test starts from a known
state in ~50 ms without re-running migrations.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import clickhouse_connect
import pytest
from clickhouse_connect.driver.client import Client
from sqlalchemy import create_engine, text

from hexaops.platform.core import Platform
from hexaops.platform.db.engine import embedded_database_url, migrate, sqlalchemy_url
from hexaops.platform.domain import Principal
from hexaops.platform.drivers.sandbox import SandboxDriver
from hexaops.platform.seed import seed
from hexaops.platform.telemetry.clickhouse import ClickHouseStore
from hexaops.settings import Settings
from hexaops.tools.context import ToolContext
from pg_support import admin_engine, database_url, fresh_database

_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> str:
    """URL of the embedded PostgreSQL server (its maintenance database)."""
    home: Path = tmp_path_factory.mktemp("pg")
    return sqlalchemy_url(embedded_database_url(home))


@pytest.fixture(scope="session")
def templates(pg_server: str) -> dict[str, str]:
    """Names of template databases: 'empty' (migrated) and 'seeded' (migrated + demo data)."""
    admin = admin_engine(pg_server)
    names = {"empty": "tpl_empty", "seeded": "tpl_seeded"}
    with admin.connect() as conn:
        for name in names.values():
            conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
            conn.execute(text(f"CREATE DATABASE {name}"))
    for kind, name in names.items():
        engine = create_engine(database_url(pg_server, name))
        migrate(engine)
        if kind == "seeded":
            seed(Platform(engine, SandboxDriver(engine)))
        engine.dispose()
    admin.dispose()
    return names


def _platform(url: str) -> Iterator[Platform]:
    engine = create_engine(url, pool_size=10, max_overflow=10)
    yield Platform(engine, SandboxDriver(engine))
    engine.dispose()


@pytest.fixture
def empty_platform(pg_server: str, templates: dict[str, str]) -> Iterator[Platform]:
    """The platform on a migrated database with no data."""
    yield from _platform(fresh_database(pg_server, templates["empty"]))


@pytest.fixture
def platform(pg_server: str, templates: dict[str, str]) -> Iterator[Platform]:
    """The platform with the demo data of `hexaops platform seed` (orgs acme and globex)."""
    yield from _platform(fresh_database(pg_server, templates["seeded"]))


# The seeded demo principals (see hexaops.platform.seed), as tests act as them.


@pytest.fixture
def owner(platform: Platform) -> Principal:
    return platform.user("owner@acme.example")


@pytest.fixture
def dev(platform: Platform) -> Principal:
    return platform.user("dev@acme.example")


@pytest.fixture
def viewer(platform: Platform) -> Principal:
    return platform.user("viewer@acme.example")


# ClickHouse: one embedded chDB per test process (chDB allows one data path per process),
# a fresh ClickHouse database per test.


@pytest.fixture(scope="session")
def chdb_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A HEXAOPS_HOME whose embedded chDB path (home/clickhouse) is this process' one path."""
    return tmp_path_factory.mktemp("hexaops_home").resolve()


@pytest.fixture(scope="session")
def chdb_client(chdb_home: Path) -> Iterator[Client]:
    client = clickhouse_connect.get_client(dsn=f"chdb://{chdb_home / 'clickhouse'}")
    yield client
    client.close()


@pytest.fixture
def database_name() -> str:
    """A ClickHouse database name no other test (or test process) uses."""
    return f"ch_{os.getpid()}_{next(_counter)}"


@pytest.fixture
def store(chdb_client: Client, database_name: str) -> Iterator[ClickHouseStore]:
    """A store on its own, empty database."""
    store = ClickHouseStore(chdb_client, database=database_name)
    yield store
    store.drop()


# Tools: a context for calling tools as a seeded principal, with telemetry in `store`.


@pytest.fixture
def tool_context(
    platform: Platform, store: ClickHouseStore, chdb_home: Path
) -> Iterator[Callable[..., ToolContext]]:
    """`tool_context(email="dev@acme.example", **kwargs)`: a ToolContext on the seeded platform,
    reading telemetry from this test's `store` (its clock is the sandbox's). Advance the
    sandbox with `Simulation(platform.engine).advance(minutes, store)` to have telemetry."""
    contexts: list[ToolContext] = []
    settings = Settings(home=chdb_home)

    def make(email: str = "dev@acme.example", **kwargs: Any) -> ToolContext:
        resources = {"telemetry": store, **kwargs.pop("resources", {})}
        ctx = ToolContext(platform, platform.user(email), settings, resources=resources, **kwargs)
        contexts.append(ctx)
        return ctx

    yield make
    for ctx in contexts:
        ctx.close()
