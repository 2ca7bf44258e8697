"""LangGraph checkpoints in the platform database, each graph family in a schema of its own
(outside the platform's Alembic metadata): agent sessions, incident runs."""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import Final

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import CheckpointTuple
from langgraph.checkpoint.postgres import PostgresSaver
from psycopg import Connection
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool

from hexaops.platform.core import Platform

_SETUP_LOCK: Final = 0x6865786170  # advisory lock key ("hexap") of the checkpoint tables' setup


def checkpoint_url(platform: Platform) -> str:
    """The platform database's URL as psycopg takes it (no SQLAlchemy driver suffix)."""
    return platform.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None


class PooledSaver(PostgresSaver):
    """A PostgresSaver whose calls run concurrently: each takes its own pooled connection.

    PostgresSaver holds one saver-wide lock around every call, even on a pool, so all the turns
    of a process would queue behind one another's checkpoint reads and writes (under load, a
    thread holding it waits for the GIL too). With a pool the lock protects nothing.

    A thread its owner has just made up (`new_thread`: a new session's random id) has no
    checkpoint yet: its first read answers that without asking the database."""

    def __init__(self, pool: ConnectionPool[Connection[DictRow]]) -> None:
        super().__init__(pool)
        self.lock = _NoLock()  # type: ignore[assignment]
        self._new: set[str] = set()
        self._new_lock = threading.Lock()

    def new_thread(self, thread_id: str) -> None:
        with self._new_lock:
            self._new.add(thread_id)

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        configurable = config.get("configurable") or {}
        thread_id = str(configurable.get("thread_id", ""))
        if "checkpoint_id" not in configurable and thread_id in self._new:
            with self._new_lock:
                self._new.discard(thread_id)
            return None
        return super().get_tuple(config)


def open_checkpointer(
    platform: Platform, schema: str, max_connections: int = 16
) -> tuple[ConnectionPool[Connection[DictRow]], PooledSaver]:
    """A connection pool (close it when done) and a saver on `schema`, its tables created.
    Processes starting together (API replicas, workers) take turns creating the tables."""
    pool: ConnectionPool[Connection[DictRow]] = ConnectionPool(
        checkpoint_url(platform),
        min_size=1,
        max_size=max_connections,
        kwargs={
            "autocommit": True,
            "prepare_threshold": 0,
            "row_factory": dict_row,
            "options": f"-c search_path={schema}",
        },
        open=True,
    )
    try:
        with pool.connection() as conn:
            # Poll rather than wait in pg_advisory_lock: the setup builds indexes CONCURRENTLY,
            # which waits for every running statement — a waiting lock call would deadlock it.
            while not conn.execute(
                "SELECT pg_try_advisory_lock(%s) AS locked", (_SETUP_LOCK,)
            ).fetchone()["locked"]:  # type: ignore[index]
                time.sleep(0.1)
            try:
                conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
                saver = PooledSaver(pool)
                saver.setup()
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (_SETUP_LOCK,))
    except BaseException:
        pool.close()
        raise
    return pool, saver
