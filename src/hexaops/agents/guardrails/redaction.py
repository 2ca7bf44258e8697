"""Secret redaction of everything a model is sent: user text, tool results, earlier answers.

Secrets reach a conversation through pasted configs, logs and Kubernetes objects. The model
never needs their values, only that they are there, so each one becomes `[REDACTED:<kind>]`;
the stored history keeps the original (the user may need it; the model does not).

Patterns are compiled once and applied in a fixed order (whole blocks such as PEM keys first,
then provider tokens, then assignments), so the result is deterministic and a second pass changes
nothing. Ordinary identifiers (pod names, image digests, UUIDs, trace ids) never match: the
generic rule needs a secret-like name and a high-entropy value that is not a Kubernetes name.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any, Final, TypeVar

from langchain.agents.middleware import AgentMiddleware, ModelRequest, ModelResponse
from langchain.agents.middleware.types import AgentState
from langchain_core.messages import BaseMessage

from hexaops.agents.context import AgentContext

MARK: Final = "[REDACTED:{}]"
_Message = TypeVar("_Message", bound=BaseMessage)


def _mark(kind: str) -> str:
    return MARK.format(kind)


def _whole(kind: str) -> Callable[[re.Match[str]], str]:
    return lambda _: _mark(kind)


def _value(kind: str) -> Callable[[re.Match[str]], str]:
    """Keep the `pre` group (name, separator, opening quote), replace the `value` group."""
    return lambda m: m.group("pre") + _mark(kind) + (m.groupdict().get("post") or "")


# Patterns start at a literal (a token prefix, "://", the end of a secret-like name: the rest
# of the name stays as it is) so long runs of word characters cannot make matching quadratic.
# A quoted or bare value after `=`/`:`; a bare one ends at whitespace or a delimiter.
_VALUE = r"""(?:"(?P<dq>[^"\n]*)"|'(?P<sq>[^'\n]*)'|(?P<bare>[^\s"',;&}\]]+))"""

_PEM = re.compile(
    # The body cannot contain "-----": a BEGIN without its END scans to the next marker only.
    r"-----BEGIN (?P<label>[A-Z0-9 ]{0,20})PRIVATE KEY-----(?:[^-]|-(?!----))*"
    r"-----END (?P=label)PRIVATE KEY-----"
)
_TOKENS: Final[list[tuple[str, re.Pattern[str]]]] = [
    ("anthropic_key", re.compile(r"\bsk-ant-[A-Za-z0-9_\-]{20,}")),
    ("openai_key", re.compile(r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}")),
    ("github_token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})")),
    ("slack_token", re.compile(r"\bxox[abposr]-[A-Za-z0-9\-]{10,}")),
    ("aws_access_key", re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b")),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}")),
]
# scheme://user:password@host — the user and host stay (they say which account), not the password.
_URL_CREDENTIALS = re.compile(
    r"(?P<pre>://[^\s:/@\"']{1,200}:)"
    r"(?P<value>[^\s@/\"']{1,300})(?P<post>@)"
)
_AUTH_HEADER = re.compile(
    r"(?P<pre>\b(?:Bearer\s+|Authorization[\"']?\s*[:=]\s*[\"']?(?:Basic\s+|Token\s+)?))"
    r"(?P<value>[A-Za-z0-9\-._~+/]{16,}=*)",
    re.IGNORECASE,
)
_AWS_SECRET = re.compile(
    r"(?P<pre>\b(?:aws_?secret_?access_?key|SecretAccessKey)[\"']?\s*[:=]\s*[\"']?)"
    r"(?P<value>[A-Za-z0-9/+=]{40})",
    re.IGNORECASE,
)
# password=…, "password": "…", PGPASSWORD=…, DB_PASSWORD: … (YAML, env files, JSON, URLs' query).
_PASSWORD = re.compile(
    r"(?P<pre>(?:password|passwd|passphrase|pgpassword)[\"']?\s*[:=]\s*)" + _VALUE,
    re.IGNORECASE,
)
_SECRET_NAME = (
    r"(?:token|secret|api[_\-]?key|apikey|access[_\-]?key|private[_\-]?key|"
    r"signing[_\-]?key|encryption[_\-]?key|master[_\-]?key|auth[_\-]?key|credentials?)"
)
_GENERIC = re.compile(
    r"(?P<pre>" + _SECRET_NAME + r"[\"']?\s*[:=]\s*[\"']?)(?P<value>[A-Za-z0-9+/=_\-.~]{16,})",
    re.IGNORECASE,
)
# Kubernetes Secret objects: every value under data:/stringData: (YAML and JSON renderings).
_SECRET_KIND = re.compile(r"""(?:^|[\s{,])["']?kind["']?\s*:\s*["']?Secret\b""")
_YAML_DATA = re.compile(r"^(?P<indent>[ \t]*)(?:data|stringData):[ \t]*\n", re.MULTILINE)
_YAML_ENTRY = re.compile(r"^(?P<pre>(?P<indent>[ \t]+)[\w.\-]+:[ \t]*)(?P<value>\S.*)$")
_JSON_DATA = re.compile(r"(?P<pre>\"(?:data|stringData)\"\s*:\s*\{)(?P<body>[^{}]*)\}")
_JSON_ENTRY = re.compile(r"(?P<pre>\"[^\"]+\"\s*:\s*)\"[^\"]*\"")

# Identifiers that look random but are not secrets.
_KUBERNETES_NAME = re.compile(r"^[a-z0-9]+(?:[.\-][a-z0-9]+)+$")


def _entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(value)
    return -sum(c / len(value) * math.log2(c / len(value)) for c in counts.values())


def _looks_random(value: str) -> bool:
    """A value that could be a credential: long, mixed letters and digits, high entropy, and
    not a Kubernetes-style name (secretName: checkout-db-7d9f8b6c5)."""
    if len(value) < 16 or _KUBERNETES_NAME.match(value):
        return False
    has_digit = any(c.isdigit() for c in value)
    has_alpha = any(c.isalpha() for c in value)
    return has_digit and has_alpha and _entropy(value) >= 3.5


def _redact_password(match: re.Match[str]) -> str:
    if match.group("dq") is not None:
        value, quote = match.group("dq"), '"'
    elif match.group("sq") is not None:
        value, quote = match.group("sq"), "'"
    else:
        value, quote = match.group("bare"), ""
    if not value or value.startswith("[REDACTED") or set(value) <= {"*", "x", "X"}:
        return match.group(0)
    return f"{match.group('pre')}{quote}{_mark('password')}{quote}"


def _redact_generic(match: re.Match[str]) -> str:
    if not _looks_random(match.group("value")):
        return match.group(0)
    return match.group("pre") + _mark("secret")


def _redact_yaml_secret_data(text: str) -> str:
    lines = text.split("\n")
    out: list[str] = []
    data_indent: int | None = None
    for line in lines:
        if data_indent is not None:
            entry = _YAML_ENTRY.match(line)
            if entry and len(entry.group("indent").expandtabs()) > data_indent:
                value = entry.group("value")
                if not value.startswith("[REDACTED"):
                    line = entry.group("pre") + _mark("kubernetes_secret")
                out.append(line)
                continue
            data_indent = None
        header = _YAML_DATA.match(line + "\n")
        if header:
            data_indent = len(header.group("indent").expandtabs())
        out.append(line)
    return "\n".join(out)


def _redact_json_secret_data(match: re.Match[str]) -> str:
    body = _JSON_ENTRY.sub(
        lambda m: f'{m.group("pre")}"{_mark("kubernetes_secret")}"', match["body"]
    )
    return match.group("pre") + body + "}"


@lru_cache(maxsize=1024)  # a model call resends the system prompt and the earlier messages
def redact(text: str) -> str:
    """`text` with every secret it contains replaced by `[REDACTED:<kind>]`."""
    if not text:
        return text
    text = _PEM.sub(_whole("private_key"), text)
    if _SECRET_KIND.search(text):
        text = _redact_yaml_secret_data(text)
        text = _JSON_DATA.sub(_redact_json_secret_data, text)
    for kind, pattern in _TOKENS:
        text = pattern.sub(_whole(kind), text)
    text = _URL_CREDENTIALS.sub(_value("password"), text)
    text = _AWS_SECRET.sub(_value("aws_secret_key"), text)
    text = _AUTH_HEADER.sub(_value("bearer_token"), text)
    text = _PASSWORD.sub(_redact_password, text)
    return _GENERIC.sub(_redact_generic, text)


def _redact_content(content: str | list[str | dict[str, Any]]) -> str | list[str | dict[str, Any]]:
    if isinstance(content, str):
        return redact(content)
    blocks: list[str | dict[str, Any]] = []
    for block in content:
        if isinstance(block, str):
            blocks.append(redact(block))
        elif isinstance(block.get("text"), str):
            blocks.append({**block, "text": redact(block["text"])})
        else:
            blocks.append(block)  # images, tool_use blocks: structured, not free text
    return blocks


_SECRET_KEY = re.compile(r"(?:password|passwd|passphrase|" + _SECRET_NAME + r")", re.IGNORECASE)


def redact_args(value: Any, key: str = "") -> Any:
    """Tool-call arguments with secrets redacted: any string under a secret-like key (password,
    token, api_key…) whole, and secrets inside every other string."""
    if isinstance(value, str):
        return f"[REDACTED:{key.lower()}]" if key and _SECRET_KEY.search(key) else redact(value)
    if isinstance(value, dict):
        return {k: redact_args(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_args(v, key) for v in value]
    return value


def redact_message(message: _Message) -> _Message:
    """A copy of `message` with redacted text and tool-call arguments, or the message itself
    when it holds no secret."""
    update: dict[str, Any] = {}
    content = _redact_content(message.content)
    if content != message.content:
        update["content"] = content
    calls = getattr(message, "tool_calls", None)
    if calls:
        redacted = [{**call, "args": redact_args(call["args"])} for call in calls]
        if redacted != calls:
            update["tool_calls"] = redacted
    return message.model_copy(update=update) if update else message


class SecretRedactionMiddleware(AgentMiddleware[AgentState[Any], AgentContext, Any]):
    """Redacts secrets in every message of every model request; graph state keeps the originals.

    Place it last in the middleware list (innermost), so that messages other middleware add to
    the request are redacted too.
    """

    def wrap_model_call(
        self,
        request: ModelRequest[AgentContext],
        handler: Callable[[ModelRequest[AgentContext]], ModelResponse[Any]],
    ) -> ModelResponse[Any]:
        return handler(self._redacted(request))

    async def awrap_model_call(
        self,
        request: ModelRequest[AgentContext],
        handler: Callable[[ModelRequest[AgentContext]], Awaitable[ModelResponse[Any]]],
    ) -> ModelResponse[Any]:
        return await handler(self._redacted(request))

    @staticmethod
    def _redacted(request: ModelRequest[AgentContext]) -> ModelRequest[AgentContext]:
        messages = [redact_message(m) for m in request.messages]
        system = request.system_message
        return request.override(
            messages=messages, system_message=None if system is None else redact_message(system)
        )
