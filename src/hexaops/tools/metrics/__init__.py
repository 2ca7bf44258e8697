"""Metrics tools: workload vital signs, top consumers, before/after comparisons and tenant-scoped
PromQL, answered by Prometheus when configured, else by the ClickHouse telemetry store."""

from hexaops.tools.metrics import tools as tools

__all__ = ["tools"]
