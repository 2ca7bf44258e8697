"""Scores of a run: pass@1, pass@k (the unbiased estimator), pass-all-k, per level and category.

With n attempts of a scenario of which c passed, pass@k = 1 - C(n-c, k) / C(n, k): the chance
that at least one of k attempts drawn from the n passes (Chen et al., 2021). pass-all-k is the
share of scenarios whose every attempt passed (consistency). Errored attempts count as failed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from math import comb
from typing import Any

from hexaops.evals.runner import ScenarioResult
from hexaops.evals.scenario import TASK_LEVELS


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from n attempts with c passes (k ≤ n)."""
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"need 0 ≤ c ≤ n and 1 ≤ k ≤ n (n={n}, c={c}, k={k})")
    if n - c < k:
        return 1.0
    return 1.0 - comb(n - c, k) / comb(n, k)


def _by_scenario(results: Sequence[ScenarioResult]) -> dict[str, list[ScenarioResult]]:
    grouped: dict[str, list[ScenarioResult]] = defaultdict(list)
    for r in results:
        grouped[r.id].append(r)
    return dict(sorted(grouped.items()))


def _score(groups: Sequence[list[ScenarioResult]]) -> dict[str, Any]:
    if not groups:
        return {"scenarios": 0}
    k = min(len(g) for g in groups)
    p1 = [pass_at_k(len(g), sum(r.passed for r in g), 1) for g in groups]
    pk = [pass_at_k(len(g), sum(r.passed for r in g), k) for g in groups]
    return {
        "scenarios": len(groups),
        "attempts": sum(len(g) for g in groups),
        "k": k,
        "pass@1": round(sum(p1) / len(groups), 4),
        f"pass@{k}": round(sum(pk) / len(groups), 4),
        "pass_all_k": round(sum(all(r.passed for r in g) for g in groups) / len(groups), 4),
        "errored": sum(r.status == "errored" for g in groups for r in g),
    }


def _grouped(
    scenarios: dict[str, list[ScenarioResult]], key: Callable[[ScenarioResult], str]
) -> dict[str, dict[str, Any]]:
    buckets: dict[str, list[list[ScenarioResult]]] = defaultdict(list)
    for group in scenarios.values():
        buckets[key(group[0])].append(group)
    return {name: _score(groups) for name, groups in sorted(buckets.items())}


def _mean(values: Sequence[float]) -> float:
    return round(sum(values) / len(values), 3) if values else 0.0


def summarize(results: Sequence[ScenarioResult]) -> dict[str, Any]:
    """The run's scores: overall, per level, per category, the task-level average, costs."""
    scenarios = _by_scenario(results)
    levels = _grouped(scenarios, lambda r: r.level)
    task = [levels[lv]["pass@1"] for lv in TASK_LEVELS if lv in levels]
    costs = [r.usage.cost_usd for r in results if r.usage.cost_usd is not None]
    return {
        "overall": _score(list(scenarios.values())),
        "by_level": levels,
        "by_category": _grouped(scenarios, lambda r: r.category),
        "task_level_average": round(sum(task) / len(task), 4) if task else None,
        "per_attempt": {
            "mean_latency_ms": _mean([r.latency_ms for r in results]),
            "mean_total_ms": _mean([r.total_ms for r in results]),
            "mean_steps": _mean([float(r.steps) for r in results]),
            "mean_tokens": _mean(
                [float(r.usage.input_tokens + r.usage.output_tokens) for r in results]
            ),
            "total_cost_usd": round(sum(costs), 6) if costs else None,
        },
    }


def scenario_rows(results: Sequence[ScenarioResult]) -> list[dict[str, Any]]:
    """One row per scenario: attempts, passes, pass@1 and means (the reports' table)."""
    rows = []
    for sid, group in _by_scenario(results).items():
        first = group[0]
        passes = sum(r.passed for r in group)
        rows.append(
            {
                "id": sid,
                "level": first.level,
                "category": first.category,
                "difficulty": first.difficulty,
                "attempts": len(group),
                "passes": passes,
                "errored": sum(r.status == "errored" for r in group),
                "pass@1": round(passes / len(group), 4),
                "tokens": round(
                    sum(r.usage.input_tokens + r.usage.output_tokens for r in group) / len(group)
                ),
                "cost_usd": _cost(group),
                "latency_ms": _mean([r.latency_ms for r in group]),
                "steps": _mean([float(r.steps) for r in group]),
            }
        )
    return rows


def _cost(group: Sequence[ScenarioResult]) -> float | None:
    costs = [r.usage.cost_usd for r in group if r.usage.cost_usd is not None]
    return round(sum(costs) / len(costs), 6) if costs else None
