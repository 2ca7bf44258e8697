"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from hexaops.platform.db.models import Base
from pg_support import fresh_database


def test_migrations_match_models(pg_server: str, templates: dict[str, str]) -> None:
    engine = create_engine(fresh_database(pg_server, templates["empty"]))
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    assert diff == [], f"models and migrations differ; add a migration: {diff}"
