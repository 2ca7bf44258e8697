"""Incidents over REST: each organization sees its own, newest first; another
organization's incident is "not found"."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np
from fastapi.testclient import TestClient

from hexaops.knowledge.embeddings import DIMENSIONS
from hexaops.knowledge.incidents import record_incident
from hexaops.platform.core import Platform


class FlatEmbedder:
    """Ranking is not under test here: every text gets the same unit vector."""

    name = "flat"

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.full((len(texts), DIMENSIONS), DIMENSIONS**-0.5, dtype=np.float32)


def test_incidents_of_your_organizations_only(
    api: TestClient, platform: Platform, token: Callable[[str], dict[str, str]]
) -> None:
    opened = datetime(2026, 1, 5, 10, tzinfo=UTC)
    ours = record_incident(
        platform.engine,
        FlatEmbedder(),
        org="acme",
        workspace="acme-prod",
        title="checkout OOMKilled",
        symptoms="restarts, 502s",
        root_cause="memory leak",
        mitigation="raised the limit, rolled back",
        outcome="resolved",
        created_at=opened,
        resolved_at=opened + timedelta(minutes=20),
    )
    theirs = record_incident(
        platform.engine, FlatEmbedder(), org="globex", title="api slow", symptoms="p99 4 s"
    )
    dev = token("dev@acme.example")
    listed = api.get("/api/incidents", headers=dev)
    assert listed.status_code == 200
    assert [(i["id"], i["status"]) for i in listed.json()] == [(ours.id, "resolved")]
    one = api.get(f"/api/incidents/{ours.id}", headers=dev).json()
    assert one["root_cause"] == "memory leak"
    assert api.get(f"/api/incidents/{theirs.id}", headers=dev).status_code == 404
    assert api.get("/api/incidents?org=globex", headers=dev).status_code == 404
    globex = api.get("/api/incidents", headers=token("owner@globex.example")).json()
    assert [(i["id"], i["status"]) for i in globex] == [(theirs.id, "open")]
