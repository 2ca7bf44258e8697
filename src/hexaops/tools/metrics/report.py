"""Numbers as a person reads them: units, rounding, summary statistics, before/after verdicts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hexaops.tools.metrics.backend import Sampled, Signal, Steps

MIB = 2**20
UNITS = {
    Signal.CPU: "cores",
    Signal.MEMORY: "MiB",
    Signal.MEMORY_PEAK: "MiB",
    Signal.RESTARTS: "restarts",
    Signal.ERROR_RATE: "%",
    Signal.P95_LATENCY: "ms",
}
_SCALE = {Signal.MEMORY: 1 / MIB, Signal.MEMORY_PEAK: 1 / MIB, Signal.ERROR_RATE: 100.0}
_SCALE[Signal.P95_LATENCY] = 1000.0


def rounded(value: float) -> float:
    """Three significant digits: enough to compare, short in a prompt."""
    if value == 0:
        return 0.0
    return float(f"{value:.3g}")


def shown(signal: Signal, value: float) -> float:
    """`value` in the signal's display unit, rounded."""
    return rounded(value * _SCALE.get(signal, 1.0))


@dataclass
class Stats:
    signal: Signal
    avg: float
    max: float
    min: float
    last: float
    total: float  # restarts: the sum of the steps

    @classmethod
    def of(cls, sampled: Sampled) -> Stats | None:
        values = [v for _, v in sampled.points]
        if not values:
            return None
        return cls(
            sampled.signal,
            sum(values) / len(values),
            max(values),
            min(values),
            values[-1],
            sum(values),
        )

    def to_json(self) -> dict[str, Any]:
        s = self.signal
        if s is Signal.RESTARTS:
            return {"unit": UNITS[s], "total": round(self.total), "max_per_step": round(self.max)}
        return {
            "unit": UNITS[s],
            "avg": shown(s, self.avg),
            "max": shown(s, self.max),
            "min": shown(s, self.min),
            "last": shown(s, self.last),
        }


def series_json(sampled: Sampled, steps: Steps) -> list[float | None]:
    """One value per step in display units, None where the step had no data (the step length
    and the window's start are given once, next to the series)."""
    at = dict(sampled.points)
    values = (at.get(steps.at(k)) for k in range(steps.count))
    if sampled.signal is Signal.RESTARTS:
        return [None if v is None else round(v) for v in values]
    return [None if v is None else shown(sampled.signal, v) for v in values]


def describe(stats: dict[Signal, Stats], memory_limit_bytes: int | None) -> list[str]:
    """Phrases like "memory 480 MiB avg, max 511 MiB of 512 MiB limit"."""
    parts: list[str] = []
    if cpu := stats.get(Signal.CPU):
        parts.append(
            f"CPU {shown(Signal.CPU, cpu.avg)} cores avg, max {shown(Signal.CPU, cpu.max)}"
        )
    if memory := stats.get(Signal.MEMORY):
        text = f"memory {shown(Signal.MEMORY, memory.avg):g} MiB avg"
        if peak := stats.get(Signal.MEMORY_PEAK):
            text += f", largest pod {shown(Signal.MEMORY, peak.max):g} MiB"
            if memory_limit_bytes:
                text += f" of {memory_limit_bytes / MIB:g} MiB limit"
        parts.append(text)
    if restarts := stats.get(Signal.RESTARTS):
        parts.append(f"{round(restarts.total)} restarts")
    if errors := stats.get(Signal.ERROR_RATE):
        parts.append(
            f"5xx {shown(Signal.ERROR_RATE, errors.avg):g}% avg "
            f"(max {shown(Signal.ERROR_RATE, errors.max):g}%)"
        )
    if p95 := stats.get(Signal.P95_LATENCY):
        parts.append(f"p95 latency {shown(Signal.P95_LATENCY, p95.avg):g} ms avg")
    return parts


# A change is significant when it moves by more than `relative` and by more than `absolute`
# (in the signal's raw unit), so noise around zero is not called a regression.
_THRESHOLDS = {
    Signal.CPU: (0.3, 0.05),
    Signal.MEMORY: (0.2, 32 * MIB),
    Signal.MEMORY_PEAK: (0.2, 32 * MIB),
    Signal.ERROR_RATE: (0.5, 0.01),
    Signal.P95_LATENCY: (0.25, 0.02),
    Signal.RESTARTS: (0.0, 0.5),
}


def delta(signal: Signal, before: Stats | None, after: Stats | None) -> dict[str, Any]:
    """Before/after of one signal: values, change, and whether it got worse or better (for
    every signal here, higher is worse)."""
    out: dict[str, Any] = {"unit": UNITS[signal]}
    if before is None or after is None:
        out["change"] = "no data " + ("before" if before is None else "after")
        return out
    restarts = signal is Signal.RESTARTS
    b, a = (before.total, after.total) if restarts else (before.avg, after.avg)
    out["before"], out["after"] = (
        (round(b), round(a)) if signal is Signal.RESTARTS else (shown(signal, b), shown(signal, a))
    )
    if b:
        out["change_pct"] = rounded(100 * (a - b) / abs(b))
    relative, absolute = _THRESHOLDS[signal]
    moved = abs(a - b) > absolute and (b == 0 or abs(a - b) / abs(b) > relative)
    out["change"] = ("worse" if a > b else "better") if moved else "unchanged"
    return out


def verdict(deltas: dict[Signal, dict[str, Any]]) -> str:
    worse = [s.value for s, d in deltas.items() if d.get("change") == "worse"]
    better = [s.value for s, d in deltas.items() if d.get("change") == "better"]
    if worse:
        return "regression: " + ", ".join(worse) + " got worse"
    if better:
        return "improvement: " + ", ".join(better) + " got better"
    return "no significant change"
