"""LangGraph checkpoints in the platform database, each graph family in a schema of its own
(outside the platform's Alembic metadata): agent sessions, incident runs."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Final

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    DeltaChannelHistory,
)
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
    checkpoint yet: its first read answers that without asking the database.

    Async runs (the API's) get the same calls on worker threads (`asyncio.to_thread`): a turn
    reads and writes its checkpoint once or twice, so one pool of connections serves both
    kinds of run, with no second pool bound to one event loop."""

    def __init__(self, pool: ConnectionPool[Connection[DictRow]]) -> None:
        super().__init__(pool)
        self.lock = _NoLock()  # type: ignore[assignment]
        self._new: set[str] = set()
        self._new_lock = threading.Lock()

    def new_thread(self, thread_id: str) -> None:
        with self._new_lock:
            self._new.add(thread_id)

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        if self._made_up(config):
            return None
        return super().get_tuple(config)

    def _made_up(self, config: RunnableConfig) -> bool:
        """Whether this is the first read of a thread made up by its owner (forgets it)."""
        configurable = config.get("configurable") or {}
        thread_id = str(configurable.get("thread_id", ""))
        if "checkpoint_id" in configurable or thread_id not in self._new:
            return False
        with self._new_lock:
            self._new.discard(thread_id)
        return True

    # -- the async interface, on worker threads ------------------------------------------------

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        if self._made_up(config):
            return None
        return await asyncio.to_thread(super().get_tuple, config)

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        found = await asyncio.to_thread(
            lambda: list(self.list(config, filter=filter, before=before, limit=limit))
        )
        for item in found:
            yield item

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return await asyncio.to_thread(self.put, config, checkpoint, metadata, new_versions)

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        await asyncio.to_thread(self.put_writes, config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id: str) -> None:
        await asyncio.to_thread(self.delete_thread, thread_id)

    async def aget_delta_channel_history(
        self, *, config: RunnableConfig, channels: Sequence[str]
    ) -> Mapping[str, DeltaChannelHistory]:
        return await asyncio.to_thread(
            lambda: self.get_delta_channel_history(config=config, channels=channels)
        )


def open_checkpointer(
    platform: Platform, schema: str, max_connections: int = 16, *, synchronous_commit: bool = True
) -> tuple[ConnectionPool[Connection[DictRow]], PooledSaver]:
    """A connection pool (close it when done) and a saver on `schema`, its tables created.
    Processes starting together (API replicas, workers) take turns creating the tables.

    `synchronous_commit=False`: a write returns before PostgreSQL has flushed it to disk (its
    `synchronous_commit = off`, for this pool's sessions only). A crash of PostgreSQL itself
    (not of hexaops) can then lose the writes of its last moments (at most three times its
    `wal_writer_delay`, 0.6 s by default) — never corrupt them."""
    options = f"-c search_path={schema}"
    if not synchronous_commit:
        options += " -c synchronous_commit=off"
    pool: ConnectionPool[Connection[DictRow]] = ConnectionPool(
        checkpoint_url(platform),
        min_size=1,
        max_size=max_connections,
        kwargs={
            "autocommit": True,
            "prepare_threshold": 0,
            "row_factory": dict_row,
            "options": options,
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
