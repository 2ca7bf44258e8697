"""Log templates: a Drain-style miner that groups log messages by their constant parts.

Variables are masked first with the store's mask (`LOG_MASK_PATTERN`: quoted strings, UUIDs,
IPs, hex ids, numbers with units, tokens with digits), the same one ClickHouse hashes into
`logs.template_id`. Messages that still differ (a word, a name) are then clustered: a prefix
tree keyed by token count and the first tokens leads to a few candidate templates, the most
similar one (share of equal tokens ≥ `similarity`) absorbs the message and its differing
tokens become `<*>`; otherwise the message starts a new template.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from hexaops.platform.telemetry.clickhouse import LOG_MASK_PATTERN, LOG_MASK_TOKEN

WILDCARD: Final = LOG_MASK_TOKEN
SEVERITY: Final = {
    "TRACE": 0,
    "DEBUG": 1,
    "INFO": 2,
    "NOTICE": 2,
    "WARN": 3,
    "WARNING": 3,
    "ERROR": 4,
    "CRITICAL": 5,
    "FATAL": 5,
    "PANIC": 5,
}
ERROR_SEVERITY: Final = SEVERITY["ERROR"]
MAX_EXAMPLES: Final = 3
MAX_WORKSPACES: Final = 10

_MASK: Final = re.compile(LOG_MASK_PATTERN)


def mask(message: str) -> str:
    """`message` with its variable parts replaced by `<*>`."""
    return _MASK.sub(WILDCARD, message)


def severity(level: str) -> int:
    """A level's rank (unknown levels rank as INFO)."""
    return SEVERITY.get(level.upper(), SEVERITY["INFO"])


@dataclass
class Template:
    """One log template and what was seen of it."""

    id: int
    tokens: list[str]
    count: int = 0
    levels: dict[str, int] = field(default_factory=dict)
    first: datetime | None = None
    last: datetime | None = None
    examples: list[str] = field(default_factory=list)
    workspaces: set[str] = field(default_factory=set)  # where it occurs (the first few)

    @property
    def text(self) -> str:
        return " ".join(self.tokens)

    @property
    def severity(self) -> int:
        return max((severity(level) for level in self.levels), default=0)

    def observe(
        self,
        level: str,
        first: datetime,
        last: datetime,
        count: int,
        examples: Sequence[str],
        workspaces: Sequence[str] = (),
    ) -> None:
        self.count += count
        if len(self.workspaces) < MAX_WORKSPACES:
            self.workspaces.update(workspaces)
        self.levels[level] = self.levels.get(level, 0) + count
        if self.first is None or first < self.first:
            self.first = first
        if self.last is None or last > self.last:
            self.last = last
        if len(self.examples) < MAX_EXAMPLES:
            for example in examples:
                if example not in self.examples and len(self.examples) < MAX_EXAMPLES:
                    self.examples.append(example)


@dataclass
class _Node:
    children: dict[str, _Node] = field(default_factory=dict)
    templates: list[Template] = field(default_factory=list)


class TemplateMiner:
    """Groups messages into templates as they come (one pass, bounded memory per template).

    `depth` is how many leading tokens route a message in the tree, `similarity` the share of
    equal tokens a message needs to join a template, `max_children` bounds a node's fan-out
    (further tokens share the `<*>` branch, so a variable first word cannot blow up the tree).
    Routing by the first token only is deliberate: words masking misses (user names, verbs
    like hit/miss) mostly come later, and a deeper route would keep their lines apart; the
    exact-text cache keeps the per-leaf similarity scans rare.
    """

    def __init__(self, depth: int = 1, similarity: float = 0.5, max_children: int = 100) -> None:
        self.depth, self.similarity, self.max_children = depth, similarity, max_children
        self.templates: list[Template] = []
        self._root = _Node()
        self._by_masked: dict[str, Template] = {}  # exact masked text → its template

    def add(
        self,
        message: str,
        level: str,
        first: datetime,
        last: datetime | None = None,
        count: int = 1,
        examples: Sequence[str] | None = None,
        workspaces: Sequence[str] = (),
    ) -> Template:
        """Count `count` occurrences of `message` (already grouped ones: between `first` and
        `last`, with `examples`) and return its template."""
        masked = mask(message)
        template = self._by_masked.get(masked)
        if template is None:
            template = self._place(masked.split())
            self._by_masked[masked] = template
        template.observe(
            level,
            first,
            last or first,
            count,
            (message,) if examples is None else examples,
            workspaces,
        )
        return template

    def _place(self, tokens: list[str]) -> Template:
        node = self._root.children.setdefault(str(len(tokens)), _Node())
        for token in tokens[: self.depth]:
            key = WILDCARD if WILDCARD in token else token
            child = node.children.get(key)
            if child is None:
                if len(node.children) >= self.max_children:
                    key = WILDCARD
                child = node.children.setdefault(key, _Node())
            node = child
        best, best_score = None, -1.0
        for candidate in node.templates:
            score = _similarity(candidate.tokens, tokens)
            if score > best_score:
                best, best_score = candidate, score
        if best is not None and best_score >= self.similarity:
            best.tokens = [
                a if a == b else WILDCARD for a, b in zip(best.tokens, tokens, strict=True)
            ]
            return best
        template = Template(len(self.templates), tokens)
        self.templates.append(template)
        node.templates.append(template)
        return template


def _similarity(template: Sequence[str], tokens: Sequence[str]) -> float:
    if not tokens:
        return 1.0
    same = sum(1 for a, b in zip(template, tokens, strict=True) if a in (b, WILDCARD))
    return same / len(tokens)


def ranked(templates: Iterable[Template]) -> list[Template]:
    """Most telling first: errors before the rest (by severity), then the rarer, then the
    newer — a single FATAL outranks a million INFO lines."""
    return sorted(
        templates,
        key=lambda t: (
            -t.severity,
            t.count,
            -(t.first.timestamp() if t.first else 0.0),
        ),
    )
