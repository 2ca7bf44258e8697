"""Tenant scoping of raw LogQL: every stream selector `{...}` gets the principal's matchers.

A query the model writes could name another organization's streams, or none at all. This
rewriter finds each stream selector (outside strings and backtick strings, so pipelines like
`| line_format "{{.pod}}"` stay untouched), parses its matchers, refuses a matcher on another
organization or an invisible workspace, and puts `org="<org>"` and the workspace matcher first.
What it cannot parse it refuses — a query it does not understand is not run.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from hexaops.platform.errors import InvalidInput, NotFound

_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPS: Final = ("=~", "!~", "!=", "=")


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str
    value: str  # decoded

    def render(self) -> str:
        return f"{self.name}{self.op}{quote(self.value)}"


def quote(value: str) -> str:
    """A LogQL double-quoted string (Go escaping)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


_RE2_SPECIAL: Final = re.compile(r"([.^$*+?()\[\]{}|\\])")


def regex_escape(text: str) -> str:
    """`text` as a literal in an RE2 pattern (only metacharacters escaped: `acme-prod` stays
    readable, unlike Python's re.escape)."""
    return _RE2_SPECIAL.sub(r"\\\1", text)


def regex_alternation(values: Sequence[str]) -> str:
    """An RE2 pattern matching exactly one of `values`."""
    return "|".join(regex_escape(v) for v in values)


def _fail(query: str, pos: int, what: str) -> InvalidInput:
    return InvalidInput(
        f"cannot parse the LogQL query at character {pos + 1} ({what}): "
        f"{query[max(0, pos - 20) : pos + 20]!r}; write stream selectors as "
        '{label="value", ...} with double-quoted or backtick values'
    )


def _string_end(query: str, start: int) -> int:
    """The index after the string starting at `start` (a `"` or a backtick)."""
    quote_char, i = query[start], start + 1
    while i < len(query):
        c = query[i]
        if quote_char == '"' and c == "\\":
            i += 2
            continue
        if c == quote_char:
            return i + 1
        i += 1
    raise _fail(query, start, "unterminated string")


def _decode(literal: str) -> str:
    if literal[0] == "`":
        return literal[1:-1]
    return re.sub(r"\\(.)", r"\1", literal[1:-1])


def _skip_space(query: str, i: int) -> int:
    while i < len(query) and query[i].isspace():
        i += 1
    return i


def _selector(query: str, start: int) -> tuple[list[Matcher], int]:
    """The matchers of the selector whose `{` is at `start`, and the index after its `}`."""
    matchers: list[Matcher] = []
    i = _skip_space(query, start + 1)
    if i < len(query) and query[i] == "}":
        return matchers, i + 1
    while True:
        name = _NAME.match(query, i)
        if name is None:
            raise _fail(query, i, "expected a label name")
        i = _skip_space(query, name.end())
        op = next((o for o in _OPS if query.startswith(o, i)), None)
        if op is None:
            raise _fail(query, i, "expected =, !=, =~ or !~")
        i = _skip_space(query, i + len(op))
        if i >= len(query) or query[i] not in '"`':
            raise _fail(query, i, "expected a quoted value")
        end = _string_end(query, i)
        matchers.append(Matcher(name.group(), op, _decode(query[i:end])))
        i = _skip_space(query, end)
        if i < len(query) and query[i] == ",":
            i = _skip_space(query, i + 1)
            continue
        if i < len(query) and query[i] == "}":
            return matchers, i + 1
        raise _fail(query, i, "expected , or }")


def scope_logql(query: str, org: str, workspaces: Sequence[str], visible: Sequence[str]) -> str:
    """`query` with `org="<org>"` and a workspace matcher (`workspaces`: the one asked about,
    or all the principal may see) in front of every stream selector.

    Refused: a matcher on `org` other than `org="<org>"`, an equality on a workspace not in
    `visible`, queries without a stream selector, and anything that does not parse."""
    if not workspaces:
        raise NotFound(f"you can see no workspace of {org}")
    if len(workspaces) == 1:
        tenant = [Matcher("org", "=", org), Matcher("workspace", "=", workspaces[0])]
    else:
        tenant = [
            Matcher("org", "=", org),
            Matcher("workspace", "=~", regex_alternation(workspaces)),
        ]
    out: list[str] = []
    i, selectors = 0, 0
    while i < len(query):
        c = query[i]
        if c in '"`':
            end = _string_end(query, i)
            out.append(query[i:end])
            i = end
        elif c == "{":
            matchers, i = _selector(query, i)
            kept = [m for m in matchers if not _is_tenant(m, org, visible)]
            out.append("{" + ", ".join(m.render() for m in (*tenant, *kept)) + "}")
            selectors += 1
        elif c == "}":
            raise _fail(query, i, "unbalanced }")
        elif c == "#":
            raise _fail(query, i, "comments are not supported")
        else:
            out.append(c)
            i += 1
    if selectors == 0:
        raise InvalidInput(
            'a LogQL query needs a stream selector, e.g. {namespace="shop"} |= "error"'
        )
    return "".join(out)


def _is_tenant(m: Matcher, org: str, visible: Sequence[str]) -> bool:
    """Whether `m` is the principal's own org matcher (dropped: ours replaces it); refuses
    matchers that reach beyond what the principal may read."""
    if m.name == "org":
        if m.op == "=" and m.value == org:
            return True
        raise InvalidInput(
            f"LogQL queries read only your organization's streams ({org}): remove the "
            f"{m.render()} matcher"
        )
    if m.name == "workspace" and m.op == "=" and m.value not in visible:
        raise NotFound(f"workspace {m.value!r} not found")
    return False
