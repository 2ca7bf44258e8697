"""All tools: importing a toolset's module registers its tools."""

from __future__ import annotations

import importlib
from typing import Any

from hexaops.tools.contract import REGISTRY, Tool

_TOOLSET_MODULES = (
    "hexaops.tools.platform",
    "hexaops.tools.metrics",
    "hexaops.tools.logs",
    "hexaops.tools.analytics",
    "hexaops.tools.diagnostics",
    "hexaops.tools.security",
    "hexaops.tools.scaling",
    "hexaops.tools.knowledge",
)


def all_tools() -> dict[str, Tool[Any]]:
    for module in _TOOLSET_MODULES:
        importlib.import_module(module)
    return dict(sorted(REGISTRY.items()))
