"""Databases for tests on the session's embedded PostgreSQL (see conftest.py).

A module of its own, not conftest.py: test packages have conftest files of their own, and
`from conftest import …` would find whichever was imported first.
"""

from __future__ import annotations

import itertools
import os

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

_counter = itertools.count()


def database_url(server_url: str, name: str) -> str:
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def admin_engine(server_url: str) -> Engine:
    return create_engine(server_url, isolation_level="AUTOCOMMIT")


def fresh_database(pg_server: str, template: str | None) -> str:
    """Create a new database (from a template, or empty) and return its URL."""
    name = f"t_{os.getpid()}_{next(_counter)}"
    admin = admin_engine(pg_server)
    with admin.connect() as conn:
        clause = f" TEMPLATE {template}" if template else ""
        conn.execute(text(f"CREATE DATABASE {name}{clause}"))
    admin.dispose()
    return database_url(pg_server, name)
