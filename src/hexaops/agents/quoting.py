"""How tool results enter a model's prompt: as quoted data, never as instructions.

A result is rendered as one JSON document inside a `<tool-result>` element whose attributes say
which tool produced it. Instructions that appear inside (a log line saying "ignore previous
instructions", an event message, a document) stay inside the quotes: the system prompt tells the
model that everything in a tool-result is data, and the offline planner reads only the JSON.
Closing tags inside the data are escaped so data cannot end the quote early.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

from hexaops.tools.contract import ToolResult

_OPEN: Final = re.compile(r'^<tool-result tool="([a-z0-9_]+)" status="(ok|empty|error)">\n')
_CLOSE: Final = "\n</tool-result>"


def quote_tool_result(result: ToolResult) -> str:
    """The result as the model sees it (a ToolMessage's content)."""
    body = json.dumps(
        result.model_dump(mode="json", exclude={"tool", "elapsed_ms"}),
        ensure_ascii=False,
        separators=(",", ":"),
    )
    # "</" cannot end the element from inside the data; JSON readers see the same string.
    body = body.replace("</", "<\\/")
    return f'<tool-result tool="{result.tool}" status="{result.status}">\n{body}{_CLOSE}'


def unquote_tool_result(content: str) -> dict[str, Any] | None:
    """The result's fields (status, summary, data, evidence, …) and `tool`, or None when
    `content` is not a quoted tool result."""
    match = _OPEN.match(content)
    if not match or not content.endswith(_CLOSE):
        return None
    try:
        fields = json.loads(content[match.end() : -len(_CLOSE)])
    except json.JSONDecodeError:
        return None
    if not isinstance(fields, dict):
        return None
    return {"tool": match[1], **fields}
