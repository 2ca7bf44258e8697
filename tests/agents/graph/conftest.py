"""The graph tests' `service_for` fixture: an AgentService on the test's platform database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel

from hexaops.agents.service import AgentService
from hexaops.platform.core import Platform
from hexaops.platform.telemetry.clickhouse import ClickHouseStore
from hexaops.settings import Settings


@pytest.fixture
def service_for(
    platform: Platform, store: ClickHouseStore, chdb_home: Path
) -> Iterator[Callable[..., AgentService]]:
    """`service_for(model, **kwargs)`: an AgentService on the test's platform database."""
    made: list[AgentService] = []

    def make(model: BaseChatModel, **kwargs: Any) -> AgentService:
        service = AgentService(
            Settings(home=chdb_home),
            platform,
            model=model,
            resources={"telemetry": store},
            **kwargs,
        )
        made.append(service)
        return service

    yield make
    for service in made:
        service.close()
