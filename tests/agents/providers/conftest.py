"""Fixtures of the provider tests: a scripted provider server, an environment without keys."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from providers_wire import WireServer


@pytest.fixture
def wire() -> Iterator[WireServer]:
    server = WireServer()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def _no_provider_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The machine's provider keys and HEXAOPS_MODEL_* must not leak into these tests."""
    for name in list(os.environ):
        if name.startswith(("HEXAOPS_MODEL", "ANTHROPIC_", "OPENAI_")):
            monkeypatch.delenv(name)
