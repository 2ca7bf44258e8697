"""Checkpoint tables: processes starting together on a fresh database (API replicas, workers)
all get their checkpointer — none deadlocks on the other's setup."""

from __future__ import annotations

import threading

from hexaops.agents.checkpoints import open_checkpointer
from hexaops.platform.core import Platform


def test_concurrent_setups_on_a_fresh_schema_all_finish(platform: Platform) -> None:
    done: list[str] = []
    failed: list[BaseException] = []

    def start(n: int) -> None:
        try:
            pool, saver = open_checkpointer(platform, "race_checkpoints")
            saver.get_tuple({"configurable": {"thread_id": f"t{n}", "checkpoint_ns": ""}})
            pool.close()
            done.append(f"t{n}")
        except BaseException as exc:  # reported below
            failed.append(exc)

    threads = [threading.Thread(target=start, args=(n,), daemon=True) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failed, failed
    assert sorted(done) == ["t0", "t1", "t2"]


def test_checkpoints_wait_for_the_disk_flush_unless_told_not_to(platform: Platform) -> None:
    """The incident workflow's checkpoints (durability "sync": no action twice) are flushed
    before a write returns; the chat sessions' may skip the flush."""
    for flushed, expected in ((True, "on"), (False, "off")):
        pool, _ = open_checkpointer(platform, "flush_checkpoints", synchronous_commit=flushed)
        try:
            with pool.connection() as conn:
                row = conn.execute("SHOW synchronous_commit").fetchone()
        finally:
            pool.close()
        assert row is not None
        assert row["synchronous_commit"] == expected
