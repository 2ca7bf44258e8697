"""Slack retries an event it thinks we missed (X-Slack-Retry-Num): a retried event must never
run a turn twice. Event ids seen by this process are remembered for an hour; a retry this
process has not seen (e.g. after a restart) is checked against the thread's session."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Final

TTL_SECONDS: Final = 3600  # Slack retries within minutes
MAX_EVENTS: Final = 10_000


class SeenEvents:
    def __init__(self) -> None:
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, event_id: str) -> bool:
        """True once per event id (atomically, for concurrent deliveries)."""
        now = time.monotonic()
        with self._lock:
            while self._seen and (
                len(self._seen) >= MAX_EVENTS or now - next(iter(self._seen.values())) > TTL_SECONDS
            ):
                self._seen.popitem(last=False)
            if event_id in self._seen:
                return False
            self._seen[event_id] = now
            return True
