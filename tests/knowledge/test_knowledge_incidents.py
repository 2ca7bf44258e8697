"""Incident memory: recording, similar incidents (ranked, tenant-scoped), feedback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from knowledge_support import embedder

from hexaops.knowledge.incidents import (
    IncidentView,
    feedback,
    get_incident,
    record_incident,
    similar_incidents,
)
from hexaops.platform.core import Platform
from hexaops.platform.domain import Principal
from hexaops.platform.errors import InvalidInput, NotFound

OOM = "checkout pods restarting, exit code 137 OOMKilled, memory usage at the limit"


def _record(platform: Platform, org: str, title: str, symptoms: str, **kw: object) -> IncidentView:
    return record_incident(
        platform.engine, embedder(), org=org, title=title, symptoms=symptoms, **kw
    )  # type: ignore[arg-type]


def test_record_computes_time_to_resolve_and_refuses_bad_input(platform: Platform) -> None:
    start = datetime(2026, 11, 1, 10, tzinfo=UTC)
    view = _record(
        platform,
        "acme",
        "Checkout OOM",
        OOM,
        workspace="acme-prod",
        mitigation="raised memory limit to 512Mi",
        outcome="resolved",
        created_at=start,
        resolved_at=start + timedelta(minutes=42),
        source="remediation:action/7",
    )
    assert view.time_to_resolve_seconds == 42 * 60
    assert (view.org, view.outcome, view.feedback_score) == ("acme", "resolved", 0)
    with pytest.raises(InvalidInput, match="title and its symptoms"):
        _record(platform, "acme", " ", OOM)
    with pytest.raises(InvalidInput, match="outcome must be one of"):
        _record(platform, "acme", "x", OOM, outcome="fixed")
    with pytest.raises(NotFound):
        _record(platform, "initech", "x", OOM)


def test_similar_incidents_prefer_mitigations_that_worked_and_stay_in_the_org(
    platform: Platform, dev: Principal
) -> None:
    current = _record(platform, "acme", "Checkout restarting", OOM)
    failed = _record(
        platform,
        "acme",
        "Checkout pods OOMKilled",
        OOM,
        mitigation="restarted the pods",
        outcome="failed",
    )
    worked = _record(
        platform,
        "acme",
        "Checkout pods OOMKilled",
        OOM,
        mitigation="raised the memory limit",
        outcome="resolved",
    )
    _record(
        platform, "acme", "Certificate expired", "TLS handshake fails: x509 certificate has expired"
    )
    globex = _record(platform, "globex", "Checkout pods OOMKilled", OOM, outcome="resolved")

    found = similar_incidents(platform, dev, embedder(), incident_id=current.id)
    ids = [s.incident.id for s in found]
    assert ids[:2] == [worked.id, failed.id]  # equally similar: the one that worked first
    assert current.id not in ids
    assert globex.id not in ids
    assert all(s.similarity >= 0.3 for s in found)
    best = found[0]
    assert best.score == pytest.approx(
        best.similarity * best.outcome_weight * best.feedback_factor, abs=1e-3
    )

    by_text = similar_incidents(
        platform, dev, embedder(), description="pods killed for using too much memory"
    )
    assert by_text[0].incident.org == "acme"
    assert globex.id not in [s.incident.id for s in by_text]

    with pytest.raises(NotFound, match=f"incident {globex.id} not found"):
        similar_incidents(platform, dev, embedder(), incident_id=globex.id)
    with pytest.raises(NotFound):
        similar_incidents(platform, dev, embedder(), description="oom", org="globex")
    with pytest.raises(InvalidInput, match="either an incident id or a description"):
        similar_incidents(platform, dev, embedder())


def test_feedback_moves_outcome_and_ranking(platform: Platform, dev: Principal) -> None:
    a = _record(platform, "acme", "Checkout pods OOMKilled", OOM, mitigation="restart")
    b = _record(platform, "acme", "Checkout pods OOMKilled", OOM, mitigation="raise limit")
    assert feedback(platform, dev, b.id, "mitigation_worked").outcome == "resolved"
    after_fail = feedback(platform, dev, a.id, "mitigation_failed")
    assert (after_fail.outcome, after_fail.feedback_score) == ("failed", -2)
    assert feedback(platform, dev, a.id, "helpful").feedback_score == -1
    found = similar_incidents(platform, dev, embedder(), description=OOM)
    assert [s.incident.id for s in found] == [b.id, a.id]
    assert get_incident(platform, dev, b.id).feedback_score == 2

    other = _record(platform, "globex", "Ledger down", "ledger daemon crashed")
    with pytest.raises(NotFound):
        feedback(platform, dev, other.id, "helpful")
    with pytest.raises(InvalidInput, match="feedback must be one of"):
        feedback(platform, dev, a.id, "great")  # type: ignore[arg-type]
