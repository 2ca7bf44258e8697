"""Telemetry of the platform: records, the ClickHouse store, OpenMetrics export."""
