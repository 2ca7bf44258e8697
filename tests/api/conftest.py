"""The API on the test's platform database (embedded PostgreSQL) with a scripted model:
`api` is a started TestClient; `token(email)` a dev-login bearer header."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from api_support import MODEL
from fastapi.testclient import TestClient

from hexaops.agents.service import AgentService
from hexaops.platform.core import Platform
from hexaops.platform.telemetry.clickhouse import ClickHouseStore
from hexaops.settings import Settings
from hexaops.ui.api import create_app
from hexaops.ui.auth import dev_token


@pytest.fixture
def api_settings(chdb_home: Path) -> Settings:
    return Settings(home=chdb_home, api_max_body_bytes=64 * 1024)


@pytest.fixture
def agents(
    platform: Platform, store: ClickHouseStore, api_settings: Settings
) -> Iterator[AgentService]:
    service = AgentService(api_settings, platform, model=MODEL, resources={"telemetry": store})
    yield service
    service.close()


@pytest.fixture
def api_for(platform: Platform, agents: AgentService) -> Iterator[Callable[[Settings], TestClient]]:
    """`api_for(settings)`: a started TestClient of the API with these settings."""
    with ExitStack() as stack:

        def make(settings: Settings) -> TestClient:
            app = create_app(settings, platform, agents)
            return stack.enter_context(TestClient(app, raise_server_exceptions=False))

        yield make


@pytest.fixture
def api(api_for: Callable[[Settings], TestClient], api_settings: Settings) -> TestClient:
    return api_for(api_settings)


@pytest.fixture
def token(api_settings: Settings) -> Callable[[str], dict[str, str]]:
    def make(email: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {dev_token(api_settings, email)}"}

    return make
