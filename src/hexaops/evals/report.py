"""Run reports: the stable JSON result, and a self-contained HTML page (inline SVG, no CDN).

The JSON keys are sorted and results ordered by scenario id and attempt, so two runs of the
same suite diff cleanly; `hexaops eval compare` reads it back.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from hexaops.evals.runner import ScenarioResult
from hexaops.evals.scoring import scenario_rows, summarize

FORMAT: Final = "hexaops-eval/1"


def build_report(
    results: Sequence[ScenarioResult],
    *,
    suites: Sequence[str],
    model: str,
    repeat: int,
    workers: int,
    duration_s: float,
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "suites": list(suites),
        "model": model,
        "repeat": repeat,
        "workers": workers,
        "duration_s": round(duration_s, 1),
        "summary": summarize(results),
        "scenarios": scenario_rows(results),
        "results": [r.model_dump(mode="json") for r in results],
    }


def report_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_reports(report: dict[str, Any], folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    json_path, html_path = folder / "results.json", folder / "report.html"
    json_path.write_text(report_json(report), encoding="utf-8")
    html_path.write_text(report_html(report), encoding="utf-8")
    return json_path, html_path


# -- HTML --------------------------------------------------------------------------------

_CSS: Final = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1d2330;max-width:1200px}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #e3e6ec;padding:4px 6px;
text-align:left;vertical-align:top}th{background:#f4f6f9}.pass{color:#16794c}.fail{color:#b3261e}
.err{color:#a05a00}pre{white-space:pre-wrap;background:#f7f8fa;padding:8px;font-size:12px}
.charts{display:flex;flex-wrap:wrap;gap:24px}.kpi{display:inline-block;margin-right:24px}
.kpi b{display:block;font-size:1.4rem}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _bars(title: str, scores: dict[str, dict[str, Any]]) -> str:
    """Horizontal bars of pass@1 per group, with the scenario counts."""
    rows = list(scores.items())
    height, width, label, value = 22 * len(rows) + 30, 520, 150, 90
    parts = [
        f'<svg role="img" aria-label="{_e(title)}" width="{width}" height="{height}">',
        f'<text x="0" y="14" font-weight="bold">{_e(title)}</text>',
    ]
    for i, (name, score) in enumerate(rows):
        y = 24 + 22 * i
        rate = float(score.get("pass@1", 0.0))
        length = (width - label - value) * rate
        color = "#16794c" if rate >= 0.8 else "#c77700" if rate >= 0.5 else "#b3261e"
        parts += [
            f'<text x="0" y="{y + 13}">{_e(name)}</text>',
            f'<rect x="{label}" y="{y}" width="{width - label - value}" height="16" fill="#eef0f4"/>',
            f'<rect x="{label}" y="{y}" width="{length:.1f}" height="16" fill="{color}"/>',
            f'<text x="{width - value + 6}" y="{y + 13}">{rate:.0%} ({score.get("scenarios", 0)})</text>',
        ]
    return "".join(parts) + "</svg>"


def _scatter(rows: Sequence[dict[str, Any]]) -> str:
    """Cost (USD when priced, else tokens) vs pass rate, one dot per scenario."""
    priced = any(r["cost_usd"] for r in rows)
    xs = [float(r["cost_usd"] or 0.0) if priced else float(r["tokens"]) for r in rows]
    top = max(xs, default=0.0) or 1.0
    width, height, pad = 460, 260, 40
    unit = "cost per attempt (USD)" if priced else "tokens per attempt (no price: offline)"
    parts = [
        f'<svg role="img" aria-label="cost vs pass rate" width="{width}" height="{height}">',
        '<text x="0" y="14" font-weight="bold">Cost vs pass rate</text>',
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - 10}" y2="{height - pad}" stroke="#999"/>',
        f'<line x1="{pad}" y1="30" x2="{pad}" y2="{height - pad}" stroke="#999"/>',
        f'<text x="{pad}" y="{height - 8}">{_e(unit)} → max {top:,.4g}</text>',
        f'<text x="2" y="36">100%</text><text x="2" y="{height - pad}">0%</text>',
    ]
    for row, x in zip(rows, xs, strict=True):
        cx = pad + (width - pad - 20) * x / top
        cy = (height - pad) - (height - pad - 30) * float(row["pass@1"])
        parts.append(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4" fill="#3a5bd9" fill-opacity="0.6">'
            f"<title>{_e(row['id'])}: {row['pass@1']:.0%}, {x:.4g}</title></circle>"
        )
    return "".join(parts) + "</svg>"


def _status(result: dict[str, Any]) -> str:
    css = {"passed": "pass", "failed": "fail"}.get(result["status"], "err")
    return f'<span class="{css}">{_e(result["status"])}</span>'


def _details(result: dict[str, Any]) -> str:
    from hexaops.evals.transcript import Transcript

    transcript = Transcript.model_validate(result["transcript"])
    checks = "".join(
        f'<li class="{"pass" if c["passed"] else "fail"}">{_e(c["aspect"])}: {_e(c["name"])} — '
        f"{_e(c['detail'])}</li>"
        for c in result["checks"]
    )
    tools = "".join(
        f"<tr><td>{_e(c.tool)}</td><td><code>{_e(json.dumps(c.args, sort_keys=True))}</code></td>"
        f"<td>{_e(c.status)}</td><td>{_e(c.summary[:300])}</td></tr>"
        for c in transcript.tool_calls
    )
    error = f'<p class="err">{_e(result["error"])}</p>' if result.get("error") else ""
    return (
        f"<details><summary>{_e(result['id'])} #{result['attempt']}</summary>{error}"
        f"<ul>{checks}</ul><table><tr><th>tool</th><th>args</th><th>status</th><th>summary</th>"
        f"</tr>{tools}</table><pre>{_e(transcript.text())}</pre>"
        f"<p>truth: <code>{_e(json.dumps(result.get('truth', []), sort_keys=True))}</code></p>"
        "</details>"
    )


def report_html(report: dict[str, Any]) -> str:
    summary, rows = report["summary"], report["scenarios"]
    overall = summary["overall"]
    avg = summary.get("task_level_average")
    kpis = [
        ("scenarios", overall.get("scenarios", 0)),
        ("pass@1", f"{overall.get('pass@1', 0):.0%}"),
        ("pass-all-k", f"{overall.get('pass_all_k', 0):.0%}"),
        ("task-level average", "n/a" if avg is None else f"{avg:.0%}"),
        ("errored attempts", overall.get("errored", 0)),
    ]
    table = "".join(
        f"<tr><td>{_e(r['id'])}</td><td>{_e(r['level'])}</td><td>{_e(r['category'])}</td>"
        f"<td>{r['passes']}/{r['attempts']}</td><td>{r['tokens']}</td>"
        f"<td>{'' if r['cost_usd'] is None else r['cost_usd']}</td><td>{r['latency_ms']}</td>"
        f"<td>{r['steps']}</td></tr>"
        for r in rows
    )
    details = "".join(f"<div>{_status(r)} {_details(r)}</div>" for r in report["results"])
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>hexaops eval — "
        f"{_e(', '.join(report['suites']))}</title><style>{_CSS}</style></head><body>"
        f"<h1>hexaops evaluation: {_e(', '.join(report['suites']))}</h1>"
        f"<p>model <b>{_e(report['model'])}</b>, repeat {report['repeat']}, "
        f"{report['workers']} worker(s), {report['duration_s']} s, {_e(report['created_at'])}</p>"
        + "".join(f'<span class="kpi"><b>{_e(v)}</b>{_e(k)}</span>' for k, v in kpis)
        + "<h2>Scores</h2><div class='charts'>"
        + _bars("pass rate by level", summary["by_level"])
        + _bars("pass rate by category", summary["by_category"])
        + _scatter(rows)
        + "</div><h2>Scenarios</h2><table><tr><th>id</th><th>level</th><th>category</th>"
        "<th>passed</th><th>tokens</th><th>cost USD</th><th>latency ms</th><th>steps</th></tr>"
        f"{table}</table><h2>Transcripts</h2>{details}</body></html>\n"
    )


def load_report(path: Path) -> dict[str, Any]:
    """A result file written by `hexaops eval run --json/--report`, checked for its format."""
    from hexaops.platform.errors import InvalidInput

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{path}:{exc.lineno}: not JSON: {exc.msg}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InvalidInput(f"{path}: not a hexaops eval result (format {FORMAT})")
    return data
