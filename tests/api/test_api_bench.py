"""`bench_api` at a tiny scale: chat turns over HTTP+SSE and webhooks with re-sends all counted
(no timing asserts)."""

from __future__ import annotations

import json

from hexaops.ui.api.bench import GOAL_ALERTS_PER_MINUTE, bench_api


def test_a_tiny_run_accounts_for_every_turn_and_alert() -> None:
    said: list[str] = []
    report = bench_api(
        rate=4, seconds=1, model_seconds=0.02, processes=1, alerts=120, progress=said.append
    )
    json.dumps(report)
    assert report["completed"] + report["lost"] == report["turns"]
    assert report["lost"] == 0, report["first_lost"]
    hook = report["webhook"]
    assert hook["webhooks"] == 12 + 3  # 10 alerts per webhook, every 5th sent twice
    assert (hook["queued"], hook["resent_alerts"], hook["duplicates"]) == (120, 30, 30)
    assert hook["lost"] == hook["failed"] == 0
    assert report["goals"]["alerts_per_minute"] == GOAL_ALERTS_PER_MINUTE
    assert report["verdicts"]["alerts_per_minute"] == (
        hook["alerts_per_minute"] >= GOAL_ALERTS_PER_MINUTE
    )
    assert any(line.startswith("webhook:") for line in said)
