"""Offline planner: a deterministic, rule-based chat model that needs no LLM."""

from hexaops.agents.offline.model import OfflinePlanner

__all__ = ["OfflinePlanner"]
