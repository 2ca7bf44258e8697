"""Alembic environment: runs on the connection handed over by `hexaops.platform.db.engine`."""

from __future__ import annotations

from alembic import context

from hexaops.platform.db.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through hexaops.platform.db.engine.migrate()")

context.configure(connection=connection, target_metadata=Base.metadata, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
