"""The Alertmanager webhook: malformed or oversized payloads get a 4xx problem document and
queue nothing; a re-sent webhook is queued once; the shared token is enforced when set."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alerts_support import webhook
from fastapi.testclient import TestClient

from hexaops.platform.bus import ALERTS, Delivery, MemoryBroker, MemoryBus
from hexaops.platform.core import Platform
from hexaops.settings import Settings
from hexaops.ui.api import create_app

URL = "/webhooks/alertmanager"
ALERT = {
    "status": "firing",
    "labels": {"alertname": "HighErrorRate", "org": "acme", "workspace": "acme-prod"},
    "annotations": {"summary": "5xx above 5%"},
    "startsAt": "2026-01-05T10:00:00Z",
    "endsAt": "0001-01-01T00:00:00Z",
    "generatorURL": "http://prometheus/graph",
    "fingerprint": "a1b2c3d4e5f60708",
}


@pytest.fixture
def broker() -> MemoryBroker:
    return MemoryBroker()


def _client(
    platform: Platform, chdb_home: Path, broker: MemoryBroker, **settings: Any
) -> TestClient:
    app = create_app(
        Settings(home=chdb_home, model_provider="offline", api_max_body_bytes=8192, **settings),
        platform,
        alerts=True,
        bus=MemoryBus(broker),
    )
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def client(platform: Platform, chdb_home: Path, broker: MemoryBroker) -> Iterator[TestClient]:
    with _client(platform, chdb_home, broker) as client:
        yield client


def queued(broker: MemoryBroker) -> list[dict[str, Any]]:
    """Everything on ALERTS so far, read through a probe consumer."""
    consumer = broker.consumer("probe", ALERTS, Delivery())
    found = []
    while (event := broker.take(consumer)[0]) is not None:
        found.append(event.json())
        broker.settle(consumer, event.sequence, retry_in=None)
    return found


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ("{not json", 422, "JSON"),
        ([ALERT], 422, "body"),
        ({"version": "4"}, 422, "alerts"),
        (webhook(), 422, "alerts"),
        ({**webhook(ALERT), "version": "3"}, 422, "version"),
        (webhook({**ALERT, "startsAt": "yesterday"}), 422, "startsAt"),
        (webhook({k: v for k, v in ALERT.items() if k != "labels"}), 422, "labels"),
        (webhook({**ALERT, "labels": ["org", "acme"]}), 422, "labels"),
        (webhook(*[ALERT] * 200), 413, "8,192 bytes"),
    ],
    ids=[
        "not-json",
        "a-list",
        "no-alerts",
        "empty-alerts",
        "version-3",
        "bad-time",
        "no-labels",
        "labels-not-a-map",
        "too-large",
    ],
)
def test_malformed_payloads_get_a_problem_and_queue_nothing(
    client: TestClient, broker: MemoryBroker, body: Any, status: int, says: str
) -> None:
    if isinstance(body, str):
        sent = client.post(URL, content=body, headers={"content-type": "application/json"})
    else:
        sent = client.post(URL, json=body)
    assert sent.status_code == status, sent.text
    assert sent.headers["content-type"] == "application/problem+json"
    assert says in sent.json()["detail"]
    assert queued(broker) == []


def test_a_resent_webhook_is_queued_once(client: TestClient, broker: MemoryBroker) -> None:
    other = {**ALERT, "fingerprint": "ffffeeeeddddcccc", "labels": {**ALERT["labels"], "x": "1"}}
    first = client.post(URL, json=webhook(ALERT, other))
    assert (first.status_code, first.json()) == (
        202,
        {"received": 2, "queued": 2, "duplicates": 0},
    )
    again = client.post(URL, json=webhook(ALERT, other))  # Alertmanager retried
    assert again.json() == {"received": 2, "queued": 0, "duplicates": 2}
    resolved = {**ALERT, "status": "resolved", "endsAt": "2026-01-05T10:20:00Z"}
    assert client.post(URL, json=webhook(resolved)).json()["queued"] == 1  # a new notice
    alerts = queued(broker)
    assert [(a["fingerprint"], a["status"]) for a in alerts] == [
        ("a1b2c3d4e5f60708", "firing"),
        ("ffffeeeeddddcccc", "firing"),
        ("a1b2c3d4e5f60708", "resolved"),
    ]
    assert alerts[0]["endsAt"] is None  # Alertmanager's zero time means "not ended"


def test_the_shared_token_is_required_when_set(
    platform: Platform, chdb_home: Path, broker: MemoryBroker
) -> None:
    with _client(platform, chdb_home, broker, alertmanager_token="s3cret") as client:
        _check_the_token(client, broker)


def _check_the_token(client: TestClient, broker: MemoryBroker) -> None:
    basic = base64.b64encode(b"alertmanager:s3cret").decode()
    for header in (None, "Bearer wrong", "Basic !!", "Token s3cret"):
        sent = client.post(
            URL, json=webhook(ALERT), headers={"Authorization": header} if header else {}
        )
        assert sent.status_code == 401, header
        assert "HEXAOPS_ALERTMANAGER_TOKEN" in sent.json()["detail"]
    assert queued(broker) == []
    unauthenticated_garbage = client.post(URL, content=b"{", headers={})
    assert unauthenticated_garbage.status_code == 401  # the token is checked before the body
    assert client.post(
        URL, json=webhook(ALERT), headers={"Authorization": "Bearer s3cret"}
    ).json() == {"received": 1, "queued": 1, "duplicates": 0}
    second = {**ALERT, "fingerprint": "0000111122223333"}
    assert (
        client.post(
            URL, json=webhook(second), headers={"Authorization": f"Basic {basic}"}
        ).status_code
        == 202
    )
    assert len(queued(broker)) == 2


def test_the_webhook_is_documented(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"][URL]["post"]
    assert {"202", "401", "413", "422", "503"} <= set(operation["responses"])
    assert operation["tags"] == ["alerts"]


def test_an_alert_with_alertmanagers_zero_start_time_is_taken_once(
    client: TestClient, broker: MemoryBroker
) -> None:
    body = {"alerts": [{"labels": {}, "startsAt": "0001-01-01T00:00:00Z"}]}
    first = client.post(URL, json=body)
    assert first.status_code == 202, first.text
    assert client.post(URL, json=body).json()["duplicates"] == 1
    assert len(queued(broker)) == 1
