"""Tenant enforcement for raw PromQL: every vector or matrix selector gets the principal's
`org` and `workspace` matchers.

A small lexer (strings, comments, numbers incl. 1e3 / 0x1f / Inf / NaN, durations, identifiers,
operators) and a rewriter that walks the tokens: an identifier that is not a keyword and is not
followed by `(` is a metric name, i.e. a selector; so is a bare `{…}`. Label lists after
`by/without/on/ignoring/group_left/group_right` are skipped, as are `offset`/`@` arguments.
Matchers are appended inside the selector's braces; PromQL ANDs repeated matchers on one label,
so a query's own `org="globex"` then matches nothing. Whatever the lexer does not recognise is
refused (InvalidInput) rather than passed on: a query is forwarded only when every selector in
it is known to carry the tenant matchers.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Final

from hexaops.platform.errors import InvalidInput

MAX_QUERY_CHARS: Final = 4000

# Reserved words of the PromQL lexer: never metric names.
_KEYWORDS: Final = frozenset(
    {"and", "or", "unless", "atan2", "by", "without", "on", "ignoring", "group_left",
     "group_right", "offset", "bool"}
)  # fmt: skip
_LABEL_LIST_KEYWORDS: Final = frozenset(
    {"by", "without", "on", "ignoring", "group_left", "group_right"}
)
_AGGREGATIONS: Final = frozenset(
    {"sum", "avg", "min", "max", "count", "stddev", "stdvar", "topk", "bottomk", "quantile",
     "count_values", "group", "limitk", "limit_ratio"}
)  # fmt: skip
_MATCH_OPS: Final = ("=~", "!~", "!=", "=")

_TOKEN: Final = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n]*)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`[^`]*`)
  | (?P<duration>(?:[0-9]+(?:ms|s|m|h|d|w|y))+(?![A-Za-z0-9_]))
  | (?P<number>(?:0[xX][0-9a-fA-F]+|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)(?![A-Za-z0-9_]))
  | (?P<ident>[A-Za-z_][A-Za-z0-9_:]*)
  | (?P<op>=~|!~|!=|==|<=|>=|[-+*/%^<>=,(){}\[\]@:])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str  # string | duration | number | ident | op
    text: str


def tokenize(query: str) -> list[Token]:
    """The tokens of `query` without whitespace and comments; InvalidInput on anything else."""
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidInput(f"a PromQL query may have at most {MAX_QUERY_CHARS} characters")
    tokens: list[Token] = []
    at = 0
    while at < len(query):
        match = _TOKEN.match(query, at)
        if match is None:
            raise InvalidInput(
                f"cannot parse the PromQL at character {at + 1}: {query[at : at + 20]!r}"
            )
        kind = match.lastgroup or ""
        if kind not in ("ws", "comment"):
            text = match.group()
            if kind == "ident" and text.lower() in ("inf", "nan"):
                kind = "number"
            tokens.append(Token(kind, text))
        at = match.end()
    return tokens


def enforce_tenant(query: str, matchers: list[str]) -> str:
    """`query` with `matchers` (e.g. `org="acme"`) added to every selector; InvalidInput when
    the query cannot be read safely."""
    tokens = tokenize(query)
    if not tokens:
        raise InvalidInput("the PromQL query is empty")
    out: list[str] = []
    depth: list[str] = []  # open brackets: ( [
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if tok.kind == "ident":
            word = tok.text.lower()
            if word in _LABEL_LIST_KEYWORDS:
                out.append(tok.text)
                i += 1
                if i < len(tokens) and tokens[i].text == "(":
                    i = _copy_label_list(tokens, i, out)
                elif word in ("by", "without", "on", "ignoring"):
                    raise InvalidInput(f"`{tok.text}` must be followed by a label list (…)")
                continue
            if word in _KEYWORDS:
                if nxt is not None and nxt.text == "{":
                    raise InvalidInput(f"`{tok.text}` is a keyword, not a metric name")
                out.append(tok.text)
                i += 1
                continue
            if nxt is not None and nxt.text == "(":  # a function or aggregation call
                out.append(tok.text)
                i += 1
                continue
            if word in _AGGREGATIONS and nxt is not None and nxt.text.lower() in ("by", "without"):
                out.append(tok.text)  # `sum by (x) (…)`
                i += 1
                continue
            if out and out[-1] == "@":
                raise InvalidInput("`@` takes a Unix time, start() or end()")
            # A metric name: the selector is the name plus optional braces.
            if nxt is not None and nxt.text == "{":
                i = _copy_selector(tokens, i + 1, out, tok.text, matchers)
            else:
                out.append(f"{tok.text}{{{','.join(matchers)}}}")
                i += 1
            continue
        if tok.text == "{":
            i = _copy_selector(tokens, i, out, "", matchers)
            continue
        if tok.text == "}":
            raise InvalidInput("unbalanced `}` in the PromQL query")
        if tok.text in ("(", "["):
            depth.append(tok.text)
        elif tok.text in (")", "]") and (
            not depth or depth.pop() != {")": "(", "]": "["}[tok.text]
        ):
            raise InvalidInput(f"unbalanced `{tok.text}` in the PromQL query")
        out.append(tok.text)
        i += 1
    if depth:
        raise InvalidInput(f"unclosed `{depth[-1]}` in the PromQL query")
    return _join(out)


def _join(parts: list[str]) -> str:
    """The tokens as one query: spaces between them except next to brackets and commas, where
    leaving one out cannot merge two tokens into a different one."""
    text = parts[0]
    for prev, part in itertools.pairwise(parts):
        tight = prev in ("(", "[") or part in (")", "]", ",", "(", "[")
        text += part if tight else " " + part
    return text


def _copy_label_list(tokens: list[Token], i: int, out: list[str]) -> int:
    """Copy `( label, label … )` starting at tokens[i] == "("; return the index after it."""
    out.append("(")
    i += 1
    expect_label = True
    while i < len(tokens):
        tok = tokens[i]
        if tok.text == ")":
            out.append(")")
            return i + 1
        if expect_label and tok.kind in ("ident", "string"):
            out.append(tok.text)
            expect_label = False
        elif not expect_label and tok.text == ",":
            out.append(",")
            expect_label = True
        else:
            raise InvalidInput(f"unexpected {tok.text!r} in a label list")
        i += 1
    raise InvalidInput("unclosed label list in the PromQL query")


def _copy_selector(
    tokens: list[Token], i: int, out: list[str], name: str, matchers: list[str]
) -> int:
    """Copy the matchers `{…}` starting at tokens[i] == "{" and append the tenant matchers;
    return the index after the closing brace."""
    i += 1
    parts: list[str] = []
    while i < len(tokens) and tokens[i].text != "}":
        label = tokens[i]
        if label.kind not in ("ident", "string"):
            raise InvalidInput(f"unexpected {label.text!r} in a selector: expected a label name")
        op = tokens[i + 1] if i + 1 < len(tokens) else None
        if label.kind == "string" and (op is None or op.text in (",", "}")):
            parts.append(label.text)  # {"metric.name"}: a quoted metric name
            i += 1
        else:
            value = tokens[i + 2] if i + 2 < len(tokens) else None
            if op is None or op.text not in _MATCH_OPS or value is None or value.kind != "string":
                raise InvalidInput(
                    f'malformed label matcher after {label.text!r}: use label="value", '
                    'label!="value", label=~"regex" or label!~"regex"'
                )
            parts.append(f"{label.text}{op.text}{value.text}")
            i += 3
        if i < len(tokens) and tokens[i].text == ",":
            i += 1
        elif i < len(tokens) and tokens[i].text != "}":
            raise InvalidInput(f"expected `,` or `}}` in a selector, not {tokens[i].text!r}")
    if i >= len(tokens):
        raise InvalidInput("unclosed `{` in the PromQL query")
    out.append(f"{name}{{{','.join([*parts, *matchers])}}}")
    return i + 1
