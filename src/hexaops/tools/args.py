"""Arguments of tools: a strict base model and the pieces many tools share.

Unknown arguments are refused (a model that misspells `workspace` hears so, instead of
silently getting the whole organization).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Final

from pydantic import BaseModel, ConfigDict, Field

from hexaops.platform.errors import InvalidInput


class ToolArgs(BaseModel):
    """Base of every tool's input model."""

    model_config = ConfigDict(extra="forbid")


_DURATION: Final = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNIT_SECONDS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_WINDOW: Final = timedelta(days=31)


def parse_duration(text: str) -> timedelta:
    """'90s', '15m', '1h', '1.5h', '7d', '1w' as a timedelta; InvalidInput otherwise."""
    match = _DURATION.match(text)
    if not match:
        raise InvalidInput(f"invalid duration {text!r}: use e.g. 15m, 1h, 24h or 7d")
    return timedelta(seconds=float(match[1]) * _UNIT_SECONDS[match[2]])


def parse_time(text: str) -> datetime:
    """An ISO 8601 time; a time without a zone is UTC."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            f"invalid time {text!r}: use ISO 8601, e.g. 2026-11-30T03:00:00Z"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class Window(ToolArgs):
    """A time window: the last `since` before now, or explicit `start`/`end` (ISO 8601)."""

    since: str = Field(default="1h", description="How far back from now, e.g. 15m, 1h, 24h.")
    start: str | None = Field(default=None, description="Window start (ISO 8601); overrides since.")
    end: str | None = Field(default=None, description="Window end (ISO 8601); default now.")

    def resolve(self, now: datetime) -> tuple[datetime, datetime]:
        end = parse_time(self.end) if self.end else now
        start = parse_time(self.start) if self.start else end - parse_duration(self.since)
        if start >= end:
            raise InvalidInput("the window's start must be before its end")
        if end - start > MAX_WINDOW:
            raise InvalidInput("a window may span at most 31 days: narrow it")
        return start, end


class OrgArg(ToolArgs):
    org: str | None = Field(
        default=None, description="Organization slug; default: your only organization."
    )
