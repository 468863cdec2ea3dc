"""A fake Anthropic Messages API that the real Claude Code CLI can talk to.

It listens on 127.0.0.1, answers ``POST /v1/messages`` with scripted replies
(text and tool calls, streamed as Server-Sent Events, or as plain JSON when
the request does not ask for a stream) and records every request, so tests
can check what history the model was actually shown. Any other path gets
``200 {}`` and is logged.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_MODEL = "claude-sonnet-4-5-20250929"


@dataclass(frozen=True)
class ToolUse:
    """A tool call the scripted model makes: the CLI runs tool ``name`` with ``input``.

    ``id`` defaults to a fresh ``toolu_fake_...`` id. MCP tools are named
    ``mcp__<server>__<tool>``.
    """

    name: str
    input: Mapping[str, Any] = field(default_factory=dict)
    id: str | None = None


@dataclass(frozen=True)
class Reply:
    """One scripted answer to one Messages API request.

    ``status`` other than 200 sends an Anthropic-style error body instead of a
    message; ``delay`` (seconds) is slept before answering. ``tool_use`` (one
    :class:`ToolUse` or several) makes the answer call tools after its text,
    with ``stop_reason: "tool_use"``: the CLI runs them and sends their results
    in its next request (see :attr:`RecordedRequest.tool_results`).
    """

    text: str = ""
    status: int = 200
    delay: float = 0.0
    error_type: str = "api_error"
    model: str | None = None
    input_tokens: int = 10
    output_tokens: int = 5
    tool_use: ToolUse | Sequence[ToolUse] | None = None

    @property
    def tool_uses(self) -> tuple[ToolUse, ...]:
        if self.tool_use is None:
            return ()
        if isinstance(self.tool_use, ToolUse):
            return (self.tool_use,)
        return tuple(self.tool_use)


@dataclass(frozen=True)
class ToolResult:
    """A tool's result as the CLI sent it back to the model.

    ``text`` joins the text blocks of ``content`` (which is kept as sent).
    """

    tool_use_id: str
    content: Any
    is_error: bool

    @property
    def text(self) -> str:
        return _text_of(self.content)


@dataclass(frozen=True)
class RecordedRequest:
    """A request the server received, with its JSON body when it had one."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: Any

    @property
    def messages(self) -> list[dict[str, Any]]:
        if isinstance(self.body, dict) and isinstance(self.body.get("messages"), list):
            return list(self.body["messages"])
        return []

    def count_role(self, role: str) -> int:
        """Messages of ``role`` in the request's history (``system`` entries excluded)."""
        return sum(1 for m in self.messages if m.get("role") == role)

    @property
    def last_user_text(self) -> str:
        """The last user prompt, without the ``<system-reminder>`` blocks the CLI adds."""
        for message in reversed(self.messages):
            if message.get("role") == "user":
                return _text_of(message.get("content"), skip_reminders=True)
        return ""

    @property
    def all_text(self) -> str:
        """Every text block of the history, joined: handy for 'was X carried?' checks."""
        return "\n".join(_text_of(m.get("content")) for m in self.messages)

    @property
    def tool_results(self) -> list[ToolResult]:
        """The ``tool_result`` blocks of the history, oldest first."""
        found = []
        for message in self.messages:
            content = message.get("content")
            if message.get("role") != "user" or not isinstance(content, list):
                continue
            for block in content:
                if isinstance(block, dict) and block.get("type") == "tool_result":
                    found.append(
                        ToolResult(
                            str(block.get("tool_use_id", "")),
                            block.get("content"),
                            block.get("is_error") is True,
                        )
                    )
        return found

    def tool_result(self, tool_use_id: str) -> ToolResult:
        """The result of the tool call ``tool_use_id``; ``KeyError`` when there is none."""
        for result in self.tool_results:
            if result.tool_use_id == tool_use_id:
                return result
        raise KeyError(tool_use_id)


ReplySource = Callable[[RecordedRequest], "Reply | str"]


def echo_reply(request: RecordedRequest) -> Reply:
    """The default script: report what the model was shown.

    The text names the user and assistant turns of the history and repeats the
    last prompt, so an end-to-end test can read from the answer alone whether
    the CLI carried the conversation.
    """
    return Reply(
        f"echo: user_turns={request.count_role('user')} "
        f"assistant_turns={request.count_role('assistant')} "
        f"last={request.last_user_text.strip()[:200]!r}"
    )


class FakeMessagesAPI:
    """A threaded fake of the Messages API, started with ``start()`` or ``with``.

    ``script`` decides the answers: ``None`` echoes (see :func:`echo_reply`), a
    callable gets each :class:`RecordedRequest` and returns a :class:`Reply` or
    a string, and an iterable is consumed one reply per model request, falling
    back to the echo when it runs out.
    """

    def __init__(
        self,
        script: Iterable[Reply | str] | ReplySource | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        model: str = DEFAULT_MODEL,
    ) -> None:
        self.model = model
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._tool_ids = itertools.count(1)
        self._source: ReplySource = echo_reply
        self._queue: Iterator[Reply | str] | None = None
        self.set_script(script)
        self._server = ThreadingHTTPServer((host, port), _make_handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def model_requests(self) -> list[RecordedRequest]:
        """Requests to ``/v1/messages`` (what the CLI sent the model)."""
        with self._lock:
            return [r for r in self.requests if r.path.split("?")[0] == "/v1/messages"]

    def set_script(self, script: Iterable[Reply | str] | ReplySource | None) -> None:
        with self._lock:
            if script is None:
                self._source, self._queue = echo_reply, None
            elif callable(script):
                self._source, self._queue = script, None
            else:
                self._source, self._queue = echo_reply, iter(list(script))

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    def start(self) -> FakeMessagesAPI:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-messages-api",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeMessagesAPI:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _next_reply(self, request: RecordedRequest) -> Reply:
        with self._lock:
            queued = next(self._queue, None) if self._queue is not None else None
            source = self._source
        answer = queued if queued is not None else source(request)
        return Reply(answer) if isinstance(answer, str) else answer

    def _message_id(self) -> str:
        return f"msg_fake_{next(self._ids):06d}"

    def _tool_use_id(self) -> str:
        return f"toolu_fake_{next(self._tool_ids):06d}"


def _text_of(content: Any, *, skip_reminders: bool = False) -> str:
    if isinstance(content, str):
        content = [{"type": "text", "text": content}]
    if not isinstance(content, list):
        return ""
    texts = [
        str(block.get("text", ""))
        for block in content
        if isinstance(block, dict) and block.get("type") == "text"
    ]
    if skip_reminders:
        texts = [_strip_reminders(text) for text in texts]
    return "\n".join(text for text in texts if text)


def _strip_reminders(text: str) -> str:
    while (start := text.find("<system-reminder>")) != -1:
        end = text.find("</system-reminder>", start)
        if end == -1:
            return text[:start].strip()
        text = text[:start] + text[end + len("</system-reminder>") :]
    return text.strip()


def _content(reply: Reply, new_id: Callable[[], str]) -> list[dict[str, Any]]:
    """The content blocks of a scripted answer: its text, then its tool calls."""
    blocks: list[dict[str, Any]] = []
    if reply.text or not reply.tool_uses:
        blocks.append({"type": "text", "text": reply.text})
    for call in reply.tool_uses:
        blocks.append(
            {
                "type": "tool_use",
                "id": call.id or new_id(),
                "name": call.name,
                "input": dict(call.input),
            }
        )
    return blocks


def _stop_reason(content: list[dict[str, Any]]) -> str:
    return "tool_use" if any(block["type"] == "tool_use" for block in content) else "end_turn"


def _block_events(index: int, block: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """A content block streamed as the API streams it: empty at the start, then deltas."""
    if block["type"] == "text":
        start: dict[str, Any] = {"type": "text", "text": ""}
        deltas = [{"type": "text_delta", "text": block["text"]}]
    else:
        start = {**block, "input": {}}
        arguments = json.dumps(block["input"])
        middle = len(arguments) // 2  # two pieces, as the API sends partial JSON
        deltas = [
            {"type": "input_json_delta", "partial_json": piece}
            for piece in (arguments[:middle], arguments[middle:])
        ]
    yield (
        "content_block_start",
        {"type": "content_block_start", "index": index, "content_block": start},
    )
    for delta in deltas:
        yield (
            "content_block_delta",
            {"type": "content_block_delta", "index": index, "delta": delta},
        )
    yield "content_block_stop", {"type": "content_block_stop", "index": index}


def _sse_events(
    reply: Reply, content: list[dict[str, Any]], message_id: str, model: str
) -> Iterator[tuple[str, dict[str, Any]]]:
    yield (
        "message_start",
        {
            "type": "message_start",
            "message": {
                "id": message_id,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": reply.input_tokens, "output_tokens": 1},
            },
        },
    )
    for index, block in enumerate(content):
        yield from _block_events(index, block)
    yield (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": _stop_reason(content), "stop_sequence": None},
            "usage": {"output_tokens": reply.output_tokens},
        },
    )
    yield "message_stop", {"type": "message_stop"}


class _Handler(BaseHTTPRequestHandler):
    """The fake API's requests: each recorded, ``/v1/messages`` answered with the next reply."""

    api: FakeMessagesAPI  # set on the class each server makes (see _make_handler)
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Silence the default stderr access log; requests are recorded instead."""

    def handle(self) -> None:
        # The client may leave mid-reply (a stopped CLI): nothing to report.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            super().handle()

    def _read_body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return raw.decode("utf-8", "replace")

    def _record(self) -> RecordedRequest:
        request = RecordedRequest(
            self.command, self.path, dict(self.headers.items()), self._read_body()
        )
        self.api._record(request)
        return request

    def _send_json(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_HEAD(self) -> None:
        self._record()
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        self._record()
        self._send_json(200, {})

    def do_POST(self) -> None:
        request = self._record()
        if request.path.split("?")[0] != "/v1/messages":
            self._send_json(200, {})
            return
        reply = self.api._next_reply(request)
        if reply.delay:
            time.sleep(reply.delay)
        model = reply.model or self.api.model
        if reply.status != 200:
            self._send_json(
                reply.status,
                {
                    "type": "error",
                    "error": {
                        "type": reply.error_type,
                        "message": reply.text or "injected error",
                    },
                },
            )
            return
        message_id = self.api._message_id()
        content = _content(reply, self.api._tool_use_id)
        body = request.body if isinstance(request.body, dict) else {}
        if body.get("stream"):
            self._stream(reply, content, message_id, model)
        else:
            self._send_json(200, _plain_message(reply, content, message_id, model))

    def _stream(
        self, reply: Reply, content: list[dict[str, Any]], message_id: str, model: str
    ) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        for name, payload in _sse_events(reply, content, message_id, model):
            self.wfile.write(f"event: {name}\ndata: {json.dumps(payload)}\n\n".encode())
            self.wfile.flush()
        self.close_connection = True


def _make_handler(api: FakeMessagesAPI) -> type[BaseHTTPRequestHandler]:
    return type("Handler", (_Handler,), {"api": api})


def _plain_message(
    reply: Reply, content: list[dict[str, Any]], message_id: str, model: str
) -> dict[str, Any]:
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": _stop_reason(content),
        "stop_sequence": None,
        "usage": {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens},
    }


def offline_environment(base_url: str, home: str) -> dict[str, str]:
    """Environment variables that point the CLI at ``base_url`` and keep it offline.

    ``home`` becomes HOME and TMPDIR, so transcripts and settings stay in a
    throw-away directory.
    """
    return {
        "ANTHROPIC_BASE_URL": base_url,
        "ANTHROPIC_API_KEY": "sk-test",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_TELEMETRY": "1",
        "CLAUDE_CODE_MAX_RETRIES": "1",
        "HOME": home,
        "TMPDIR": home,
    }
