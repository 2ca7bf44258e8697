"""Verification: after the fix, watch the telemetry until the alert's cause is gone — or a
deadline passes.

Recovery means the evidence gathered fresh over the minutes since the fix no longer supports
any cause that explains the alerting object (the fixed one, or another one still there) and
the object's error rate is back under the failing threshold. Time comes from a `Watch`: under
the sandbox it runs the simulated clock; against a cluster it would sleep.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from hexaops.incidents.alerts import AlertTarget
from hexaops.incidents.evidence import gather
from hexaops.incidents.hypotheses import ERROR_RATE_PCT, SLOW_MS, propose
from hexaops.tools.context import ToolContext

DEADLINE_MINUTES: Final = 9
CHECK_EVERY_MINUTES: Final = 3
EXPLAINING: Final = ("self", "explains")


class Watch(Protocol):
    def wait(self, minutes: float) -> None:
        """Let `minutes` of platform time pass (and its telemetry be written)."""


@dataclass
class SandboxWatch:
    """Runs the sandbox's simulated clock, writing telemetry to the investigation's store."""

    ctx: ToolContext

    def wait(self, minutes: float) -> None:
        from hexaops.platform.sandbox import Simulation

        Simulation(self.ctx.platform.engine).advance(minutes, self.ctx.telemetry())


@dataclass
class Verdict:
    recovered: bool
    minutes: float
    checks: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"recovered": self.recovered, "minutes": self.minutes, "checks": self.checks}


def remaining_causes(ctx: ToolContext, target: AlertTarget, minutes: float) -> list[str]:
    """What still explains the alert over the last `minutes` (empty: recovered)."""
    ev = gather(ctx, target, since=f"{max(1, int(minutes))}m", memory=False)
    causes = [f"{h.cause} on {h.workload}" for h in propose(ev) if h.relevance in EXPLAINING]
    if target.kind == "Deployment":
        stats = ev.vitals.get(target.name) or {}
        errors, latency = stats.get("error_pct", 0.0), stats.get("latency_ms", 0.0)
        if errors >= ERROR_RATE_PCT:
            causes.append(f"{target.name} still fails {errors:.1f}% of requests")
        if latency >= SLOW_MS:
            causes.append(f"{target.name} is still slow (mean latency {latency:.0f} ms)")
    return causes


def verify(
    ctx: ToolContext,
    target: AlertTarget,
    watch: Watch,
    deadline_minutes: float = DEADLINE_MINUTES,
    every_minutes: float = CHECK_EVERY_MINUTES,
) -> Verdict:
    verdict = Verdict(False, 0.0)
    while verdict.minutes < deadline_minutes:
        watch.wait(every_minutes)
        verdict.minutes += every_minutes
        left = remaining_causes(ctx, target, every_minutes)
        verdict.checks.append({"after_minutes": verdict.minutes, "remaining": left})
        if not left:
            verdict.recovered = True
            break
    return verdict
