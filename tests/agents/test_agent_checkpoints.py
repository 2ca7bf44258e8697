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
