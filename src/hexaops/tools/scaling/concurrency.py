"""Function scaling: concurrency per instance and the instance cap, from the function series.

The platform runs as many instances as the in-flight requests need (in-flight / concurrency),
up to `max_instances`; beyond the cap, invocations get 429. So at each step the instances the
load *needed* are the instances that ran divided by the share of invocations served.

Rules: max instances ≥ 1.25 × the peak needed (between 1 and 100, the platform's bounds); when
that would pass 100, the concurrency per instance rises instead, in proportion. Cold starts above
10 % of invocations are flagged (the function scales to zero between requests).

What-if: the needed instances scale with old / new concurrency, are capped at the new max, and
the share beyond is rejected; instance-hours are priced by the function's memory (`PRICES`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from hexaops.platform.names import parse_memory
from hexaops.platform.views import FunctionView
from hexaops.tools.scaling.replay import PRICES
from hexaops.tools.scaling.rightsizing import GIB, Recommendation, percentiles
from hexaops.tools.scaling.usage import STEP_SECONDS, Grid

MAX_HEADROOM: Final = 1.25
MAX_INSTANCES_CAP: Final = 100
COLD_START_FLAG: Final = 0.10
DEFAULT_CONCURRENCY: Final = 10  # what the platform runs a function with before a policy is set
DEFAULT_MAX_INSTANCES: Final = 10


@dataclass(frozen=True)
class FunctionSettings:
    concurrency: int
    max_instances: int
    memory_bytes: int

    @classmethod
    def of(cls, fn: FunctionView) -> FunctionSettings:
        scaling = fn.scaling or {}
        return cls(
            int(scaling.get("concurrency") or DEFAULT_CONCURRENCY),
            int(scaling.get("max_instances") or DEFAULT_MAX_INSTANCES),
            parse_memory(fn.memory),
        )

    def describe(self) -> dict[str, Any]:
        return {"concurrency": self.concurrency, "max_instances": self.max_instances}


@dataclass
class FunctionUsage:
    invocations: NDArray[np.float64]  # per step
    rejected: NDArray[np.float64]  # 429s per step
    cold_starts: NDArray[np.float64]
    instances: NDArray[np.float64]
    needed: NDArray[np.float64]  # instances the load needed at the current concurrency

    @property
    def empty(self) -> bool:
        return self.invocations.size == 0


def function_usage(grid: Grid) -> FunctionUsage:
    ok = np.nan_to_num(grid.increase("function_invocations_total:200"))[0]
    rejected = np.nan_to_num(grid.increase("function_invocations_total:429"))[0]
    cold = np.nan_to_num(grid.increase("function_cold_starts_total"))[0]
    instances = grid.get("function_instances")[0]
    keep = np.isfinite(instances)
    keep[:1] = False  # the first step has no increase
    ok, rejected, cold, instances = ok[keep], rejected[keep], cold[keep], instances[keep]
    invocations = ok + rejected
    served = np.where(invocations > 0, ok / np.maximum(invocations, 1e-12), 1.0)
    needed = np.where(served > 0, instances / np.maximum(served, 1e-12), instances)
    return FunctionUsage(invocations, rejected, cold, instances, np.ceil(needed - 1e-9))


FunctionRecommendation = Recommendation[FunctionSettings]


def recommend_function(u: FunctionUsage, current: FunctionSettings) -> FunctionRecommendation:
    total = float(u.invocations.sum())
    rejected, cold = float(u.rejected.sum()), float(u.cold_starts.sum())
    rec = FunctionRecommendation(current, current)
    rec.usage = {
        "window_minutes": round(u.invocations.size * STEP_SECONDS / 60, 1),
        "invocations": int(total),
        "invocations_per_second": percentiles(u.invocations / STEP_SECONDS),
        "instances": percentiles(u.instances),
        "instances_needed": percentiles(u.needed),
        "rejected_429_share": round(rejected / total, 4) if total else 0.0,
        "cold_start_share": round(cold / total, 4) if total else 0.0,
    }
    peak = float(u.needed.max(initial=0.0))
    want = max(1, math.ceil(peak * MAX_HEADROOM))
    concurrency = current.concurrency
    if want > MAX_INSTANCES_CAP:
        concurrency = math.ceil(current.concurrency * want / MAX_INSTANCES_CAP)
        want = min(MAX_INSTANCES_CAP, math.ceil(peak * current.concurrency / concurrency))
        want = min(MAX_INSTANCES_CAP, math.ceil(want * MAX_HEADROOM))
        rec.rationale.append(
            f"the peak needs more than {MAX_INSTANCES_CAP} instances at concurrency "
            f"{current.concurrency}: concurrency {concurrency} per instance instead"
        )
    rec.rationale.append(
        f"the load needed up to {peak:.0f} instance(s) at concurrency {current.concurrency}: "
        f"max instances {want} (≥ {MAX_HEADROOM}× the peak)"
    )
    if rejected:
        rec.flags.append(
            f"{rejected / total:.1%} of invocations were rejected (429) at the cap of "
            f"{current.max_instances} instance(s)"
        )
    if total and cold / total > COLD_START_FLAG:
        rec.flags.append(
            f"{cold / total:.0%} of invocations started a cold instance: the function scales "
            "to zero between requests"
        )
    rec.proposed = FunctionSettings(concurrency, want, current.memory_bytes)
    return rec


def replay_function(
    u: FunctionUsage, recorded: FunctionSettings, settings: FunctionSettings
) -> dict[str, Any]:
    needed = np.ceil(u.needed * recorded.concurrency / settings.concurrency - 1e-9)
    instances = np.minimum(needed, settings.max_instances)
    served = np.where(needed > 0, instances / np.maximum(needed, 1.0), 1.0)
    rejected = float((u.invocations * (1 - served)).sum())
    total = float(u.invocations.sum())
    hours = float(instances.sum()) * STEP_SECONDS / 3600
    cost = hours * settings.memory_bytes / GIB * PRICES["memory_gib_hour_usd"]
    days = max(u.invocations.size * STEP_SECONDS / 86400, 1e-9)
    return {
        "settings": settings.describe(),
        "rejected_429": round(rejected),
        "rejected_429_share": round(rejected / total, 4) if total else 0.0,
        "instance_hours": round(hours, 3),
        "instances": {
            "max": float(instances.max(initial=0.0)),
            "mean": round(float(instances.mean()), 2) if instances.size else 0.0,
        },
        "cost_usd": round(cost, 6),
        "cost_per_day_usd": round(cost / days, 6),
    }
