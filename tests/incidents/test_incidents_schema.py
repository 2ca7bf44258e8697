"""Migration 0005 creates exactly the incident tables the models describe."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect

import hexaops.incidents.models as models
from hexaops.platform.db.engine import migrate
from pg_support import fresh_database

TABLES = (
    models.IncidentRow,
    models.IncidentAlert,
    models.IncidentEvent,
    models.AutomationPolicyRow,
)


def test_migration_matches_the_models(pg_server: str) -> None:
    engine = create_engine(fresh_database(pg_server, None))
    try:
        migrate(engine)
        inspector = inspect(engine)
        for model in TABLES:
            table = model.__table__
            columns = {c["name"] for c in inspector.get_columns(table.name)}
            assert columns == set(table.columns.keys()), table.name
            indexes = {str(i["name"]) for i in inspector.get_indexes(table.name)}
            assert {str(i.name) for i in table.indexes} <= indexes, table.name
    finally:
        engine.dispose()
