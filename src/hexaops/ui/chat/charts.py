"""Metric charts for the chat: the metrics tools' series drawn as small SVG line charts.

Chainlit's Plotly and Pyplot elements need plotly or matplotlib (not installed); an SVG is a
real plot every browser renders, shown with `cl.Image`. Gaps (steps without data) break the line.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from html import escape
from typing import Any

WIDTH, HEIGHT = 560, 180
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 28, 26
UNITS = {  # series name of metrics_workload → (title, unit)
    "cpu": ("CPU", "cores"),
    "memory": ("Memory working set", "MiB"),
    "memory_peak": ("Largest pod's memory", "MiB"),
    "restarts": ("Container restarts", "per step"),
    "error_rate": ("HTTP 5xx error rate", "%"),
    "p95_latency": ("p95 latency", "ms"),
}


def metric_charts(result: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, SVG) for each series of a metrics_workload or ranged metrics_promql result."""
    data = result.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("series"), dict | list):
        return []
    start = _time(data.get("start") or data.get("first"))
    step = data.get("step_seconds")
    if start is None or not isinstance(step, int | float) or step <= 0:
        return []
    scope = str(data.get("scope", ""))
    charts = []
    for name, values in _series(data["series"]):
        title, unit = UNITS.get(name, (name, ""))
        caption = f"{title} — {scope}" if scope else title
        charts.append((f"{name}.svg", line_chart(caption, unit, values, start, float(step))))
    return charts


def _series(series: dict[str, Any] | list[Any]) -> list[tuple[str, list[float | None]]]:
    if isinstance(series, dict):
        return [(str(k), _numbers(v)) for k, v in series.items() if isinstance(v, list)]
    out = []
    for row in series[:4]:  # promql: the largest few
        if isinstance(row, dict) and isinstance(row.get("values"), list):
            labels = row.get("labels") or {}
            name = ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or "series"
            out.append((name, _numbers(row["values"])))
    return out


def _numbers(values: list[Any]) -> list[float | None]:
    return [float(v) if isinstance(v, int | float) else None for v in values]


def _time(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def line_chart(
    title: str, unit: str, values: list[float | None], start: datetime, step_seconds: float
) -> str:
    """An SVG line chart: y from 0 (or the minimum, if negative) to the maximum, the first
    and last step's time on the x axis."""
    known = [v for v in values if v is not None]
    top = max(known, default=1.0) or 1.0
    bottom = min(0.0, min(known, default=0.0))
    span = (top - bottom) or 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = max(len(values) - 1, 1)

    def xy(k: int, v: float) -> str:
        return f"{LEFT + plot_w * k / n:.1f},{TOP + plot_h * (1 - (v - bottom) / span):.1f}"

    paths: list[list[str]] = []
    run: list[str] = []
    for k, v in enumerate(values):
        if v is None:
            if run:
                paths.append(run)
            run = []
        else:
            run.append(xy(k, v))
    if run:
        paths.append(run)
    end = start + timedelta(seconds=step_seconds * max(len(values) - 1, 0))
    lines = "".join(
        f'<polyline fill="none" stroke="#2563eb" stroke-width="2" points="{" ".join(p)}"/>'
        if len(p) > 1
        else f'<circle r="2.5" fill="#2563eb" cx="{p[0].split(",")[0]}" cy="{p[0].split(",")[1]}"/>'
        for p in paths
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="11">'
        f'<rect width="100%" height="100%" fill="#ffffff"/>'
        f'<text x="{LEFT}" y="16" font-size="13" font-weight="bold">{escape(title)}</text>'
        f'<text x="{WIDTH - RIGHT}" y="16" text-anchor="end" fill="#555">{escape(unit)}</text>'
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" '
        'stroke="#999"/>'
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#999"/>'
        f'<text x="{LEFT - 4}" y="{TOP + 4}" text-anchor="end">{_fmt(top)}</text>'
        f'<text x="{LEFT - 4}" y="{TOP + plot_h}" text-anchor="end">{_fmt(bottom)}</text>'
        f'<text x="{LEFT}" y="{HEIGHT - 8}">{start:%H:%M}</text>'
        f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 8}" text-anchor="end">{end:%H:%M} UTC</text>'
        f"{lines}"
        + ("" if known else f'<text x="{LEFT + 8}" y="{TOP + plot_h / 2}">no data</text>')
        + "</svg>"
    )


def _fmt(value: float) -> str:
    return f"{value:.3g}"
