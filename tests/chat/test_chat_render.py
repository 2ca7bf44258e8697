"""What the browser chat renders from a turn's tool results: metric series as SVG charts
(gaps left open), knowledge passages as named sources; and who may sign in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from hexaops.knowledge.incidents import IncidentView
from hexaops.platform.core import Platform
from hexaops.settings import Settings
from hexaops.ui.auth import dev_token
from hexaops.ui.chat.login import bearer_login, password_login
from hexaops.ui.chat.render import chart_images, citation_texts, incident_text, incidents_table

SVG = "{http://www.w3.org/2000/svg}"


def test_metric_series_become_svg_line_charts_with_gaps() -> None:
    result = {
        "tool": "metrics_workload",
        "status": "ok",
        "data": {
            "scope": "acme-prod/shop/checkout",
            "start": "2026-11-30T10:00:00+00:00",
            "step_seconds": 60,
            "series": {"memory": [100.0, 120.0, None, 300.0, 310.0], "restarts": [0, 0, 1, 0, 0]},
        },
    }
    skipped = {"tool": "platform_workspaces", "status": "ok", "data": {"series": {}}}
    charts = dict(chart_images([result, skipped]))
    assert set(charts) == {"memory.svg", "restarts.svg"}
    memory = ElementTree.fromstring(charts["memory.svg"])
    lines = memory.findall(f"{SVG}polyline")
    assert [len(line.get("points", "").split()) for line in lines] == [2, 2]  # the gap splits it
    texts = [t.text for t in memory.iter(f"{SVG}text")]
    assert "Memory working set — acme-prod/shop/checkout" in texts
    assert {"310", "10:00", "10:04 UTC"} <= set(texts)


def test_knowledge_passages_become_named_sources_once_each() -> None:
    hit = {
        "citation": "runbooks/oom.md:10-24 § Diagnose",
        "title": "OOMKilled",
        "section": "Diagnose",
        "text": "Check the memory limit",
    }
    results: list[dict[str, Any]] = [
        {"tool": "knowledge_search", "status": "ok", "data": [hit, hit]},
        {"tool": "metrics_workload", "status": "ok", "data": {}},
    ]
    ((name, body),) = citation_texts(results)
    assert name == "runbooks/oom.md:10-24 § Diagnose"
    assert body.startswith("**OOMKilled** — Diagnose")
    assert body.endswith("Check the memory limit")


@pytest.fixture
def demo(chdb_home: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.delenv("HEXAOPS_CHAT_DEV_PASSWORD", raising=False)
    return Settings(home=chdb_home)  # the embedded demo: no OIDC issuer, no DATABASE_URL


def test_sign_in_with_the_dev_login_or_a_token(platform: Platform, demo: Settings) -> None:
    assert password_login(platform, demo, "Owner@acme.example ", "dev") == platform.user(
        "owner@acme.example"
    )
    assert password_login(platform, demo, "owner@acme.example", "wrong") is None
    assert password_login(platform, demo, "nobody@acme.example", "dev") is None
    token = dev_token(demo, "dev@acme.example")
    assert password_login(platform, demo, "", token) == platform.user("dev@acme.example")
    assert password_login(platform, demo, "owner@acme.example", token) is None  # not theirs
    assert bearer_login(platform, demo, f"Bearer {token}") == platform.user("dev@acme.example")
    assert bearer_login(platform, demo, "Basic abc") is None


def test_without_dev_login_only_tokens_sign_in(platform: Platform, chdb_home: Path) -> None:
    production = Settings(home=chdb_home, database_url="postgresql://db.example/hexaops")
    assert password_login(platform, production, "owner@acme.example", "dev") is None


def test_the_incident_view_lists_and_details_incidents() -> None:
    opened = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    incident = IncidentView(
        id=3,
        org="acme",
        workspace="acme-prod",
        title="checkout | OOMKilled",
        symptoms="pods restarting",
        findings="memory at the limit",
        root_cause="memory leak in 2.4.1",
        mitigation="rolled back to 2.4.0",
        outcome="resolved",
        time_to_resolve_seconds=1800.0,
        created_at=opened,
        resolved_at=opened + timedelta(minutes=30),
        feedback_score=0,
        source="alert",
    )
    table = incidents_table([incident])
    assert "| 3 | 2026-11-30 09:00 | acme-prod | checkout \\| OOMKilled | resolved |" in table
    assert incidents_table([]) == "No incidents recorded for your organizations yet."
    detail = incident_text(incident)
    assert detail.startswith("### Incident #3: checkout | OOMKilled")
    assert "2026-11-30 09:30 UTC (30 min)" in detail
    assert "**Root cause** memory leak in 2.4.1" in detail
