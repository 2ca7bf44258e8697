"""The pre-aggregated view of many log lines: templates, counts, and the first error in context.

A million lines do not fit a prompt, and most of them say the same few things. The summary keeps
what an SRE reads first: the templates ranked errors-first then rarest (counts per level,
first/last time, a few examples) and the lines around the first error — trimmed to a token
budget, least telling templates first.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from hexaops.platform.telemetry.records import LogRecord
from hexaops.tools.budget import compact_json, estimate_tokens
from hexaops.tools.logs.templates import (
    ERROR_SEVERITY,
    Template,
    TemplateMiner,
    ranked,
    severity,
)

CONTEXT_LINES: Final = 5
MAX_LINE_CHARS: Final = 300


@dataclass
class FirstError:
    """The first line at ERROR or above, with the lines just before and after it."""

    line: LogRecord
    before: list[LogRecord] = field(default_factory=list)
    after: list[LogRecord] = field(default_factory=list)


@dataclass
class MinedLogs:
    miner: TemplateMiner = field(default_factory=TemplateMiner)
    lines: int = 0
    levels: dict[str, int] = field(default_factory=dict)
    first_error: FirstError | None = None
    sampled: bool = False  # only part of the window's lines were read (a backend's cap)


def mine(lines: Iterable[LogRecord], context: int = CONTEXT_LINES) -> MinedLogs:
    """One pass over `lines` (in time order): templates, level counts and the first error."""
    mined = MinedLogs()
    recent: deque[LogRecord] = deque(maxlen=context)
    add, levels = mined.miner.add, mined.levels
    for record in lines:
        add(record.message, record.level, record.ts, workspaces=(record.workspace,))
        levels[record.level] = levels.get(record.level, 0) + 1
        mined.lines += 1
        first = mined.first_error
        if first is None:
            if severity(record.level) >= ERROR_SEVERITY:
                mined.first_error = FirstError(record, list(recent))
            else:
                recent.append(record)
        elif len(first.after) < context:
            first.after.append(record)
    return mined


def _time(ts: datetime | None) -> str:
    return "" if ts is None else ts.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _clip(text: str) -> str:
    return text if len(text) <= MAX_LINE_CHARS else text[:MAX_LINE_CHARS] + "…"


def render_line(record: LogRecord) -> str:
    """One line as a person reads it: time, level, where, message."""
    where = "/".join(p for p in (record.workspace, record.namespace, record.pod) if p)
    return _clip(f"{_time(record.ts)} {record.level} {where}: {record.message}")


def _template_entry(t: Template, examples: int) -> dict[str, Any]:
    return {
        "template": _clip(t.text),
        "count": t.count,
        "levels": dict(sorted(t.levels.items(), key=lambda kv: -severity(kv[0]))),
        "first": _time(t.first),
        "last": _time(t.last),
        "examples": [_clip(e) for e in t.examples[:examples]],
    }


def summarize(
    templates: Iterable[Template],
    *,
    lines: int,
    levels: dict[str, int],
    first_error: FirstError | None,
    budget_tokens: int,
) -> dict[str, Any]:
    """The summary as JSON-able data of at most `budget_tokens` estimated tokens."""
    order = ranked(templates)
    error_lines = sum(n for level, n in levels.items() if severity(level) >= ERROR_SEVERITY)
    shown, examples, context = len(order), 3, CONTEXT_LINES

    def build() -> dict[str, Any]:
        data: dict[str, Any] = {
            "lines": lines,
            "error_lines": error_lines,
            "levels": dict(sorted(levels.items(), key=lambda kv: -severity(kv[0]))),
            "templates_total": len(order),
            "templates": [
                # the top ones keep all their examples; the rest one each
                _template_entry(t, examples if i < 5 else min(examples, 1))
                for i, t in enumerate(order[:shown])
            ],
        }
        if first_error is not None:
            data["first_error"] = {
                "line": render_line(first_error.line),
                "before": [render_line(r) for r in first_error.before[-context:]],
                "after": [render_line(r) for r in first_error.after[:context]],
            }
        return data

    data = build()
    while estimate_tokens(compact_json(data)) > budget_tokens:
        if shown > 5:
            shown = max(5, shown * 3 // 4)
        elif examples > 1:
            examples -= 1
        elif context > 1:
            context -= 2
        elif shown > 1:
            shown -= 1
        else:
            break  # one template and the first error: as small as a summary gets
        data = build()
    return data


def headline(data: dict[str, Any], scope: str) -> str:
    """A one-sentence reading of a summary."""
    text = (
        f"{data['lines']} log lines in {scope}: {data['templates_total']} templates, "
        f"{data['error_lines']} lines at ERROR or above"
    )
    first = data.get("first_error")
    if first:
        text += f"; first error: {first['line']}"
    return text
