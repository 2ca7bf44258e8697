"""Fuzzing the alert routes from their OpenAPI description (schemathesis): the Alertmanager
webhook and the incident decision, valid and invalid inputs — never a server error, and every
answer as documented (status, content type, schema)."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from alerts_support import OWNER
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from hexaops.platform.bus import MemoryBroker, MemoryBus
from hexaops.platform.core import Platform
from hexaops.settings import Settings
from hexaops.ui.api import create_app
from hexaops.ui.auth import dev_token

# Schema-valid is not always acceptable (an incident must exist and wait): documented 4xx.
EXCLUDED = [positive_data_acceptance, negative_data_rejection]
ROUTES = ("/webhooks/alertmanager", "/api/incidents/{incident_id}/decision")


def _fuzz(operation: APIOperation, mode: GenerationMode, headers: dict[str, str]) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=30,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, excluded_checks=EXCLUDED)

    run()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_alert_routes_fuzz(mode: GenerationMode, platform: Platform, chdb_home: Path) -> None:
    api_settings = Settings(home=chdb_home, model_provider="offline", api_max_body_bytes=65536)
    app = create_app(api_settings, platform, alerts=True, bus=MemoryBus(MemoryBroker()))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [op for op in (r.ok() for r in schema.get_all_operations()) if op.path in ROUTES]
    assert len(operations) == 2
    headers = {"Authorization": f"Bearer {dev_token(api_settings, OWNER)}"}
    for operation in operations:
        _fuzz(operation, mode, headers)
