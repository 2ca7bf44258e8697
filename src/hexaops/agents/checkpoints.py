"""LangGraph checkpoints in the platform database, each graph family in a schema of its own
(outside the platform's Alembic metadata): agent sessions, incident runs."""

from __future__ import annotations

from typing import Final

import psycopg
from langgraph.checkpoint.postgres import PostgresSaver
from psycopg.rows import DictRow, dict_row

from hexaops.platform.core import Platform

_SETUP_LOCK: Final = 0x6865786170  # advisory lock key ("hexap") of the checkpoint tables' setup


def checkpoint_url(platform: Platform) -> str:
    """The platform database's URL as psycopg takes it (no SQLAlchemy driver suffix)."""
    return platform.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def open_checkpointer(
    platform: Platform, schema: str
) -> tuple[psycopg.Connection[DictRow], PostgresSaver]:
    """A connection (close it when done) and a PostgresSaver on `schema`, its tables created.
    Processes starting together (API replicas, workers) take turns creating the tables."""
    conn: psycopg.Connection[DictRow] = psycopg.connect(
        checkpoint_url(platform),
        autocommit=True,
        prepare_threshold=0,
        row_factory=dict_row,
        options=f"-c search_path={schema}",
    )
    try:
        saver = PostgresSaver(conn)
        conn.execute("SELECT pg_advisory_lock(%s)", (_SETUP_LOCK,))
        try:
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            saver.setup()
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_SETUP_LOCK,))
    except BaseException:
        conn.close()
        raise
    return conn, saver
