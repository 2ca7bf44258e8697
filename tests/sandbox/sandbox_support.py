"""Test doubles and readers for the sandbox tests: a sink that keeps what the simulation emits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from hexaops.platform.telemetry.records import EventRecord, LogRecord, MetricBatch

Sample = tuple[datetime, str, str, str, str, str, str, tuple[tuple[str, str], ...], float]


@dataclass
class CollectingSink:
    """A TelemetrySink that keeps everything in memory (the test double at the sink boundary)."""

    batches: list[MetricBatch] = field(default_factory=list)
    logs: list[LogRecord] = field(default_factory=list)
    events: list[EventRecord] = field(default_factory=list)

    def write_metrics(self, batch: MetricBatch) -> None:
        self.batches.append(batch)

    def write_logs(self, records: list[LogRecord]) -> None:
        self.logs.extend(records)

    def write_events(self, records: list[EventRecord]) -> None:
        self.events.extend(records)

    def samples(self) -> list[Sample]:
        """Every sample as a comparable tuple, in emission order."""
        return [
            (ts, name, org, ws, ns, pod, ctr, tuple(sorted(labels.items())), value)
            for b in self.batches
            for ts, name, org, ws, ns, pod, ctr, labels, value in zip(
                b.ts,
                b.name,
                b.org,
                b.workspace,
                b.namespace,
                b.pod,
                b.container,
                b.labels,
                b.value,
                strict=True,
            )
        ]

    def values(
        self,
        name: str,
        workspace: str = "acme-prod",
        container: str | None = None,
        pod: str | None = None,
        **labels: str,
    ) -> list[tuple[datetime, str, float]]:
        """(ts, pod or node, value) of one metric, filtered by workspace, container/pod and labels."""
        out = []
        for b in self.batches:
            for i, n in enumerate(b.name):
                if n != name or b.workspace[i] != workspace:
                    continue
                if container is not None and b.container[i] != container:
                    continue
                if pod is not None and b.pod[i] != pod:
                    continue
                if any(b.labels[i].get(k) != v for k, v in labels.items()):
                    continue
                out.append((b.ts[i], b.pod[i] or b.labels[i].get("node", ""), b.value[i]))
        return out

    def last(self, name: str, **match: str) -> dict[str, float]:
        """The last value per pod (or per series without a pod)."""
        latest: dict[str, float] = {}
        for _, key, value in self.values(name, **match):
            latest[key] = value
        return latest

    def metric_names(self) -> set[str]:
        return {n for b in self.batches for n in b.name}

    def log_messages(self, workspace: str = "acme-prod") -> list[str]:
        return [r.message for r in self.logs if r.workspace == workspace]

    def event_reasons(self, workspace: str = "acme-prod") -> set[str]:
        return {e.reason for e in self.events if e.workspace == workspace or e.kind == "Node"}

    def sample_count(self) -> int:
        return sum(len(b) for b in self.batches)
