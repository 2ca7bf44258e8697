"""A local HTTP server speaking the providers' wire formats, scripted per test.

`WireServer` listens on 127.0.0.1: queue replies with `wire.reply(...)` (JSON, SSE, an error, or a
hang that never answers) and read back what the real SDK clients sent in `wire.requests`.
Builders produce Anthropic Messages and OpenAI chat.completions bodies and streams, each with a
unique id (LangGraph merges messages with equal ids).
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

from langchain_core.messages import AIMessageChunk


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # a JSON document, or a list of SSE frames (str)
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class WireServer:
    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.requests: list[Seen] = []
        self.released = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                headers = {k.lower(): v for k, v in self.headers.items()}
                server.requests.append(Seen(self.path, headers, body))
                reply = server.replies.pop(0) if server.replies else Reply(500, {"error": "?"})
                if reply.hang:
                    server.released.wait(10)
                    return
                if isinstance(reply.body, list):  # server-sent events
                    payload = "".join(reply.body).encode()
                    content_type = "text/event-stream"
                else:
                    payload = json.dumps(reply.body).encode()
                    content_type = "application/json"
                self.send_response(reply.status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(payload)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def reply(self, *replies: Reply) -> WireServer:
        self.replies.extend(replies)
        return self

    def close(self) -> None:
        self.released.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def _id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:20]}"


# -- Anthropic Messages API ---------------------------------------------------------------------


def anthropic_message(
    *blocks: dict[str, Any], usage: tuple[int, int] = (120, 30), model: str = "claude-sonnet-5-5"
) -> Reply:
    stop = "tool_use" if any(b["type"] == "tool_use" for b in blocks) else "end_turn"
    return Reply(
        body={
            "id": _id("msg_"),
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": list(blocks),
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {"input_tokens": usage[0], "output_tokens": usage[1]},
        }
    )


def text_block(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def tool_use_block(name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"type": "tool_use", "id": _id("toolu_"), "name": name, "input": args}


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


def anthropic_stream(
    text: str, tool: tuple[str, dict[str, Any]] | None = None, usage: tuple[int, int] = (80, 12)
) -> Reply:
    """message_start, a text block in three deltas, an optional tool_use block whose input
    arrives as input_json_delta fragments, message_delta with usage, message_stop."""
    frames = [
        _sse(
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": _id("msg_"),
                    "type": "message",
                    "role": "assistant",
                    "model": "claude-sonnet-5-5",
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": usage[0], "output_tokens": 1},
                },
            },
        ),
        _sse(
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": text_block("")},
        ),
    ]
    step = max(len(text) // 3, 1)
    for start in range(0, len(text), step):
        delta = {"type": "text_delta", "text": text[start : start + step]}
        frames.append(
            _sse("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta})
        )
    frames.append(_sse("content_block_stop", {"type": "content_block_stop", "index": 0}))
    if tool is not None:
        block = {**tool_use_block(tool[0], {}), "input": {}}
        frames.append(
            _sse(
                "content_block_start",
                {"type": "content_block_start", "index": 1, "content_block": block},
            )
        )
        arguments = json.dumps(tool[1])
        half = len(arguments) // 2
        for part in (arguments[:half], arguments[half:]):
            delta = {"type": "input_json_delta", "partial_json": part}
            frames.append(
                _sse(
                    "content_block_delta",
                    {"type": "content_block_delta", "index": 1, "delta": delta},
                )
            )
        frames.append(_sse("content_block_stop", {"type": "content_block_stop", "index": 1}))
    frames += [
        _sse(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "tool_use" if tool else "end_turn", "stop_sequence": None},
                # cumulative, as the API reports it: input tokens included
                "usage": {"input_tokens": usage[0], "output_tokens": usage[1]},
            },
        ),
        _sse("message_stop", {"type": "message_stop"}),
    ]
    return Reply(body=frames)


def anthropic_stream_breaking(kind: str = "overloaded_error", after_text: str = "") -> Reply:
    """A stream that starts (HTTP 200, message_start, and the first text delta when `after_text`
    is given) and then reports an `event: error`."""
    started = anthropic_stream(after_text or "x").body[: 3 if after_text else 2]
    error = {"type": "error", "error": {"type": kind, "message": "Overloaded"}}
    return Reply(body=[*started, _sse("error", error)])


def anthropic_error(status: int, kind: str, message: str, **headers: str) -> Reply:
    body = {"type": "error", "error": {"type": kind, "message": message}}
    return Reply(status=status, body=body, headers=headers)


# -- OpenAI chat.completions API ----------------------------------------------------------------


def openai_completion(
    content: str | None = None,
    tool: tuple[str, dict[str, Any]] | None = None,
    usage: tuple[int, int] = (90, 20),
    model: str = "gpt-4.1",
) -> Reply:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool is not None:
        message["tool_calls"] = [
            {
                "id": _id("call_"),
                "type": "function",
                "function": {"name": tool[0], "arguments": json.dumps(tool[1])},
            }
        ]
    return Reply(
        body={
            "id": _id("chatcmpl-"),
            "object": "chat.completion",
            "created": 1_790_000_000,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": "tool_calls" if tool else "stop",
                }
            ],
            "usage": {
                "prompt_tokens": usage[0],
                "completion_tokens": usage[1],
                "total_tokens": sum(usage),
            },
        }
    )


def openai_stream(
    text: str, tool: tuple[str, dict[str, Any]] | None = None, usage: tuple[int, int] = (70, 9)
) -> Reply:
    """Content deltas, tool_call deltas (name, then arguments in pieces), a finish chunk, the
    usage chunk (stream_options.include_usage) and `data: [DONE]`."""
    ident = _id("chatcmpl-")

    def chunk(delta: dict[str, Any] | None, finish: str | None = None, **extra: Any) -> str:
        choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
        body = {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": 1_790_000_000,
            "model": "gpt-4.1",
            "choices": choices,
            **extra,
        }
        return f"data: {json.dumps(body)}\n\n"

    frames = [chunk({"role": "assistant", "content": ""})]
    step = max(len(text) // 3, 1)
    frames += [chunk({"content": text[i : i + step]}) for i in range(0, len(text), step)]
    if tool is not None:
        call = {"index": 0, "id": _id("call_"), "type": "function"}
        frames.append(
            chunk({"tool_calls": [{**call, "function": {"name": tool[0], "arguments": ""}}]})
        )
        arguments = json.dumps(tool[1])
        half = len(arguments) // 2
        for part in (arguments[:half], arguments[half:]):
            frames.append(chunk({"tool_calls": [{"index": 0, "function": {"arguments": part}}]}))
    frames.append(chunk({}, "tool_calls" if tool else "stop"))
    frames.append(
        chunk(
            None,
            usage={
                "prompt_tokens": usage[0],
                "completion_tokens": usage[1],
                "total_tokens": sum(usage),
            },
        )
    )
    frames.append("data: [DONE]\n\n")
    return Reply(body=frames)


def openai_error(status: int, message: str, **headers: str) -> Reply:
    body = {"error": {"message": message, "type": "error", "code": None}}
    return Reply(status=status, body=body, headers=headers)


def merged(chunks: list[Any]) -> AIMessageChunk:
    """The message a consumer of the stream ends up with."""
    message = cast(AIMessageChunk, chunks[0])
    for chunk in chunks[1:]:
        message = message + cast(AIMessageChunk, chunk)
    return message
