"""Token budgets: how big a tool result may be when it enters a model's prompt.

Counting uses an estimate, not a model's tokenizer (each provider has its own, and the offline
planner has none): one token per 3.5 characters of compact JSON, which over-counts English
prose and JSON for the tokenizers of the supported providers — so a result within budget by
this count is within budget for the model too.
"""

from __future__ import annotations

import json
import math
from typing import Any, Final

CHARS_PER_TOKEN: Final = 3.5
DEFAULT_BUDGET: Final = 2000


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def _longest_list(value: Any) -> list[Any] | None:
    """The list with the largest JSON size anywhere in `value` (tools put the most relevant
    items first, so shortening a list from its end drops the least relevant)."""
    best: list[Any] | None = None
    best_size = 0

    def visit(node: Any) -> None:
        nonlocal best, best_size
        if isinstance(node, list):
            if len(node) > 1:
                size = len(compact_json(node))
                if size > best_size:
                    best, best_size = node, size
            for item in node:
                visit(item)
        elif isinstance(node, dict):
            for item in node.values():
                visit(item)

    visit(value)
    return best


def _longest_string(value: Any) -> tuple[Any, Any] | None:
    """(container, key) of the longest string in `value`, to cut it when no list is left."""
    best: tuple[Any, Any] | None = None
    best_len = 0

    def visit(node: Any) -> None:
        nonlocal best, best_len
        items = (
            node.items()
            if isinstance(node, dict)
            else enumerate(node)
            if isinstance(node, list)
            else ()
        )
        for key, item in items:
            if isinstance(item, str) and len(item) > best_len:
                best, best_len = (node, key), len(item)
            else:
                visit(item)

    visit(value)
    return best


def shrink_to_budget(data: Any, budget: int, overhead: int = 0) -> tuple[Any, bool]:
    """`data` (JSON-able, copied) shortened until its estimated size plus `overhead` tokens fits
    `budget`: the longest lists lose items from their end, then the longest strings are cut.
    Returns the data and whether anything was dropped."""
    data = json.loads(compact_json(data))
    truncated = False
    while estimate_tokens(compact_json(data)) + overhead > budget:
        victim = _longest_list(data)
        if victim is not None:
            del victim[max(1, len(victim) * 2 // 3) :]
            truncated = True
            continue
        cut = _longest_string(data)
        if cut is None:
            return None, True
        container, key = cut
        text: str = container[key]
        if len(text) <= 64:
            return None, True
        container[key] = text[: len(text) // 2] + "…"
        truncated = True
    return data, truncated
