"""Compare two runs: per-scenario and per-level changes, regressions flagged.

A regression is a scenario whose pass rate dropped, or one that passed in the baseline and is
missing or errored in the candidate; a level or category whose pass@1 dropped by more than
`tolerance` is flagged too (repeated runs of a non-deterministic model wobble a little).
"""

from __future__ import annotations

from typing import Any


def _rates(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["id"]: row for row in report["scenarios"]}


def compare(
    baseline: dict[str, Any], candidate: dict[str, Any], tolerance: float = 0.0
) -> dict[str, Any]:
    old, new = _rates(baseline), _rates(candidate)
    scenarios = []
    for sid in sorted(set(old) | set(new)):
        a, b = old.get(sid), new.get(sid)
        before = None if a is None else float(a["pass@1"])
        after = None if b is None else float(b["pass@1"])
        if b is None:
            change = "missing"
        elif a is None:
            change = "new"
        elif after is not None and before is not None and after < before:
            change = "regressed"
        elif after is not None and before is not None and after > before:
            change = "improved"
        else:
            change = "same"
        regression = change == "regressed" or (change == "missing" and bool(before))
        scenarios.append(
            {
                "id": sid,
                "before": before,
                "after": after,
                "change": change,
                "regression": regression,
            }
        )
    groups = []
    for kind in ("by_level", "by_category"):
        a_scores, b_scores = baseline["summary"][kind], candidate["summary"][kind]
        for name in sorted(set(a_scores) | set(b_scores)):
            before = a_scores.get(name, {}).get("pass@1")
            after = b_scores.get(name, {}).get("pass@1")
            dropped = before is not None and (after is None or after < before - tolerance)
            groups.append(
                {
                    "group": kind.removeprefix("by_"),
                    "name": name,
                    "before": before,
                    "after": after,
                    "regression": dropped,
                }
            )
    regressions = [s["id"] for s in scenarios if s["regression"]]
    return {
        "baseline": {"model": baseline["model"], "created_at": baseline["created_at"]},
        "candidate": {"model": candidate["model"], "created_at": candidate["created_at"]},
        "overall": {
            "before": baseline["summary"]["overall"].get("pass@1"),
            "after": candidate["summary"]["overall"].get("pass@1"),
        },
        "scenarios": scenarios,
        "groups": groups,
        "regressions": regressions,
        "group_regressions": [f"{g['group']} {g['name']}" for g in groups if g["regression"]],
    }


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def compare_text(result: dict[str, Any]) -> str:
    overall = result["overall"]
    lines = [
        f"overall pass@1: {_pct(overall['before'])} → {_pct(overall['after'])} "
        f"({result['baseline']['model']} → {result['candidate']['model']})"
    ]
    for g in result["groups"]:
        if g["before"] != g["after"]:
            flag = "  REGRESSION" if g["regression"] else ""
            lines.append(
                f"  {g['group']} {g['name']}: {_pct(g['before'])} → {_pct(g['after'])}{flag}"
            )
    for s in result["scenarios"]:
        if s["change"] != "same":
            flag = "  REGRESSION" if s["regression"] else ""
            lines.append(
                f"  {s['id']}: {s['change']} ({_pct(s['before'])} → {_pct(s['after'])}){flag}"
            )
    count = len(result["regressions"]) + len(result["group_regressions"])
    lines.append(f"{count} regression(s)" if count else "no regressions")
    return "\n".join(lines)
