"""Alert intake: dedupe by fingerprint, grouping by root object, flapping, resolves, disorder
and bad input — each leaves a clear record, never a crash or a duplicate incident."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from hexaops.incidents.alerts import Alert, fingerprint, parse_alerts
from hexaops.incidents.intake import ingest
from hexaops.incidents.models import IncidentAlert, IncidentEvent, IncidentRow
from hexaops.platform.core import Platform
from hexaops.platform.errors import InvalidInput

T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
PLACE = {"org": "acme", "workspace": "acme-prod", "project": "shop"}


def alert(
    name: str = "HighErrorRate",
    status: str = "firing",
    at: datetime = T0,
    ends: datetime | None = None,
    **labels: str,
) -> Alert:
    body: dict[str, Any] = {
        "status": status,
        "labels": {"alertname": name, **PLACE, "application": "checkout", **labels},
        "annotations": {"summary": "5xx above 5%"},
        "startsAt": at.isoformat(),
    }
    if ends is not None:
        body["endsAt"] = ends.isoformat()
    return Alert.model_validate(body)


def incidents(platform: Platform) -> list[IncidentRow]:
    with platform.sessions() as s:
        return list(s.scalars(select(IncidentRow).order_by(IncidentRow.id)))


def alert_row(platform: Platform, fp: str) -> IncidentAlert:
    with platform.sessions() as s:
        row = s.scalar(select(IncidentAlert).where(IncidentAlert.fingerprint == fp))
        assert row is not None
        return row


def test_a_webhook_body_parses_and_fingerprints_are_stable() -> None:
    body = {
        "version": "4",
        "alerts": [
            alert().to_json(),
            {**alert(status="resolved").to_json(), "endsAt": "0001-01-01T00:00:00Z"},
        ],
    }
    parsed = parse_alerts(body)
    assert [a.status for a in parsed] == ["firing", "resolved"]
    assert parsed[1].ends_at is None  # Alertmanager's zero time means "not ended"
    assert parsed[0].fingerprint == fingerprint(parsed[0].labels) == parsed[1].fingerprint
    with pytest.raises(InvalidInput, match="alert 0: startsAt"):
        parse_alerts([{"labels": {"alertname": "X"}}])


def test_duplicates_and_related_alerts_make_one_incident(platform: Platform) -> None:
    first = ingest(
        platform,
        [alert(), alert(), alert("KubePodCrashLooping", pod="checkout-abc-123", application="")],
    )
    assert [r.outcome for r in first.results] == ["opened", "duplicate", "grouped"]
    other = ingest(platform, [alert(application="payments")])
    assert other.results[0].outcome == "opened"
    rows = incidents(platform)
    assert len(rows) == 2
    assert rows[0].group_key == "acme/acme-prod/shop/Deployment/checkout"
    assert rows[0].firing == 2
    assert alert_row(platform, alert().fingerprint).received == 2


def test_resolve_flap_and_disorder(platform: Platform) -> None:
    fp = alert().fingerprint
    assert ingest(platform, [alert()]).results[0].outcome == "opened"
    resolved = alert(status="resolved", ends=T0 + timedelta(minutes=5))
    assert ingest(platform, [resolved]).results[0].outcome == "resolved"
    assert incidents(platform)[0].firing == 0
    # A firing notice from before the resolve arrives late: ignored, not a new incident.
    late = ingest(platform, [alert(at=T0 + timedelta(minutes=2))]).results[0]
    assert late.outcome == "stale"
    # It fires again soon after: flapping — the same incident, no new investigation.
    again = ingest(platform, [alert(at=T0 + timedelta(minutes=8))]).results[0]
    assert again.outcome == "flapping"
    assert again.incident_id == incidents(platform)[0].id
    assert alert_row(platform, fp).flaps == 1
    # A resolve older than the latest firing is stale too.
    old = ingest(platform, [alert(status="resolved", ends=T0 + timedelta(minutes=6))]).results[0]
    assert old.outcome == "stale"
    assert len(incidents(platform)) == 1
    with platform.sessions() as s:
        kinds = s.scalars(
            select(IncidentEvent.summary).where(IncidentEvent.incident_id == again.incident_id)
        ).all()
    assert any("no alert of this incident fires any more" in k for k in kinds)
    assert any("fired again" in k for k in kinds)


def test_resolve_before_fire_is_an_orphan_record(platform: Platform) -> None:
    result = ingest(platform, [alert(status="resolved", ends=T0)]).results[0]
    assert result.outcome == "orphan"
    assert result.incident_id is None
    assert incidents(platform) == []
    assert alert_row(platform, result.fingerprint).state == "orphan"
    # If it then fires (newer), it opens an incident as usual.
    assert ingest(platform, [alert(at=T0 + timedelta(minutes=1))]).results[0].outcome == "opened"


@pytest.mark.parametrize(
    ("labels", "reason"),
    [
        ({"org": "initech"}, "organization 'initech' not found"),
        ({"org": "globex"}, "workspace 'acme-prod' not found in globex"),
        ({"application": "nope"}, "application 'nope' not found"),
        ({"project": "nope"}, "project 'nope' not found"),
        ({"workspace": ""}, "labels org and workspace are required"),
        ({"pod": "stray-1", "application": ""}, "pod 'stray-1' belongs to no application"),
    ],
)
def test_bad_alerts_are_rejected_with_a_reason(
    platform: Platform, labels: dict[str, str], reason: str
) -> None:
    result = ingest(platform, [alert(**labels)]).results[0]
    assert result.outcome == "rejected"
    assert reason in result.note
    assert incidents(platform) == []
    row = alert_row(platform, result.fingerprint)
    assert (row.state, row.incident_id) == ("rejected", None)
    assert reason in row.note


def test_concurrent_intake_loses_nothing_and_opens_one_incident_per_object(
    platform: Platform,
) -> None:
    apps = ["frontend", "checkout", "payments", "catalog"]
    batch = [
        alert(f"Alert{i % 7}", application=apps[i % 4], replica=str(i % 13)) for i in range(200)
    ]
    unique = {a.fingerprint for a in batch}
    chunks = [batch[i::4] for i in range(4)]
    with ThreadPoolExecutor(4) as pool:
        reports = list(pool.map(lambda c: ingest(platform, c), chunks))
    outcomes = [r.outcome for rep in reports for r in rep.results]
    assert len(outcomes) == 200
    assert outcomes.count("opened") == 4
    assert set(outcomes) <= {"opened", "grouped", "duplicate"}
    with platform.sessions() as s:
        assert s.scalar(select(func.count()).select_from(IncidentAlert)) == len(unique)
        assert s.scalar(select(func.sum(IncidentAlert.received))) == 200
    assert sorted(r.workload for r in incidents(platform)) == sorted(
        f"Deployment/{a}" for a in apps
    )
